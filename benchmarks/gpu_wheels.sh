#!/usr/bin/env bash
# Fetch, on a machine with PyPI, what benchmarks/gpu_check.sh installs on a bare GPU machine that has torch but not
# the OpenMMLab stack: wheels for its Python (default 3.12, the device image's) into .whl/, and mmcv 2.1.0's sdist,
# which gpu_check.sh builds there with CUDA ops. About 6 MB. Ignore .whl/ in git (.git/info/exclude) and carry it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYVER=${GPU_PYTHON_VERSION:-3.12}
PY=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
mkdir -p .whl
# mmdet 3.3.0 asserts mmcv<2.2.0; mmengine 0.10.7 is the release mmdet 3.3 is tested with; setuptools<81 keeps the
# pkg_resources that mmengine resolves `mmdet::` configs with. The rest are mmdet's and mmengine's needs that the
# device image lacks (termcolor: mmengine's logger).
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version "$PYVER" --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 -d .whl \
  mmengine==0.10.7 mmdet==3.3.0 'setuptools>=77.0.3,<81' pycocotools terminaltables addict yapf platformdirs shapely termcolor
# the sdist's metadata step imports torch: the venv's pip, without build isolation
"$PY" -m pip download -q --no-deps --no-binary=:all: --no-build-isolation -d .whl mmcv==2.1.0
ls -la .whl
