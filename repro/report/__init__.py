"""Reports: a paper table beside our numbers (Markdown, HTML, LaTeX, CSV), its figures, its W&B report run, and
reports/<profile>/index.html over all tables. `python -m repro.report TABLE|all`; `repro.run` calls
`write_report` at the end of a table.
"""
from __future__ import annotations

from pathlib import Path

from repro.profiles import default_report_dir
from repro.report.tables.results import DEFAULT_TOLERANCE

def planned_seeds(spec, runs):
    """The SeedPlan of runs planned by a caller that did not say why: the seeds its rows' runs have."""
    from repro.plan.seeds import SeedPlan
    seeds = {run.seed for run in runs if any(r.rpartition('/')[0] == spec.id for r in run.rows)}
    return SeedPlan(max(seeds, default=0) + 1, 'the seeds this report was planned with')


def build_report(spec, runs, profile: str, out_dir: Path, tolerance: float = DEFAULT_TOLERANCE,
                 figures: bool = True, seed_plan=None):
    """The TableReport of one table (records read, row verdicts, claim verdicts against the profile's measured seed
    noise, ordering, provenance, figures drawn, the finished runs of its configs outside the plan found)."""
    from repro.report.tables.claims import judge
    from repro.report.figures import make_figures
    from repro.report.tables.frames import TableReport
    from repro.report.tables.ordering import ordering
    from repro.report.tables.other_runs import other_runs
    from repro.report.tables.provenance import table_provenance
    from repro.report.tables.results import collect, judged_metric
    from repro.report.tables.seed_noise import measured_noise
    results = collect(spec, runs, profile, tolerance)
    metric = judged_metric(spec)
    # data other than the profile's own: a dataset of one's own (repro.compare), or a dataset layer (PGD Table 3's
    # CrowdHuman, in tiny its synthetic crowd stand-in); the measured noise is of the profile's own data
    dataset = spec.dataset or next((run.dataset for run in runs if run.dataset), None)
    noise = None if dataset else measured_noise(profile, 'AP')  # measured on the profile's own data only
    claims = judge(spec, results, metric, {noise.metric: noise.sigma} if noise else {})
    states = {s.key: s for r in results for s in r.runs}
    drawn, notes = make_figures(spec, runs, profile, out_dir) if figures else ([], [])
    return TableReport(spec, profile, tolerance, metric, results, ordering(results, metric),
                       table_provenance(spec, runs, states), drawn, notes,
                       seed_plan or planned_seeds(spec, runs), other_runs(spec, runs, profile), claims, noise,
                       dataset)


def write_report(spec, runs, profile: str, out_dir: str | Path | None = None, tolerance: float = DEFAULT_TOLERANCE,
                 wandb: str | None = None, figures: bool = True, echo: bool = True, seed_plan=None) -> Path:
    """Render one table's report into out_dir (default reports/<profile>/) and rebuild its index.html; copy the
    record of each of its finished runs into out_dir/runs/ (repro.runs.restore puts them back with --restore).

    Args:
        spec: the table (repro.tables.spec.TableSpec).
        runs: its planned runs (repro.plan.dag.plan(spec, profile, seeds)); their records are read from the store, and
            only theirs are averaged (other finished runs of the same configs are named in a footnote).
        tolerance: a row is reproduced when its mean is within ±tolerance of the paper (coco profile only).
        wandb: W&B mode of the report run (online / offline / disabled; default $REPRO_WANDB, else offline).
        figures: draw the table's figures (gradient maps, ...) from its runs' checkpoints.
        echo: print the table (Markdown) and where the files went.
        seed_plan: the seeds `runs` were planned with and why (repro.plan.seeds.SeedPlan); default: the
            seeds of the runs, for no stated reason.

    Returns:
        The table's Markdown file; .html, .tex, .csv and .json (the manifest) lie beside it.
    """
    from repro.report.tables.page import write_index, write_manifest
    from repro.report.tables.render import markdown_body, write_all
    from repro.report.tables.wandb_run import log_report
    from repro.runs.restore import keep_records
    out_dir = Path(out_dir) if out_dir is not None else default_report_dir(profile)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = build_report(spec, runs, profile, out_dir, tolerance, figures, seed_plan)
    report.provenance.report_run = log_report(report, out_dir, wandb)
    paths = write_all(report, out_dir)
    write_manifest(report, paths, out_dir)
    keep_records(runs, out_dir)
    index = write_index(out_dir, profile)
    if echo:
        print(markdown_body(report))
        figs = f" and {len(report.figures)} figure(s)" if report.figures else ''
        print(f"\nreport: {out_dir / report.slug}.{{md,html,tex,csv}}{figs}; index: {index}")
        for note in report.figure_notes:
            print(f'note: {note}')
    return paths['md']
