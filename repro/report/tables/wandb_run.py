"""The W&B report run of a table: its frames as wandb.Tables, its figures as images, the ordering statistics in
the summary. One run per table and profile (id `report-<profile>-<table file stem>`, job type `report`, grouped
by table like the training runs), in the mode repro.training.tracking resolves (`--wandb`, else $REPRO_WANDB, else
offline); offline runs are written under <report dir>/wandb. The harness never touches the API key.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

from repro.report.tables.frames import TableReport, csv_frame, display_frame
from repro.training.tracking import PROJECT_ENV, wandb_mode


def report_run_id(report: TableReport) -> str:
    return f'report-{report.profile}-{report.slug}'


def _clean(frame):
    """NaN -> None: W&B tables hold JSON, and NaN is not JSON."""
    return frame.astype(object).where(frame.notna(), None)


def log_report(report: TableReport, out_dir: Path, mode: str | None = None) -> str | None:
    """Log the report to its W&B run; returns the run's URL (online) or offline folder, None when disabled."""
    mode = wandb_mode(mode)
    if mode == 'disabled':
        return None
    import wandb
    settings = wandb.Settings(silent=True, disable_git=True, save_code=False, x_disable_stats=True,
                              console='off')
    run = wandb.init(project=os.environ.get(PROJECT_ENV, 'repro'), id=report_run_id(report), resume='allow',
                     name=f'report {report.spec.id} ({report.profile})', group=report.spec.id, job_type='report',
                     tags=[report.profile, 'report'], mode=mode, dir=str(out_dir), reinit='create_new',
                     settings=settings,
                     config=dict(table=report.spec.id, spec_version=report.spec.version, profile=report.profile,
                                 tolerance=report.tolerance, metric=report.metric,
                                 run_keys=[r.key for r in report.provenance.runs]))
    try:
        order = report.ordering
        payload = {'table': wandb.Table(dataframe=_clean(display_frame(report))),
                   'rows': wandb.Table(dataframe=_clean(csv_frame(report)))}
        for fig in report.figures:
            payload[f'figures/{fig.name}'] = wandb.Image(str(fig.path), caption=fig.caption)
        run.log(payload)
        rho = order.rho
        run.summary.update({'ordering/spearman': None if rho is None or math.isnan(rho) else rho,
                            'ordering/rows': len(order.rows), 'ordering/pairs': order.pairs,
                            'ordering/flips': len(order.flips),
                            **{f'verdicts/{r.row.id}': r.verdict for r in report.results},
                            **{f'figures/{f.name}/{k}': v for f in report.figures for k, v in f.data.items()
                               if isinstance(v, (int, float, str, dict))}})
        location = run.url if mode == 'online' and run.url else str(Path(run.dir).parent)
    finally:
        run.finish()
    return location
