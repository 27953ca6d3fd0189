# The README's two commands. Both set up .venv first (scripts/bootstrap.sh: idempotent, instant when done).
PY := .venv/bin/python

.PHONY: setup demo test
setup:
	bash scripts/bootstrap.sh

demo: setup
	$(PY) -m repro.demo

test: setup
	$(PY) -m pytest -q
