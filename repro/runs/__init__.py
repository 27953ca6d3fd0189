"""Stage 3, runs: a run's whole lifecycle. store.py maps a run key to its work dir, record, lock and status (with
atomic.py's writes); lifecycle.py takes one run from its key to its record (teacher first and checked, lock, attempts,
export); progress.py shows runs as they go; launch.py (local processes, torchrun) and slurm.py (submitit) are the
launchers, chosen by `launch`."""
