"""KD loss modules: each maps matched student/teacher tensors to a per-location loss; the detector weights and
normalises. `LOSSES` is a plain dict from a config `type` to its class."""
from repro.distill.losses.box_iou_kd import BoxIoUKD
from repro.distill.losses.centerness_kd import CenternessKD
from repro.distill.losses.defeat import DeFeatLoss
from repro.distill.losses.distribution_kl_kd import DistributionKLKD
from repro.distill.losses.fgd import FGDLoss
from repro.distill.losses.fitnets import FGFILoss, FitNetsLoss
from repro.distill.losses.fkd import FKDLoss
from repro.distill.losses.frs import FRSLoss
from repro.distill.losses.gid import GIDFeatureLoss, GIDRelationLoss, GIDResponseLoss
from repro.distill.losses.pfi import PFILoss
from repro.distill.losses.pgd import PGDLoss
from repro.distill.losses.pkd import PKDLoss
from repro.distill.losses.quality_focal_kd import QualityFocalKD
from repro.distill.losses.rank_mimicking import RankMimickingLoss
from repro.distill.losses.ssim import SKDLoss

LOSSES = {cls.__name__: cls for cls in (QualityFocalKD, DistributionKLKD, BoxIoUKD, CenternessKD, PKDLoss, PGDLoss,
                                        RankMimickingLoss, PFILoss, FitNetsLoss, FGFILoss, DeFeatLoss, SKDLoss,
                                        FGDLoss, FKDLoss, FRSLoss, GIDFeatureLoss, GIDRelationLoss, GIDResponseLoss)}


def build_loss(cfg: dict, **defaults):
    """Build a loss from its config; `defaults` (e.g. student_channels) fill the arguments that the loss's
    __init__ takes and the config does not set."""
    import inspect

    from repro.errors import ReproError
    cfg = dict(cfg)
    name = cfg.pop('type', None)
    if name not in LOSSES:
        raise ReproError(f"unknown KD loss type '{name}': choose one of {', '.join(sorted(LOSSES))}")
    accepted = inspect.signature(LOSSES[name]).parameters
    cfg = {**{k: v for k, v in defaults.items() if k in accepted}, **cfg}
    try:
        return LOSSES[name](**cfg)
    except TypeError as err:
        raise ReproError(f'bad arguments for KD loss {name}: {err}') from err
