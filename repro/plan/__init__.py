"""Stage 2, plan: a table spec plus the command's flags become runs. compile.py turns a config, a profile and overrides
into the resolved mmengine config and its run key; validate.py refuses a bad one in one line; dag.py makes the
table's runs (teachers first, shared runs once) and cache.py keeps that plan between commands; seeds.py records which
seeds a table's report covers; sweep_points.py and sweep_engine.py turn a W&B sweep file into points of a table."""
