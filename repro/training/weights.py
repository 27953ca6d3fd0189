"""Every checkpoint a config names, resolved one way: ImageNet backbones (`torchvision://resnet50`,
`open-mmlab://mmdet/mobilenet_v2`, Swin's URL), zoo teachers, LD's teacher and HEAD's.

    python -m repro.weights list TABLE     what a table's coco-profile runs load, and what is missing
    python -m repro.weights fetch TABLE    download what is missing (on a machine with internet)

The order: a local path as is; for a reference with a URL behind it, the file of the URL's name in the weights
folder (`$REPRO_WEIGHTS`, default torch's hub cache `~/.cache/torch/hub/checkpoints`, where mmengine and torchvision
keep their downloads too); else a download into that folder, unless `REPRO_OFFLINE` is set. When nothing works: one
line naming the file, its URL and how to provide it; never a random initialisation.

`register()` makes mmengine's CheckpointLoader use this for `torchvision://`, `modelzoo://`, `open-mmlab://`,
`openmmlab://` and http(s) URLs, so a backbone's `init_cfg=dict(type='Pretrained', ...)` loads without torchvision
(whose ops do not register against the CPU build of torch 2.13) and through the same `weights_only` reader as every
other checkpoint. The names behind `torchvision://` and `open-mmlab://` are mmengine's own tables (mmengine/hub/).
"""
from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from urllib.parse import urlparse

from repro.errors import ReproError

WEIGHTS_ENV = 'REPRO_WEIGHTS'
OFFLINE_ENV = 'REPRO_OFFLINE'  # set (to anything): never download, only look in the weights folder
SCHEMES = {'torchvision': ('torchvision_0.12.json',), 'modelzoo': ('torchvision_0.12.json',),
           'open-mmlab': ('openmmlab.json', 'deprecated.json'), 'openmmlab': ('openmmlab.json', 'deprecated.json')}
_HASH = re.compile(r'-([0-9a-f]{8,})\.pth$')  # torchvision's and OpenMMLab's names end with a sha256 prefix


def weights_dir() -> Path:
    if os.environ.get(WEIGHTS_ENV):
        return Path(os.environ[WEIGHTS_ENV]).expanduser()
    import torch.hub
    return Path(torch.hub.get_dir()) / 'checkpoints'


@functools.lru_cache(maxsize=None)
def _hub_table(name: str) -> dict[str, str]:
    import mmengine
    return json.loads((Path(mmengine.__path__[0]) / 'hub' / name).read_text())


def source_url(ref: str) -> str | None:
    """The URL behind a checkpoint reference; None for a local path."""
    scheme, sep, name = ref.partition('://')
    if not sep:
        return None
    if scheme in ('http', 'https'):
        return ref
    if scheme not in SCHEMES:
        raise ReproError(f"checkpoint {ref}: unknown scheme {scheme}://; give a path, an http(s) URL or one of "
                         f"{', '.join(s + '://' for s in SCHEMES)}")
    tables = [_hub_table(t) for t in SCHEMES[scheme]]
    if len(tables) == 2:  # open-mmlab: a deprecated name first becomes its new one
        name = tables[1].get(name, name)
    url = tables[0].get(name)
    if url is None:
        raise ReproError(f"checkpoint {ref}: {scheme}:// has no model {name!r} (mmengine's hub/{SCHEMES[scheme][0]} "
                         'lists the names)')
    return url


def local_file(ref: str, folder: Path | None = None) -> Path:
    """Where a reference's weights are, or would be once downloaded (not checked): in `folder`, default the weights
    folder."""
    url = source_url(ref)
    return Path(ref).expanduser() if url is None else (folder or weights_dir()) / Path(urlparse(url).path).name


def resolve(ref: str, what: str = '') -> Path:
    """The local file of a checkpoint reference, downloaded into the weights folder if need be; `what` names it in
    errors ('teacher', 'backbone')."""
    url = source_url(ref)
    path = local_file(ref)
    if url is None or path.is_file():
        return path  # a missing local path is reported by the reader (repro.training.checkpoint), with the path
    label = f'{what} weights' if what else 'weights'
    how = (f'download the file into {path.parent} (python -m repro.weights fetch TABLE, on a machine with internet), or '
           f'set ${WEIGHTS_ENV} to a folder holding it')
    if os.environ.get(OFFLINE_ENV):
        raise ReproError(f'{label} {path.name} are not in {path.parent} and ${OFFLINE_ENV} forbids '
                         f'downloading them from {url}; {how}')
    try:
        download(url, path)
    except Exception as err:  # any network or disk failure: one line, nothing half-written left
        detail = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
        raise ReproError(f'{label} {path.name} are not in {path.parent} and cannot be downloaded from '
                         f'{url} ({detail}); {how}') from err
    return path


def download(url: str, target: Path) -> None:
    """Download to a temporary name, check the sha256 prefix the file name carries (if any), then rename."""
    import torch.hub
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + '.part')
    match = _HASH.search(target.name)
    try:
        torch.hub.download_url_to_file(url, str(tmp), hash_prefix=match and match.group(1), progress=True)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, target)


def load_from_repro_weights(filename: str, map_location=None) -> dict:  # mmengine logs the name's tail
    from repro.training.checkpoint import load_checkpoint_file
    return load_checkpoint_file(resolve(filename, 'pretrained'))


def register() -> None:
    """Make mmengine's CheckpointLoader resolve `torchvision://`, `open-mmlab://` and URLs here. Idempotent."""
    from mmengine.runner import CheckpointLoader
    for prefixes in (('torchvision://', 'modelzoo://'), ('open-mmlab://', 'openmmlab://'), ('http://', 'https://')):
        CheckpointLoader.register_scheme(prefixes, load_from_repro_weights, force=True)


def needed(compiled) -> list[tuple[str, str]]:
    """(what, reference) for every checkpoint a compiled run loads: its detector's pretrained parts (a distiller's
    student; its teacher is a guest that is never initialised), the teacher's weights unless the harness trains
    them, and the checkpoint an evaluation run evaluates."""
    cfg = compiled.cfg
    refs = [('pretrained', ref) for ref in _pretrained(cfg.model.to_dict())]
    if compiled.teacher and not compiled.teacher_trained_here and compiled.teacher_checkpoint:
        refs.append(('teacher', compiled.teacher_checkpoint))
    if cfg.get('evaluate_from'):
        refs.append(('evaluated', cfg.evaluate_from))
    return list(dict.fromkeys(refs))


def _pretrained(node) -> list[str]:
    if isinstance(node, (list, tuple)):
        return [ref for item in node for ref in _pretrained(item)]
    if not isinstance(node, dict):
        return []
    found = []
    for key, value in node.items():
        if key in ('teacher', 'teacher_config'):
            continue
        if key == 'init_cfg':
            for init in value if isinstance(value, (list, tuple)) else [value]:
                if isinstance(init, dict) and init.get('type') == 'Pretrained' and init.get('checkpoint'):
                    found.append(init['checkpoint'])
        elif key == 'pretrained' and isinstance(value, str):
            found.append(value)
        else:
            found.extend(_pretrained(value))
    return found


