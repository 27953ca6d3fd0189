"""Real-size smoke test of the coco profile: every config trains 2 iterations at the papers' input size on a
generated root, with stand-in (random) weights, then evaluates on a generated val image.

    python -m repro.smoke                          # every config under configs/ (hours on 2 CPU cores)
    python -m repro.smoke gfl_r50 crosskd_gfl      # some configs, by name
    python -m repro.smoke --results                # also put the table into benchmarks/RESULTS.md

Each config runs as `python -m repro.train CONFIG --profile coco` does for a user: the same code path. What
differs is what a user could pass too: `--data-root` (a generated COCO-2017-layout root, or a CrowdHuman-layout
one, with 4 train images and 1 val image of 640-1333 px, repro/data/real_size.py), `$REPRO_WEIGHTS` (a folder of
stand-in checkpoints under the real files' names, made from the configs' own modules), `teacher.checkpoint=PATH`
for teachers without zoo weights, `--trust-teacher` (a random teacher cannot detect), `train_cfg.max_epochs=1`
and a log line per iteration. Stand-in weights give meaningless AP: the smoke checks that the path runs, and
measures its time and memory.

Results (status, seconds per iteration, peak memory, parameters, the dynamics pass's share of a real epoch) go to
a JSON file; a config already `ok` there is not run again unless `--again`.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from repro.errors import ReproError
from repro.profiles import CONFIG_DIR, REPO_ROOT
from repro.training.provenance import git_commit

KINDS = ('detectors', 'teachers', 'methods')
ITERATIONS = 2  # by default: 4 train images, 2 per iteration (every config's batch per process)
COCO_ITERATIONS_PER_EPOCH = 117266 // 16  # train2017 images with boxes over the papers' 8 x 2 batch
TIMEOUT_S = 3600
RESULTS_MD = REPO_ROOT / 'benchmarks' / 'RESULTS.md'
SECTION = '## Real-size smoke (`python -m repro.smoke`)'


def all_configs() -> list[Path]:
    return sorted(p for kind in KINDS for p in (CONFIG_DIR / kind).glob('*.py'))


def pick(names: list[str]) -> list[Path]:
    """Configs by name: `gfl_r50` (every kind that has one) or `detectors/gfl_r50`; all of them for none."""
    configs = all_configs()
    if not names:
        return configs
    picked, unknown = [], []
    for name in names:
        name = name.removesuffix('.py').removeprefix('configs/')
        found = [p for p in configs if name in (p.stem, f'{p.parent.name}/{p.stem}')]
        picked += [p for p in found if p not in picked]
        unknown += [] if found else [name]
    if unknown:
        raise ReproError(f"no config named {', '.join(unknown)} under configs/{{{','.join(KINDS)}}}/")
    return picked


def roots(out: Path, iterations: int = ITERATIONS) -> dict[str | None, Path]:
    """The generated data roots, by dataset (None: COCO), made once under `out`: 4 train images listed often
    enough for `iterations` of 2 images, and 1 val image (an evaluation, and the dynamics pass, at the least cost)."""
    from repro.data.real_size import write_coco_root, write_crowdhuman_root
    made = {}
    for name, write in ((None, write_coco_root), ('crowdhuman', write_crowdhuman_root)):
        root = out / 'data' / f"{name or 'coco'}-{iterations}"
        if not (root / 'COMPLETE').exists():
            shutil.rmtree(root, ignore_errors=True)
            write(root, num_val=1, train_entries=max(4, 2 * iterations))
            (root / 'COMPLETE').write_text('')
        made[name] = root
    return made


def _build(model_cfg):
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    import repro.distill  # noqa: F401  (the distillers' registry entries)
    from mmengine.config import ConfigDict
    cfg = model_cfg.to_dict() if hasattr(model_cfg, 'to_dict') else dict(model_cfg)
    return MODELS.build(ConfigDict(_without_init(cfg)))  # a ConfigDict: TwoStageDetector reads train_cfg.rpn


def _without_init(node):
    if isinstance(node, dict):
        return {k: _without_init(v) for k, v in node.items() if k not in ('init_cfg', 'pretrained')}
    if isinstance(node, list):
        return [_without_init(v) for v in node]
    return node


def _owners(node):
    """(checkpoint, module config) of every part of a model config that loads a Pretrained checkpoint."""
    if isinstance(node, list):
        for item in node:
            yield from _owners(item)
    if not isinstance(node, dict):
        return
    init = node.get('init_cfg')
    if isinstance(init, dict) and init.get('type') == 'Pretrained' and 'type' in node:
        yield init['checkpoint'], node
    for key, value in node.items():
        if key not in ('teacher', 'teacher_config', 'init_cfg'):
            yield from _owners(value)


def make_standins(compiled, folder: Path, images: list[Path] = ()) -> list[str]:
    """Write a random checkpoint for every weight file the run loads that the folder lacks, with its real name and
    the keys and shapes of the module that loads it; a detector's batch norms are calibrated on `images` (the
    run's own train images) where given. Returns what it wrote."""
    import torch

    from repro.training.weights import local_file, needed
    written = []
    owners = dict(_owners(compiled.cfg.model.to_dict()))
    for what, ref in needed(compiled):
        target = local_file(ref, folder)
        if target.is_file():
            continue
        with torch.random.fork_rng():  # the same stand-in on every machine and in every order of configs
            torch.manual_seed(0)
            state = _standin_state(what, ref, compiled, owners, images)
        target.parent.mkdir(parents=True, exist_ok=True)
        torch.save(state, target)
        written.append(target.name)
    return written


