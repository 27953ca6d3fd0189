"""W&B's own sweep engine (the `sweeps` package) behind a process boundary: schema check and grid enumeration.

`sweeps` 0.3.0 requires numpy<2, which has no wheels for Python 3.13+ and would hold back the training stack
(opencv-python 5 requires numpy>=2), so it lives in a small virtual environment of its own, `sweeps-engine/` inside
the virtual environment running repro (`.venv/sweeps-engine`; `python -m repro.sweep --setup-engine` creates it,
$REPRO_SWEEPS_PYTHON names another interpreter). The interpreter running repro is used when it has `sweeps` itself.

Run as a script by that interpreter, this file reads a JSON list of sweep configs on stdin and writes, for each,
{"violations": [...], "runs": [{param: value}, ...]} on stdout: W&B's schema violations
(`schema_violations_from_proposed_config`) and, for a valid grid, every run W&B's controller would propose, in its
order (`next_run` over the runs proposed so far). It imports nothing from repro, which that environment lacks.
"""
from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

ENGINE_REQUIREMENT = 'sweeps==0.3.0'
PYTHON_ENV = 'REPRO_SWEEPS_PYTHON'  # an interpreter that has `sweeps`
DEFAULT_VENV = Path(sys.prefix) / 'sweeps-engine'  # .venv/sweeps-engine
MAX_RUNS = 10000  # a grid larger than this is a mistake in the file, not an ablation


def _enumerate(config: dict) -> dict:
    """In the engine's interpreter: W&B's schema violations, then the grid's runs in the controller's order."""
    import sweeps
    violations = list(sweeps.schema_violations_from_proposed_config(config))
    if violations or config.get('method') != 'grid':
        return {'violations': violations, 'runs': []}
    proposed = []
    while len(proposed) < MAX_RUNS:
        run = sweeps.next_run(config, proposed, validate=True)
        if run is None:
            break
        run.state = sweeps.RunState.finished
        proposed.append(run)
    return {'violations': [], 'runs': [_flat(run.config) for run in proposed]}


def _flat(config: dict, prefix: str = '') -> dict:
    """{'k': {'value': 30}} -> {'k': 30}; nested parameters become 'outer.inner'."""
    out = {}
    for name, item in config.items():
        if isinstance(item, dict) and set(item) == {'value'}:
            out[prefix + name] = item['value']
        elif isinstance(item, dict):
            out.update(_flat(item.get('value', item), f'{prefix}{name}.'))
    return out


def _has_sweeps(python: str) -> bool:
    """Whether `python` imports the real `sweeps` package (the repo's sweeps/ folder is a namespace package)."""
    probe = 'import sweeps, sys; sys.exit(0 if hasattr(sweeps, "next_run") else 1)'
    try:
        return subprocess.run([python, '-I', '-c', probe], capture_output=True, timeout=120).returncode == 0
    except OSError:
        return False


@functools.lru_cache(maxsize=None)
def engine_python() -> str:
    """The interpreter that runs the engine: $REPRO_SWEEPS_PYTHON, this one if it has `sweeps`, or DEFAULT_VENV's."""
    from repro.errors import ReproError
    explicit = os.environ.get(PYTHON_ENV)
    if explicit:
        if not _has_sweeps(explicit):
            raise ReproError(f'${PYTHON_ENV}={explicit} cannot import the `sweeps` package; install it there '
                             f"({explicit} -m pip install '{ENGINE_REQUIREMENT}') or unset {PYTHON_ENV}")
        return explicit
    candidates = [sys.executable, str(DEFAULT_VENV / 'bin' / 'python')]
    for python in candidates:
        if Path(python).exists() and _has_sweeps(python):
            return python
    raise ReproError("W&B's sweep engine (the `sweeps` package) is not installed: run `python -m repro.sweep "
                     f'--setup-engine` (creates {DEFAULT_VENV} with {ENGINE_REQUIREMENT}, which needs numpy<2 and '
                     f'so lives apart from the training stack), or set {PYTHON_ENV} to a Python that has it')


def grid(config: dict, source: str) -> list[dict]:
    """Check a sweep config with W&B's schema and return the runs of its grid, each {param: value}.

    source: the file the config came from, for messages.
    """
    return grids({source: config})[source]


def grids(configs: dict[str, dict]) -> dict[str, list[dict]]:
    """`grid` of several sweep configs (source -> config) in one call of the engine."""
    from repro.errors import ReproError
    # -I: neither the script's folder (repro/, whose io.py would shadow the standard library's) nor the working
    # directory (the repo, whose sweeps/ folder would pass for the package) goes on sys.path
    proc = subprocess.run([engine_python(), '-I', str(Path(__file__).resolve())],
                          input=json.dumps(list(configs.values())), capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ['no output'])[-1]
        raise ReproError(f"W&B's sweep engine failed on {', '.join(configs)}: {tail}")
    return {source: _checked(source, config, answer)
            for (source, config), answer in zip(configs.items(), json.loads(proc.stdout))}


def _checked(source: str, config: dict, answer: dict) -> list[dict]:
    from repro.errors import ReproError
    if answer['violations']:
        raise ReproError(f"{source} breaks W&B's sweep schema: {'; '.join(answer['violations'])}")
    if config.get('method') != 'grid':
        raise ReproError(f"{source}: an offline sweep needs `method: grid` (random and bayes search need W&B's "
                         f"server), got {config.get('method')!r}")
    if len(answer['runs']) >= MAX_RUNS:
        raise ReproError(f'{source}: the grid has {MAX_RUNS} or more runs; check its parameters')
    return answer['runs']


def setup_engine(venv: Path = DEFAULT_VENV, python: str = sys.executable) -> Path:
    """Create the engine's virtual environment with ENGINE_REQUIREMENT (idempotent); returns its interpreter."""
    from repro.errors import ReproError
    target = venv / 'bin' / 'python'
    if target.exists() and _has_sweeps(str(target)):
        return target
    steps = [[python, '-m', 'venv', str(venv)],
             [str(target), '-m', 'pip', 'install', '-q', '--disable-pip-version-check', ENGINE_REQUIREMENT]]
    for step in steps:
        if subprocess.run(step).returncode != 0:
            raise ReproError(f"could not set up W&B's sweep engine: `{' '.join(step)}` failed (numpy<2, which "
                             f'{ENGINE_REQUIREMENT} needs, has wheels for Python 3.12 and older: pass --python)')
    return target


if __name__ == '__main__':
    json.dump([_enumerate(config) for config in json.load(sys.stdin)], sys.stdout)
