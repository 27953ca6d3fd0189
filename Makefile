# The README's two commands. Both set up .venv first (scripts/bootstrap.sh: idempotent, instant when done).
PY := .venv/bin/python

.PHONY: setup demo test
setup:
	bash scripts/bootstrap.sh

demo: setup
	$(PY) -m repro.demo

# One pytest worker per core, one torch thread each: the tests' small tensors gain nothing from intra-op threads,
# and two workers keep both cores busy through the single-threaded parts (config loading, data, evaluation).
# worksteal: an idle worker takes tests from the other's queue; tests/conftest.py orders them so that the slow ones
# start both halves. --durations: the slowest tests close the log, to keep the suite well under CI's 20 minutes.
test: setup
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -n auto --dist worksteal --durations=20
