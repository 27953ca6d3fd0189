#!/usr/bin/env bash
# Idempotent set-up of the project's virtual environment (.venv): torch, mmcv with its compiled ops,
# the rest of the stack and repro itself. A second call with nothing changed returns in well under a second.
#
# Environment:
#   PYTHON             interpreter for the venv (default: python3)
#   REPRO_VENV         venv folder (default: .venv)
#   REPRO_TORCH        torch requirement (default: torch==2.13.0, the CPU build this machine's pip serves;
#                      an unpinned torch pulls several GB of CUDA packages)
#   REPRO_WHEELHOUSE   extra folder holding a prebuilt mmcv 2.1.0 wheel
#   REPRO_CACHE        cache root (default: ~/.cache/repro); built mmcv wheels land in $REPRO_CACHE/wheels/
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${REPRO_VENV:-.venv}
TORCH_SPEC=${REPRO_TORCH:-torch==2.13.0}
CACHE=${REPRO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/repro}
MMCV_VERSION=2.1.0   # mmdet 3.3.0 asserts mmcv<2.2.0
# setuptools: torch 2.13 requires >=77.0.3; mmengine's `mmdet::` config bases import pkg_resources, gone from 81 on.
SETUPTOOLS_SPEC='setuptools>=77.0.3,<81'

stamp_of() { cat pyproject.toml scripts/bootstrap.sh scripts/mmcv.sh | sha256sum | cut -c1-16; echo "$TORCH_SPEC"; }
STAMP="$VENV/.repro-bootstrap"
# Bytecode of the harness's own modules, which an editable install does not compile and PYTHONDONTWRITEBYTECODE=1
# (set on some machines) never writes: without it each command compiles them again, a third of a warm --dry-run.
# Up-to-date files are skipped, so this is instant after the first time.
compile_harness() { "$VENV/bin/python" -m compileall -q repro benchmarks > /dev/null; }
ready() { [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(stamp_of)" ]; }
if ready; then compile_harness; exit 0; fi

log() { echo "[bootstrap] $*" >&2; }
# Two commands of one clone at once (`make demo` and `make test` in two shells) would both make the venv, and the
# second would find it half-made ("No module named pip"). One bootstraps under a lock beside the venv; the other
# waits, then finds the stamp written and goes on.
exec 8>"$VENV.lock"
if ! flock -n 8; then log "another bootstrap is setting up $VENV; waiting for it"; flock 8; fi
if ready; then compile_harness; exit 0; fi
[ -x "$VENV/bin/python" ] || { log "creating $VENV with $PY"; "$PY" -m venv "$VENV"; }
VPY="$VENV/bin/python"
pipq() { "$VPY" -m pip install -q --disable-pip-version-check "$@"; }

log "torch ($TORCH_SPEC), build tools and mmcv's runtime dependencies"
pipq "$TORCH_SPEC" "$SETUPTOOLS_SPEC" wheel "mmengine==0.10.7" numpy opencv-python addict packaging Pillow pyyaml yapf

TORCH_TAG=$("$VPY" -c "import torch; print(torch.__version__)")
PY_TAG=$("$VPY" -c "import sys; print(f'cp{sys.version_info[0]}{sys.version_info[1]}')")
BUILT="$CACHE/wheels/torch-$TORCH_TAG"   # a wheel's ABI is tied to the torch it was built against
source scripts/mmcv.sh
mmcv_works || mmcv_from_wheels ${REPRO_WHEELHOUSE:-} "$BUILT" ../shared/wheels || build_mmcv

log "mmdet, mmengine and repro"
pipq --no-build-isolation -e ".[test]" "$SETUPTOOLS_SPEC"
log "W&B's sweep engine in its own venv (it pins numpy<2; see repro/plan/sweep_engine.py)"
"$VPY" -m repro.sweep --setup-engine
compile_harness
stamp_of > "$STAMP"
log "ready: $VENV ($("$VPY" -c "import torch, mmcv, mmdet; print('torch', torch.__version__, 'mmcv', mmcv.__version__, 'mmdet', mmdet.__version__)"))"
