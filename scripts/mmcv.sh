# mmcv with compiled ops for the venv's torch: a prebuilt wheel when one works, else a source build, once per
# machine. Sourced by bootstrap.sh (and tests/test_bootstrap.py). Needs: VPY (the venv's python), PY (the base
# interpreter), CACHE, MMCV_VERSION, PY_TAG, TORCH_TAG, BUILT (folder of built wheels) and the functions log and pipq.

mmcv_works() {  # mmcv at the right version, with compiled ops that run NMS against this torch
  "$VPY" - "$MMCV_VERSION" <<'PYEOF' >/dev/null 2>&1
import sys, torch, mmcv
from mmcv.ops import nms
assert mmcv.__version__ == sys.argv[1]
boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]])
assert nms(boxes, torch.tensor([0.9, 0.8]), 0.5)[1].tolist() == [0]
PYEOF
}

mmcv_from_wheels() {  # install the first wheel, from the folders given, that works with this torch
  # A wheel that works from elsewhere (../shared/wheels) is copied into the cache ($BUILT), so that a clone
  # anywhere on the machine finds it there, not only one whose ../shared/wheels resolves.
  local dir
  for dir in "$@"; do
    [ -d "$dir" ] && ls "$dir"/mmcv-$MMCV_VERSION-$PY_TAG-*.whl >/dev/null 2>&1 || continue
    log "trying mmcv wheel from $dir"
    pipq --no-deps --force-reinstall --no-index --find-links "$dir" "mmcv==$MMCV_VERSION" || continue
    if mmcv_works; then
      [ "$dir" -ef "$BUILT" ] || { mkdir -p "$BUILT" && cp -n "$dir"/mmcv-$MMCV_VERSION-$PY_TAG-*.whl "$BUILT"/; } || true
      return 0
    fi
    log "wheel in $dir does not work with torch $TORCH_TAG; skipping it"
    "$VPY" -m pip uninstall -q -y mmcv
  done
  return 1
}

build_mmcv() {
  # Two bootstraps at once (two clones on one machine) share the build venv and $BUILT: the second waits for the
  # first's build under a lock and then installs its wheel, instead of using a half-made venv.
  mkdir -p "$CACHE" "$BUILT"
  exec 9>"$CACHE/mmcv-build.lock"
  if ! flock -n 9; then log "another bootstrap is building mmcv; waiting for it"; flock 9; fi
  if mmcv_from_wheels "$BUILT"; then exec 9>&-; return 0; fi
  # Source build, confined to its own venv: mmcv's setup.py imports torch and pkg_resources and was measured
  # to build with setuptools<70 and --no-build-isolation (about 13 min on 2 cores, CPU ops only).
  local BVENV="$CACHE/mmcv-build-$PY_TAG-torch-$TORCH_TAG"
  log "building mmcv $MMCV_VERSION from source into $BUILT (about 13 min on 2 cores)"
  # a venv whose creation was cut short has a python but no pip: make it again
  "$BVENV/bin/python" -m pip --version >/dev/null 2>&1 || { rm -rf "$BVENV"; "$PY" -m venv "$BVENV"; }
  "$BVENV/bin/python" -m pip install -q --disable-pip-version-check "torch==${TORCH_TAG%%+*}" wheel numpy packaging ninja
  # torch 2.13 declares setuptools>=77, which no longer builds mmcv: downgrade afterwards (pip warns, the build works)
  log "pip's warning below that torch requires setuptools>=77 is expected: only this build venv is downgraded"
  "$BVENV/bin/python" -m pip install -q --disable-pip-version-check 'setuptools<70'
  if "$VPY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    export FORCE_CUDA=1
    export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-$("$VPY" -c "import torch; print('%d.%d' % torch.cuda.get_device_capability())")}
    log "CUDA found: building CUDA ops for arch $TORCH_CUDA_ARCH_LIST"
  fi
  MMCV_WITH_OPS=1 MAX_JOBS=$(nproc) "$BVENV/bin/python" -m pip wheel -q --no-build-isolation --no-deps \
    --wheel-dir "$BUILT" "mmcv==$MMCV_VERSION"
  exec 9>&-
  pipq --no-deps --force-reinstall --no-index --find-links "$BUILT" "mmcv==$MMCV_VERSION"
  mmcv_works || { log "the mmcv built in $BUILT does not import; remove it and retry"; return 1; }
}
