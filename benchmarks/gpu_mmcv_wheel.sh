#!/usr/bin/env bash
# Build, on a machine without a GPU, the mmcv 2.1.0 wheel with CUDA ops that benchmarks/gpu_check.sh installs on the
# device machine, so that its device time goes to the checks rather than to a compiler (gpu_check.sh still builds
# the sdist there when no wheel in .whl/ runs). It needs what the device image has: a Python 3.12 (GPU_PY312) and
# the CUDA toolkit of its torch's CUDA (nvcc 13.0 at CUDA_HOME, default /usr/local/cuda). The device's torch
# (DEVICE_TORCH, default 2.11.0, a cu130 build on PyPI) goes into a venv of its own here, GPU_BUILD_VENV; its
# nvidia-* packages hold the cuBLAS/cuSPARSE/cuSOLVER headers that torch's CUDA headers include.
# Run benchmarks/gpu_wheels.sh first (it fetches the sdist into .whl/). Compute capability GPU_ARCH, default 9.0
# (H100/H200). Writes .whl/mmcv-2.1.0-cp312-cp312-linux_x86_64.whl.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PY312=${GPU_PY312:-$(command -v python3.12 || echo "$HOME/.pyenv/versions/3.12.1/bin/python")}
VENV=${GPU_BUILD_VENV:-$PWD/work_dirs/gpu_build_venv}
export CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
[ -x "$PY312" ] || { echo "error: no Python 3.12 at $PY312 (set GPU_PY312)"; exit 2; }
[ -x "$CUDA_HOME/bin/nvcc" ] || { echo "error: no nvcc at $CUDA_HOME/bin (set CUDA_HOME)"; exit 2; }
ls .whl/mmcv-2.1.0.tar.gz >/dev/null 2>&1 || { echo "error: no .whl/mmcv-2.1.0.tar.gz: run benchmarks/gpu_wheels.sh"; exit 2; }
[ -x "$VENV/bin/python" ] || "$PY312" -m venv "$VENV"
# setuptools<70: mmcv 2.1.0's setup.py does not build under newer ones (see scripts/bootstrap.sh)
"$VENV/bin/pip" install -q "torch==${DEVICE_TORCH:-2.11.0}" 'setuptools<70' wheel ninja numpy
INC=$("$VENV/bin/python" -c 'import nvidia, os; print(os.path.join(nvidia.__path__[0], "cu13", "include"))')
SRC=$(mktemp -d)
tar xzf .whl/mmcv-2.1.0.tar.gz -C "$SRC"
start=$(date +%s)
# the nvidia headers after the toolkit's own (-I after the toolkit's for nvcc, CPATH after -I for g++)
(cd "$SRC/mmcv-2.1.0" && MMCV_WITH_OPS=1 FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST=${GPU_ARCH:-9.0} MAX_JOBS=$(nproc) \
  NVCC_APPEND_FLAGS="-I$INC" CPATH="$INC" "$VENV/bin/python" setup.py -q bdist_wheel -d "$REPO/.whl")
rm -rf "$SRC"
echo "built in $(( $(date +%s) - start )) s:"; ls -la .whl/mmcv-2.1.0-*.whl
