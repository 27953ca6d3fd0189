#!/usr/bin/env bash
# The first GPU machine's checks in one run, about 10 minutes on one H200, with nothing prepared there by hand:
#   1. the stack: an mmcv 2.1.0 whose compiled ops run, or one built from its sdist with CUDA ops for this GPU; on a
#      bare machine the packages it lacks come from wheels carried in .whl/ (benchmarks/gpu_wheels.sh fetches them
#      on a machine with PyPI, for the GPU machine's Python)
#   2. mmcv's ops on the GPU against the CPU (benchmarks/gpu_ops.py)
#   3. the real-size overhead benchmark, fp32 and bf16: every method at batch 2, three at batch 8
#      (benchmarks/overhead.py)
#   4. 300 real-size CrossKD-GFL training steps on a generated root, stand-in weights (python -m repro.smoke)
# Results: gpu_check.log, ops.json, overhead.json, overhead-b8.json, smoke.json (and, under $OUT, each smoke run's
# training log) in
# $OUT (the device tool's folder) or $GPU_CHECK_OUT (default work_dirs/gpu_check), for the closing note and
# benchmarks/RESULTS.md.
#
# Without CUDA it runs a reduced mode, which CI runs (tests/training/test_gpu_check.py): the ops on the CPU, the tiny
# overhead benchmark for 2 steps, and the smoke's CI subset (a plain and a CrossKD config, 2 iterations each).
set -euo pipefail
cd "$(dirname "$0")/.."
RESULTS=${OUT:-${GPU_CHECK_OUT:-work_dirs/gpu_check}}
# the bulky outputs (generated images, stand-in weights, run stores): beside the results, except under the device
# tool's $OUT, which brings back at most 8 files
WORK=${GPU_CHECK_WORK:-$( [ -n "${OUT:-}" ] && echo /tmp/gpu_check_work || echo "$RESULTS" )}
mkdir -p "$RESULTS" "$WORK"
RESULTS=$(cd "$RESULTS" && pwd)
WORK=$(cd "$WORK" && pwd)
LOG="$RESULTS/gpu_check.log"
PY=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
log() { echo "[gpu_check $(date -u +%H:%M:%S)] $*" | tee -a "$LOG"; }
export PYTHONUNBUFFERED=1 REPRO_WANDB=disabled REPRO_WORK_DIRS="$WORK/work_dirs"

mmcv_ops_run() { "$PY" -c 'import torch, mmcv, mmdet; from mmcv.ops import nms
assert nms(torch.tensor([[0., 0, 9, 9], [1, 1, 9, 9]]), torch.tensor([.9, .8]), .5)[1].tolist() == [0]' 2>/dev/null; }

log "1/4 stack: $("$PY" -c 'import sys, torch; print(sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda)')"
if ! mmcv_ops_run && [ -d .whl ]; then
  SITE=/tmp/gpu_check_site
  log "installing the carried wheels into $SITE"
  "$PY" -m pip install -q --no-index --no-deps --no-compile --target "$SITE" .whl/*.whl
  export PYTHONPATH="$SITE:$PWD${PYTHONPATH:+:$PYTHONPATH}"
  if ! mmcv_ops_run && ls .whl/mmcv-*.tar.gz >/dev/null 2>&1; then
    ARCH=$("$PY" -c 'import torch; print("%d.%d" % torch.cuda.get_device_capability())')
    log "building mmcv from its sdist with CUDA ops for compute capability $ARCH ($(nproc) jobs)"
    start=$(date +%s)
    MMCV_WITH_OPS=1 FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST="$ARCH" MAX_JOBS=$(nproc) \
      "$PY" -m pip install -q --no-index --no-deps --no-build-isolation --upgrade --target "$SITE" .whl/mmcv-*.tar.gz \
      > "$RESULTS/mmcv_build.log" 2>&1 || { tail -30 "$RESULTS/mmcv_build.log"; log "mmcv build FAILED"; exit 1; }
    log "mmcv built in $(( $(date +%s) - start )) s"
  fi
fi
mmcv_ops_run || { log "mmcv's compiled ops do not run here (see bootstrap.sh, or carry .whl/ for a bare machine)"; exit 1; }
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

if "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  log "GPU: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo unknown)"
  # every method at batch 2 (the first H200 run: 4 methods in 39 s), then the bf16 speed-up's batch 8
  OVERHEAD=(--setting real --dtype fp32,bf16 --batch 2 --warmup 3 --steps 10)
  OVERHEAD_B8=(--setting real --dtype fp32,bf16 --batch 8 --methods crosskd,pgd,pgd_atss --warmup 3 --steps 10 --no-syncs)
  SMOKE=(crosskd_gfl --iterations 300)
else
  log "no CUDA: reduced mode (CPU ops, tiny overhead benchmark, the smoke's CI subset)"
  OVERHEAD=(--setting tiny --methods crosskd --warmup 1 --steps 2 --no-syncs)
  OVERHEAD_B8=()
  SMOKE=(retinanet_r18 crosskd_retinanet_r18)
fi

FAILED=()
step() {  # one check: a failure is logged and the next check still runs (the exit status says it failed)
  local name=$1; shift
  log "$name"
  "$@" 2>&1 | tee -a "$LOG" || { FAILED+=("$name"); log "FAILED: $name"; }
}
step "2/4 mmcv ops" "$PY" -m benchmarks.gpu_ops --json "$RESULTS/ops.json"
step "3/4 overhead benchmark: ${OVERHEAD[*]}" "$PY" -m benchmarks.overhead "${OVERHEAD[@]}" --json "$RESULTS/overhead.json"
[ ${#OVERHEAD_B8[@]} -eq 0 ] || step "3/4 overhead benchmark: ${OVERHEAD_B8[*]}" \
  "$PY" -m benchmarks.overhead "${OVERHEAD_B8[@]}" --json "$RESULTS/overhead-b8.json"
step "4/4 real-size training: repro.smoke ${SMOKE[*]}" \
  "$PY" -m repro.smoke "${SMOKE[@]}" --out "$WORK/smoke" --json "$RESULTS/smoke.json"
if [ "$WORK" != "$RESULTS" ]; then  # each run's training log, beside the results
  for f in "$WORK"/smoke/work/*/smoke.log; do [ -f "$f" ] && cp "$f" "$RESULTS/train_$(basename "$(dirname "$f")").log"; done
fi
[ ${#FAILED[@]} -eq 0 ] || { log "failed: ${FAILED[*]}"; exit 1; }
log "done: $RESULTS"
