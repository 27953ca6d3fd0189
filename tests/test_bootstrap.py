"""scripts/bootstrap.sh and the scripts/mmcv.sh it sources: two bootstraps at once on one machine build mmcv once,
two of one clone make its venv once, and a build venv left half-made is made again. The interpreters are fakes (bash) that log each call, create files where venv
and pip would, and take a while over the slow steps, so the test runs in seconds and needs no network."""
import subprocess
import textwrap

from conftest import REPO

WHEEL = 'mmcv-2.1.0-cp311-cp311-linux_x86_64.whl'
FAKE_PYTHON = textwrap.dedent(r'''
    #!/usr/bin/env bash
    # a fake interpreter: its venv is the folder above bin/; "installed" there means mmcv imports
    here=$(cd "$(dirname "$0")/.." && pwd)
    echo "$here $*" >> "$FAKE_LOG"
    case "$*" in
      "-m venv "*) d=${@: -1}; mkdir -p "$d/bin"; cp "$0" "$d/bin/python"; sleep ${FAKE_VENV_S:-0.3}; touch "$d/pip" ;;
      "-m pip --version") [ -f "$here/pip" ] ;;
      "-m pip wheel "*) sleep 1; touch "${@: -2:1}/''' + WHEEL + r'''" ;;
      "-m pip install "*"--find-links "*) for a; do [ "$prev" = --find-links ] && dir=$a; prev=$a; done
                                          ls "$dir"/mmcv-*.whl >/dev/null 2>&1 && touch "$here/installed" ;;
      "-m pip uninstall "*) rm -f "$here/installed" ;;
      "- 2.1.0") [ -f "$here/installed" ] ;;
      "-c "*cuda*) exit 1 ;;
      "-c "*version_info*) echo cp311 ;;
      "-c "*__version__*) echo 2.13.0+cpu ;;
      "-m pip install "*) [ -f "$here/pip" ] || { echo "$here/bin/python: No module named pip" >&2; exit 1; } ;;
    esac
''').lstrip()


def _venv(path):
    (path / 'bin').mkdir(parents=True)
    python = path / 'bin' / 'python'
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    return python


def _bootstrap_mmcv(tmp_path, venv, shared=None):
    """The mmcv step of bootstrap.sh for the venv `venv`, with its cache in tmp_path/cache; `shared` stands for
    ../shared/wheels."""
    script = f'''set -euo pipefail
        log() {{ echo "[bootstrap] $*" >&2; }}
        pipq() {{ "$VPY" -m pip install -q "$@"; }}
        source {REPO}/scripts/mmcv.sh
        mmcv_works || mmcv_from_wheels "$BUILT" {shared or tmp_path / 'no-shared'} || build_mmcv'''
    env = {'PATH': '/usr/bin:/bin', 'FAKE_LOG': str(tmp_path / 'calls.log'), 'VPY': str(venv),
           'PY': str(tmp_path / 'base' / 'bin' / 'python'), 'CACHE': str(tmp_path / 'cache'), 'MMCV_VERSION': '2.1.0',
           'PY_TAG': 'cp311', 'TORCH_TAG': '2.13.0+cpu', 'BUILT': str(tmp_path / 'cache' / 'wheels')}
    return subprocess.Popen(['bash', '-c', script], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def test_two_bootstraps_at_once_build_mmcv_once_and_both_install_it(tmp_path):
    _venv(tmp_path / 'base')
    clones = [_venv(tmp_path / name) for name in ('clone-a', 'clone-b')]
    procs = [_bootstrap_mmcv(tmp_path, venv) for venv in clones]
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    calls = (tmp_path / 'calls.log').read_text().splitlines()
    assert sum(' -m pip wheel ' in c for c in calls) == 1, calls
    assert sum(' -m venv ' in c for c in calls) == 1, calls
    assert all((venv.parent.parent / 'installed').exists() for venv in clones)
    assert sum('waiting for it' in out for out in outputs) == 1, outputs


def test_a_half_made_build_venv_is_made_again(tmp_path):
    _venv(tmp_path / 'base')
    half_made = _venv(tmp_path / 'cache' / 'mmcv-build-cp311-torch-2.13.0+cpu')  # a python, but no pip
    proc = _bootstrap_mmcv(tmp_path, _venv(tmp_path / 'clone'))
    assert proc.wait(timeout=60) == 0, proc.stdout.read()
    calls = (tmp_path / 'calls.log').read_text().splitlines()
    assert any(c.endswith(f'-m venv {half_made.parent.parent}') for c in calls), calls
    assert (half_made.parent.parent / 'pip').exists() and (tmp_path / 'clone' / 'installed').exists()


def test_a_shared_wheel_that_works_is_cached_for_clones_elsewhere(tmp_path):
    """A clone whose ../shared/wheels resolves installs that wheel and copies it into the cache; a later clone
    elsewhere (in /tmp, where ../shared/wheels does not resolve) installs it from the cache instead of building."""
    _venv(tmp_path / 'base')
    shared = tmp_path / 'shared' / 'wheels'
    shared.mkdir(parents=True)
    (shared / WHEEL).write_text('a built wheel')
    first = _bootstrap_mmcv(tmp_path, _venv(tmp_path / 'clone-a'), shared)
    assert first.wait(timeout=60) == 0, first.stdout.read()
    assert (tmp_path / 'cache' / 'wheels' / WHEEL).read_text() == 'a built wheel'
    second = _bootstrap_mmcv(tmp_path, _venv(tmp_path / 'clone-b'))  # no shared folder
    assert second.wait(timeout=60) == 0, second.stdout.read()
    calls = (tmp_path / 'calls.log').read_text().splitlines()
    assert not any(' -m pip wheel ' in c for c in calls), calls
    assert (tmp_path / 'clone-b' / 'installed').exists()


def test_two_bootstraps_of_one_clone_at_once_make_its_venv_once(tmp_path):
    """`make demo` and `make test` started together in a fresh clone: without a lock, the second found the venv's
    python the first had just created, and failed on it with 'No module named pip'. The venv takes 2 s to make here,
    and the second starts 0.5 s after the first."""
    import time
    base = _venv(tmp_path / 'base')
    wheelhouse = tmp_path / 'wheelhouse'
    wheelhouse.mkdir()
    (wheelhouse / WHEEL).write_text('a built wheel')
    env = {'PATH': '/usr/bin:/bin', 'FAKE_LOG': str(tmp_path / 'calls.log'), 'FAKE_VENV_S': '2', 'PYTHON': str(base),
           'REPRO_VENV': str(tmp_path / 'venv'), 'REPRO_CACHE': str(tmp_path / 'cache'),
           'REPRO_WHEELHOUSE': str(wheelhouse), 'HOME': str(tmp_path)}
    procs = []
    for _ in range(2):
        procs.append(subprocess.Popen(['bash', str(REPO / 'scripts' / 'bootstrap.sh')], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        time.sleep(0.5)
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    calls = (tmp_path / 'calls.log').read_text().splitlines()
    assert sum(' -m venv ' in c for c in calls) == 1, calls
    assert 'another bootstrap is setting up' in outputs[1], outputs
    assert (tmp_path / 'venv' / '.repro-bootstrap').exists() and (tmp_path / 'venv' / 'installed').exists()
