"""FitNets (Romero et al., ICLR 2015) and FGFI (Wang et al., CVPR 2019): MSE imitation of FPN maps, optionally masked.

The masked variants are Inside GT Box, LD's Main Region and FGFI's fine-grained imitation; the mask comes from a
guide (`gt_box`, `main_region`, `fine_grained`) as `fg`. FitNets proper has none."""
from __future__ import annotations

from torch import Tensor, nn

from repro.errors import ReproError


class Adaptation(nn.Module):
    """A trainable conv from the student's FPN width to the teacher's (FitNets' regressor r, FGFI's and DeFeat's
    adaptation layer), shared by every level or one per level.

    Args:
        student_channels, teacher_channels: the two FPN widths (the detector fills them in).
        kernel_size: odd; 'same' padding keeps the map size.
        num_levels: 0 shares one conv across levels; n > 0 builds one conv per level (DeFeat's code does).
        owner: the loss's name, for error messages.
    """

    def __init__(self, student_channels: int | None, teacher_channels: int | None, kernel_size: int = 1,
                 num_levels: int = 0, owner: str = 'feature loss'):
        super().__init__()
        if student_channels is None or teacher_channels is None:
            raise ReproError(f'{owner} needs student_channels and teacher_channels for its adaptation layer: use it '
                             'in a feature term (the detector fills them in) or set adapt=False')
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ReproError(f'{owner} kernel_size is {kernel_size}: use an odd size (1, 3, ...)')
        if num_levels < 0:
            raise ReproError(f'{owner} num_levels is {num_levels}: use 0 (one shared conv) or the number of levels')
        self.owner = owner
        self.convs = nn.ModuleList(
            nn.Conv2d(student_channels, teacher_channels, kernel_size, padding=kernel_size // 2)
            for _ in range(max(num_levels, 1)))
        self.per_level = num_levels > 0

    def forward(self, levels: list[Tensor]) -> list[Tensor]:
        """levels: per level (N, C_s, H, W) -> per level (N, C_t, H, W)."""
        if self.per_level and len(levels) != len(self.convs):
            raise ReproError(f'{self.owner} has {len(self.convs)} per-level adaptation convs but got {len(levels)} '
                             'FPN levels: set num_levels to the number of levels')
        return [self.convs[i if self.per_level else 0](x) for i, x in enumerate(levels)]


def adaptation_or_check(adapt: bool, student_channels, teacher_channels, kernel_size: int, num_levels: int,
                        owner: str) -> Adaptation | None:
    """The adaptation layer, or None after checking that the raw maps can be compared (equal widths)."""
    if adapt:
        return Adaptation(student_channels, teacher_channels, kernel_size, num_levels, owner)
    if None not in (student_channels, teacher_channels) and student_channels != teacher_channels:
        raise ReproError(f'{owner}: student and teacher FPN widths differ ({student_channels} vs {teacher_channels}) '
                         'and adapt=False: set adapt=True')
    return None


def masked_square_error(student: Tensor, teacher: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
    """(Σ over the masked locations and all channels of (s − t)², number of masked locations) of one level.

    Args:
        student, teacher: (N, C, H, W); the teacher is detached.
        mask: (N, H, W) 0/1, or None for every location.
    """
    sq = (student - teacher.detach()) ** 2
    if mask is None:
        n, _, h, w = sq.shape
        return sq.sum(), sq.new_tensor(float(n * h * w))
    mask = mask.to(sq.dtype)
    return (sq * mask[:, None]).sum(), mask.sum()


class FitNetsLoss(nn.Module):
    """FitNets hint loss (Romero et al., ICLR 2015) between adapted student and teacher FPN maps, optionally masked.

    Per level l: Σ_{masked (n, h, w), c} (r(s) − t)² / (C · M_l), M_l the number of masked locations of the level
    in the batch (every location without a mask): the mean squared error over the masked locations and channels,
    as LD's released imitation code computes it (HikariTJU/LD, `IMLoss` = `F.mse_loss` per FPN level, the losses
    summed over levels; CrossKD's Table 7 starred imitation rows carry LD's numbers). Summed over levels; a level
    without a masked location adds 0. FitNets' own ½‖·‖² sum is not used: on dense FPN maps its scale depends on
    the image size.

    Args:
        student_channels, teacher_channels: FPN widths (filled in by the detector).
        adapt: a trainable conv r from the student's width to the teacher's (FitNets' regressor); False compares the
            raw maps (LD's code does: its student and teacher are both 256 wide).
        kernel_size: r's kernel (1: a 1x1 conv).
        num_levels: 0 shares r across levels, n > 0 gives each level its own.
    """

    def __init__(self, student_channels: int | None = None, teacher_channels: int | None = None, adapt: bool = True,
                 kernel_size: int = 1, num_levels: int = 0):
        super().__init__()
        self.adapt = adaptation_or_check(adapt, student_channels, teacher_channels, kernel_size, num_levels,
                                         type(self).__name__)

    def forward(self, student: list[Tensor], teacher: list[Tensor], fg: list[Tensor] | None = None,
                bg: list[Tensor] | None = None) -> Tensor:
        """student, teacher: per level (N, C, H, W); fg: optional per-level (N, H, W) 0/1 imitation mask (None:
        every location); bg: ignored (the `gt_box` guide returns it too). Returns a scalar."""
        if self.adapt is not None:
            student = self.adapt(student)
        masks = fg if fg is not None else [None] * len(student)
        sums, counts = zip(*(masked_square_error(s, t, m) for s, t, m in zip(student, teacher, masks)))
        return self.reduce(list(sums), list(counts), student[0].shape[1])

    def reduce(self, sums: list[Tensor], counts: list[Tensor], channels: int) -> Tensor:
        """Per-level mean over masked locations and channels, summed over levels."""
        return sum(s / (channels * n.clamp(min=1)) for s, n in zip(sums, counts))


class FGFILoss(FitNetsLoss):
    """Fine-grained feature imitation (Wang et al., CVPR 2019, "Distilling Object Detectors with Fine-grained
    Feature Imitation"): Σ_{masked, c} (f_adap(s) − t)² / (2 N_p), N_p the number of masked locations.

    The mask is the paper's imitation mask I (`fine_grained` guide). FGFI imitates one feature map; on an FPN the
    sum and N_p run over all levels (and the batch), as the official code pools N_p over its batch. The adaptation
    layer is the official code's 3x3 conv (twangnh/Distilling-Object-Detectors) without its ReLU: those VGG features
    were post-ReLU, FPN outputs are signed, and a ReLU would make negative teacher values unreachable.

    Args: as FitNetsLoss; `fg` is required.
    """

    def __init__(self, student_channels: int | None = None, teacher_channels: int | None = None, adapt: bool = True,
                 kernel_size: int = 3, num_levels: int = 0):
        super().__init__(student_channels, teacher_channels, adapt, kernel_size, num_levels)

    def forward(self, student: list[Tensor], teacher: list[Tensor], fg: list[Tensor] | None = None,
                bg: list[Tensor] | None = None) -> Tensor:
        if fg is None:
            raise ReproError("FGFILoss needs the imitation mask: give its term guide=dict(type='fine_grained')")
        return super().forward(student, teacher, fg)

    def reduce(self, sums: list[Tensor], counts: list[Tensor], channels: int) -> Tensor:
        """Σ over every level / (2 · masked locations over every level)."""
        return sum(sums) / (2 * sum(counts).clamp(min=1))