def _standin_state(what: str, ref: str, compiled, owners: dict, images: list[Path] = ()) -> dict:
    """Random weights, batch norms calibrated, for one file: a bare state dict for a backbone (as torchvision's and
    OpenMMLab's files; a classifier's checkpoint, CSPNeXt's, holds it under the prefix its init_cfg strips), a
    checkpoint for a teacher."""
    if what == 'pretrained':
        prefix = owners[ref]['init_cfg'].get('prefix') or ''
        return {prefix + k: v for k, v in calibrated(_build(owners[ref])).state_dict().items()}
    model = compiled.teacher.cfg.model if what == 'teacher' else compiled.cfg.model
    return {'state_dict': calibrated(_build(model), images=images).state_dict(), 'meta': {'stand_in': True}}


def calibration_images(root: Path, count: int = 2) -> list[Path]:
    """The first train images of a generated root (repro/data/real_size.py names them train_*.jpg)."""
    return sorted(root.rglob('train_*.jpg'))[:count]


def _pixels(path: Path, side: int):
    """An image as its detector's pipeline loads it (BGR, 0-255, CHW float), resized to `side` px on its long side."""
    import mmcv
    import torch
    image = torch.from_numpy(mmcv.imread(str(path))).permute(2, 0, 1)[None].float()
    scale = side / max(image.shape[-2:])
    return torch.nn.functional.interpolate(image, scale_factor=scale, mode='bilinear', align_corners=False)[0]


def calibrated(model, size: int = 320, seed: int = 0, images: list[Path] = ()):
    """The model with its batch norms' running statistics set from one training-mode pass over two random images,
    as a trained model's are set from data. A random model's defaults (mean 0, variance 1) normalise nothing in eval
    mode, where a teacher runs: on YOLOX's unnormalised 0-255 pixels a random YOLOX-L predicted log-widths of 10^6
    at 640 px, 9 once calibrated (make_standins' seed 0; seeds 1 and 3 gave 67 and 98: noise is not data, and at
    YOLOX's 1280 px mosaics they grow again, which the YOLOX adapter's log-size cap absorbs). A detector's images go
    through its own data preprocessor; a backbone's are as an ImageNet-normalised image (unit scale).

    Noise is not the data a run sees, though: calibrated on noise, YOLOX-L's first head-tower features averaged
    |x| = 2.8 on noise but 18-56 on two generated train images, and PGD-YOLOX's feature loss, a sum over C·H·W,
    reached 1e7 at the first iteration and diverged the student. Calibrated on those two images (`images`, at 640 px
    on the long side), the same features averaged 0.1-0.4 on them. So the smoke calibrates a detector on its run's
    own train images; noise remains for tests and backbones."""
    import torch
    from torch.nn.modules.batchnorm import _BatchNorm
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]
    momenta = [norm.momentum for norm in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average: after one pass, that pass's statistics
    generator = torch.Generator().manual_seed(seed)
    model.train()
    with torch.no_grad():
        if hasattr(model, 'data_preprocessor') and hasattr(model, 'extract_feat'):  # a detector
            pixels = ([_pixels(path, 640) for path in images] if images else
                      [torch.rand(3, size, size, generator=generator) * 255 for _ in range(2)])
            inputs = model.data_preprocessor({'inputs': pixels}, False)['inputs']
            if hasattr(model, 'roi_head'):  # two-stage: tensor mode needs metas; Faster R-CNN's RoI head: no norms
                model.rpn_head(model.extract_feat(inputs))
            else:
                model(inputs, mode='tensor')
        else:
            model(torch.randn(2, 3, size, size, generator=generator))
    for norm, momentum in zip(norms, momenta):
        norm.momentum = momentum
    model.eval()  # mmdet's ResNet.train returns None, so not `return model.eval()`
    return model


def _params(model_cfg) -> float:
    return round(sum(p.numel() for p in _build(model_cfg).parameters()) / 1e6, 2)


def smoke_one(config: Path, out: Path, data: dict, threads: int, python: str = sys.executable) -> dict:
    """Run one config with `threads` intra-op threads; returns its row."""
    from repro.plan.compile import compile_config
    from repro.training.export import plain_model
    weights = out / 'stand-in-weights'  # where make_standins writes, and repro.train reads ($REPRO_WEIGHTS below)
    row = {'config': str(config.relative_to(REPO_ROOT)), 'status': 'failed', 'threads': threads}
    start = time.time()
    try:
        first = compile_config(config, 'coco', data_root=str(data[None]), check_data=False)
        dataset = (first.cfg.get('dataset') or {}).get('name')
        root = data.get(dataset)
        if root is None:
            raise ReproError(f'no generated root for dataset {dataset!r}')
        overrides = ['train_cfg.max_epochs=1', 'default_hooks.logger.interval=1', f'env_cfg.torch_threads={threads}']
        if first.teacher and first.teacher_trained_here:  # no zoo weights: a checkpoint of the user's own
            overrides.append(f'teacher.checkpoint={weights / (first.teacher.config.stem + "-stand-in.pth")}')
        compiled = compile_config(config, 'coco', overrides, data_root=str(root))
        row['stand_ins'] = make_standins(compiled, weights, calibration_images(root))
        row['params_m'] = {'student': _params(plain_model(compiled.cfg.model.to_dict()))}
        if compiled.teacher:
            row['params_m']['teacher'] = _params(compiled.teacher.cfg.model)
    except ReproError as err:
        return {**row, 'reason': str(err)}
    except Exception as err:  # a defect of the smoke's own (a model it cannot build): this row fails, not the rest
        return {**row, 'reason': f'before training: {type(err).__name__}: {err}'.splitlines()[0][:300]}
    work_dir = out / 'work' / config.stem
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    cmd = [python, '-m', 'repro.train', str(config), '--profile', 'coco', '--data-root', str(root),
           '--work-dir', str(work_dir), '--wandb', 'disabled', '--trust-teacher', *overrides]
    # a store of its own: the teacher's evaluation run has the key a real one would have, with a stand-in AP
    env = {**os.environ, 'REPRO_WEIGHTS': str(weights), 'REPRO_OFFLINE': '1', 'REPRO_WORK_DIRS': str(out / 'store')}
    with open(work_dir / 'smoke.log', 'w') as log:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            code, usage, load = _wait(proc)
        except KeyboardInterrupt:
            proc.kill()
            raise
    row['wall_s'] = round(time.time() - start, 1)
    row['peak_rss_gib'] = round(usage.ru_maxrss / 2 ** 20, 2)  # KiB on Linux
    row['load'] = load  # about `threads` when the run had the machine to itself
    row['commit'] = git_commit()[:7]  # rows kept from earlier invocations keep theirs
    row.update(_measured(work_dir))
    for checkpoint in work_dir.rglob('*.pth'):  # trained from stand-ins, so worth nothing: 0.3-0.6 GB a config
        checkpoint.unlink()
    if code == 0:
        row['status'] = 'ok'
    else:
        lines = (work_dir / 'smoke.log').read_text(errors='replace').strip().splitlines()
        errors = [ln for ln in lines if ln.startswith('error:')]
        row['reason'] = (errors or lines or [f'exit code {code}'])[-1][:300]
    return row


def _wait(proc):
    """Wait for the child; returns its exit code, its resource usage (peak RSS) and the machine's mean 1-minute load
    average while it ran, the run's own threads included, so that a time measured beside other work says so.
    Killed after TIMEOUT_S."""
    deadline, loads = time.time() + TIMEOUT_S, []
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage, round(sum(loads) / len(loads), 1) if loads else None
        if time.time() > deadline:
            proc.kill()
        loads.append(os.getloadavg()[0])
        time.sleep(0.5)


def _measured(work_dir: Path) -> dict:
    """Seconds per iteration (the median after the first, which carries the warm-up), GPU memory where logged, AP,
    and the dynamics pass's share of a real-size epoch."""
    found = {}
    scalars = sorted(work_dir.glob('*/vis_data/scalars.json'))
    steps = [json.loads(ln) for p in scalars for ln in p.read_text().splitlines() if '"time"' in ln]
    steps = [s for s in steps if 'loss' in s]
    if steps:
        import statistics
        found['iterations'] = len(steps)
        found['s_per_iter'] = round(statistics.median(s['time'] for s in steps[1:] or steps), 3)
        if any('memory' in s for s in steps):
            found['peak_gpu_mib'] = max(s.get('memory', 0) for s in steps)
    try:
        record = json.loads((work_dir / 'result.json').read_text())
        found['AP'] = record.get('metrics', {}).get('AP')
        found['effective_batch'], found['lr'] = record.get('effective_batch'), record.get('lr')
    except (OSError, ValueError):
        pass
    try:
        dynamics = json.loads((work_dir / 'dynamics.json').read_text())
    except (OSError, ValueError):
        dynamics = {}
    passes = dynamics.get('pass_seconds') or []
    if passes and dynamics.get('images') and 's_per_iter' in found:
        from repro.training.dynamics import SUBSET_IMAGES  # a real run's subset: more val images than the smoke has
        found['dynamics_pass_s'] = round(max(passes) * SUBSET_IMAGES / dynamics['images'], 2)
        share = found['dynamics_pass_s'] / (found['s_per_iter'] * COCO_ITERATIONS_PER_EPOCH)
        found['dynamics_share_pct'] = round(100 * share, 4)
    return found


def table(rows: list[dict]) -> str:
    head = ('| Config | Status | Iterations | s / iteration | Threads / load | Peak RSS (GiB) | Peak GPU (MiB) '
            '| Params student / teacher (M) | Dynamics pass, % of an epoch |\n|---|---|---|---|---|---|---|---|---|\n')
    lines = []
    for r in rows:
        params = r.get('params_m') or {}
        p = ' / '.join(str(params[k]) for k in ('student', 'teacher') if k in params)
        status = r['status'] if r['status'] == 'ok' else f"{r['status']}: {r.get('reason', '')}".replace('|', '\\|')
        lines.append(f"| `{Path(r['config']).parent.name}/{Path(r['config']).stem}` | {status} | "
                     f"{r.get('iterations', '–')} | {r.get('s_per_iter', '–')} | "
                     f"{r.get('threads', '–')} / {r.get('load') or '–'} | {r.get('peak_rss_gib', '–')} | {r.get('peak_gpu_mib', '–')} | {p or '–'} | "
                     f"{r.get('dynamics_share_pct', '–')} |")
    return head + '\n'.join(lines) + '\n'


def write_results_md(summary: dict, path: Path = RESULTS_MD) -> None:
    """Replace (or append) the smoke section of benchmarks/RESULTS.md."""
    from repro.training.dynamics import SUBSET_IMAGES
    text = path.read_text() if path.exists() else ''
    ok = sum(r['status'] == 'ok' for r in summary['rows'])
    body = (f"{SECTION}\n\n{ok} of {len(summary['rows'])} configs ran one epoch of the generated root "
            f"({summary['iterations']} training iterations at batch 2: fewer at a larger batch, more where a config "
            f"repeats its dataset; the Iterations column says how many each ran) and an evaluation at real size on {summary['device']}, with stand-in (random) weights, in "
            f"{summary['wall_min']} min ({summary['date']}, commit {summary['commit']}; `{summary['command']}`). "
            f"{_untried(summary)}"
            'Seconds per iteration are the median after the first, at the run\'s intra-op threads; load is the '
            'machine\'s mean 1-minute load average while the run ran, its own threads included (about the threads '
            'when it ran alone). Peak RSS is the training process\'s. The dynamics '
            f'pass is one pass of TrainingDynamics over its val subset (scaled to a real run\'s {SUBSET_IMAGES} images), '
            f'against {COCO_ITERATIONS_PER_EPOCH} iterations '
            'of a real epoch at that speed.\n\n' + table(summary['rows']))
    if SECTION in text:
        start = text.index(SECTION)
        end = text.find('\n## ', start + len(SECTION))
        text = text[:start] + body + (text[end + 1:] if end >= 0 else '')
    else:
        text = text.rstrip('\n') + '\n\n' + body
    path.write_text(text)


def _untried(summary: dict) -> str:
    """A sentence for a smoke that has not yet run every config under configs/ (a long run resumes across sessions)."""
    tried, configs = {r['config'] for r in summary['rows']}, all_configs()
    untried = [p for p in configs if str(p.relative_to(REPO_ROOT)) not in tried]
    return f'{len(untried)} of the {len(configs)} configs under configs/ have not run yet. ' if untried else ''


def run(args, argv=None) -> None:
    """Smoke the configs `args` names (repro/smoke.py parses them), keeping each result in the JSON as it comes."""
    import torch

    from repro.runs.store import work_dirs_root
    configs = pick(args.configs)
    if args.threads < 1 or args.iterations < 1:
        raise ReproError('--threads and --iterations must be at least 1')
    out = (args.out or work_dirs_root() / 'smoke').resolve()
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    path = args.json or out / f"smoke-{device}{'' if args.iterations == ITERATIONS else f'-{args.iterations}it'}.json"
    kept = {r['config']: r for r in _read(path).get('rows', [])}
    out.mkdir(parents=True, exist_ok=True)
    data = roots(out, args.iterations)
    print('Stand-in (random) weights throughout: the AP means nothing, the path and its costs do.')
    for i, config in enumerate(configs, 1):
        rel = str(config.relative_to(REPO_ROOT))
        if not args.again and kept.get(rel, {}).get('status') == 'ok':
            print(f'[{i}/{len(configs)}] {config.stem}: ok before, kept (--again reruns it)')
            continue
        row = kept[rel] = smoke_one(config, out, data, args.threads)
        detail = (f"{row.get('s_per_iter')} s/iter, {row.get('peak_rss_gib')} GiB" if row['status'] == 'ok'
                  else row.get('reason'))
        print(f"[{i}/{len(configs)}] {config.stem}: {row['status']} ({detail}; stand-in weights)", flush=True)
        _write(path, kept, device, args.iterations, argv)
    summary = _write(path, kept, device, args.iterations, argv)
    print(table(summary['rows']), end='')
    print(f'-> {path}')
    if args.results:
        write_results_md(summary)
        print(f'-> {RESULTS_MD}')
    failed = [r for r in summary['rows'] if r['status'] != 'ok']
    if failed:
        raise ReproError(f"{len(failed)} of {len(summary['rows'])} configs failed: "
                         f"{', '.join(Path(r['config']).stem for r in failed)} (reasons in {path})")


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write(path: Path, rows: dict, device: str, iterations: int, argv) -> dict:
    from repro.runs.atomic import atomic_write_json
    summary = {'device': _device_name(device), 'iterations': iterations, 'date': time.strftime('%Y-%m-%d'), 'commit': git_commit()[:7],
               'command': 'python -m repro.smoke ' + ' '.join(argv if argv is not None else sys.argv[1:]),
               'wall_min': round(sum(r.get('wall_s', 0) for r in rows.values()) / 60, 1),
               'rows': sorted(rows.values(), key=lambda r: r['config'])}
    atomic_write_json(path, summary)
    return summary


def _device_name(device: str) -> str:
    import torch
    if device == 'cuda':
        return torch.cuda.get_device_name(0)
    return f'CPU ({os.cpu_count()} cores)'

