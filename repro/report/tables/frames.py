"""A table report as pandas frames and header lines: one frame to read (strings, as the paper prints them beside
ours) and one to compute with (numbers, the CSV), plus the sentences above the table.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from repro.report.tables.claims import NOT_RUN, Z, ClaimResult, headline
from repro.report.tables.ordering import Ordering
from repro.report.tables.other_runs import OtherRun
from repro.report.tables.provenance import TableProvenance
from repro.report.tables.results import COMPARABLE_PROFILES, FAILED, RowResult, counts
from repro.report.tables.seed_noise import SeedNoise
from repro.tables.spec import is_named
from repro.plan.seeds import SeedPlan, seeds_text
from repro.tables.spec import PAPERS

DASH = '—'


@dataclass
class TableReport:
    """Everything one table's report shows; the writers in repro.report.tables.render turn it into files."""
    spec: object  # repro.tables.spec.TableSpec
    profile: str
    tolerance: float
    metric: str  # the judged metric
    results: list[RowResult]
    ordering: Ordering
    provenance: TableProvenance
    figures: list = field(default_factory=list)  # repro.report.figures.Figure
    figure_notes: list[str] = field(default_factory=list)  # figures that could not be made, and why
    seed_plan: SeedPlan | None = None  # the seeds every row is planned with, and why those
    others: dict[str, list[OtherRun]] = field(default_factory=dict)  # row id -> finished runs outside the plan
    claims: list[ClaimResult] = field(default_factory=list)  # the spec's claims with their verdicts
    noise: SeedNoise | None = None  # the profile's measured seed noise the claims were judged against
    dataset: str | None = None  # the data its runs use where not the profile's own, on which no noise was measured

    @property
    def slug(self) -> str:
        """The file stem of the table's outputs: the spec's own, e.g. crosskd_table1."""
        return self.spec.path.stem

    @property
    def comparable(self) -> bool:
        return self.profile in COMPARABLE_PROFILES

    @property
    def title(self) -> str:
        return table_title(self.spec)


def table_title(spec) -> str:
    """'CrossKD Table 1: Positions to apply CrossKD', 'Rank Mimicking headline: ...'."""
    if spec.dataset:  # repro.compare's table: no paper
        return spec.title
    name = spec.number if is_named(spec.number) else f'Table {spec.number}'
    return f'{PAPERS[spec.paper]} {name}: {spec.title}'


def _num(value: float | None, digits: int = 1) -> str:
    return DASH if value is None else f'{value:.{digits}f}'


def _signed(value: float, digits: int) -> str:
    return f'{value:+.{digits}f}'


def ours_cell(result: RowResult, metric: str, pm: str = '±') -> str:
    """'37.9' (one seed), '37.85 ± 0.21' (several), then the delta to the paper in brackets where it has one."""
    values = result.values.get(metric) or []
    if not values:
        return DASH
    digits = 1 if len(values) == 1 else 2
    text = _num(result.mean(metric), digits)
    if len(values) > 1:
        text += f' {pm} {result.std(metric):.2f}'
    delta = result.delta_of(metric)
    return text if delta is None else f'{text} ({_signed(delta, digits)})'


def order_cell(result: RowResult, ordering: Ordering, labels: dict[str, str]) -> str:
    if result.row.id not in ordering.rows:
        return ''
    others = ordering.flips_of(result.row.id)
    return 'kept' if not others else 'flips vs ' + ', '.join(labels[o] for o in others)


def notes_cell(result: RowResult) -> str:
    """The spec's note, why the row did not run or failed, seeds that did not finish beside ones that did, and how
    the finished runs trained: their effective batch and LR, and their teacher's measured AP."""
    notes = [result.row.note] if result.row.note else []
    if not result.row.printed:
        notes.append('not a row of the printed table')
    if result.reason:
        notes.append(result.reason)
    elif result.done and len(result.done) < len(result.runs):
        notes += [f'seed {s.seed}: {s.state}' + (f' ({s.reason})' if s.reason else '')
                  for s in result.runs if s.state != 'done']
    return '; '.join(notes + training_notes(result))


def training_notes(result: RowResult) -> list[str]:
    """'batch 16, LR 0.01', 'teacher 22.6 AP' and 'student 10.2M params, 39 MB; teacher 51.3M params, 196 MB' (the
    exported student beside its teacher) over the row's finished runs (each distinct value once; runs recorded
    before the harness kept them say nothing)."""
    from repro.training.export import describe
    records = [s.record or {} for s in result.done]
    batches = sorted({(r['effective_batch'], r['lr']) for r in records if r.get('effective_batch')})
    teachers = sorted({r['teacher_ap'] for r in records if r.get('teacher_ap') is not None})
    sizes = sorted({describe(r['export']) for r in records if (r.get('export') or {}).get('student')})
    notes = [', '.join(f'batch {b}, LR {lr:g}' for b, lr in batches)] if batches else []
    return notes + ([f"teacher {', '.join(f'{ap:g}' for ap in teachers)} AP"] if teachers else []) + sizes


def seeds_cell(result: RowResult) -> str:
    """The seeds the row's numbers average: 'seeds 0, 1, 2'; 'seeds 0, 1 of 0, 1, 2' where some did not finish."""
    planned, done = [s.seed for s in result.runs], [s.seed for s in result.done]
    if not planned:
        return DASH
    if done == planned:
        return seeds_text(done)
    return f"{seeds_text(done) if done else 'none'} of {', '.join(str(s) for s in planned)}"


def footnotes(report: TableReport) -> list[str]:
    """One sentence per row whose config has finished runs in the store that the plan does not name."""
    lines = []
    for result in report.results:
        others = report.others.get(result.row.id) or []
        if others:
            what = '1 more finished run' if len(others) == 1 else f'{len(others)} more finished runs'
            seeds = seeds_text(sorted({r.seed for r in others}))
            verb = 'is' if len(others) == 1 else 'are'
            lines.append(f'{result.row.label}: {what} of this config in the store ({seeds}) {verb} not part of '
                         'this plan.')
    return lines


def display_frame(report: TableReport, pm: str = '±') -> pd.DataFrame:
    """The table to read: label, role, per metric the paper's number and ours (mean ± std, with the delta), n and
    the seeds averaged, verdict, the ordering (where rows were compared) and notes. `pm` is the plus-minus sign
    (LaTeX: '$\\pm$')."""
    spec = report.spec
    labels = {r.id: r.label for r in spec.rows}
    has_groups = any(r.group for r in spec.rows)
    rows = []
    for result in report.results:
        row = result.row
        line = {'Group': row.group or ''} if has_groups else {}
        line.update({spec.label_header or 'Row': row.label, 'Role': row.role})
        for metric in spec.metrics:
            if spec.dataset:  # no paper, so no paper column
                line[metric] = ours_cell(result, metric, pm)
                continue
            line[f'{metric} paper'] = _num(row.published.get(metric))
            line[f'{metric} ours'] = ours_cell(result, metric, pm)
        line['n'] = str(len(result.done))
        line['Seeds'] = seeds_cell(result)
        if not spec.dataset:  # no published number to hold a row against: the claims are the verdicts
            line['Verdict'] = result.verdict
        if report.ordering.rows:
            line['Order'] = order_cell(result, report.ordering, labels)
        line['Notes'] = notes_cell(result)
        rows.append(line)
    return pd.DataFrame(rows)


def csv_frame(report: TableReport) -> pd.DataFrame:
    """The table to compute with: one line per row, numbers as numbers (NaN where there is none)."""
    spec, labels = report.spec, {r.id: r.label for r in report.spec.rows}
    rows = []
    for result in report.results:
        row = result.row
        line = {'table': spec.id, 'row': row.id, 'label': row.label, 'group': row.group or '', 'role': row.role,
                'printed': row.printed, 'n': len(result.done), 'seeds': ' '.join(str(s.seed) for s in result.done),
                'seeds_planned': ' '.join(str(s.seed) for s in result.runs),
                'seeds_not_in_plan': ' '.join(str(r.seed) for r in report.others.get(row.id, [])),
                'verdict': result.verdict, 'reason': result.reason or '', 'profile': report.profile,
                'tolerance': report.tolerance, 'order': order_cell(result, report.ordering, labels),
                'run_keys': ' '.join(s.key for s in result.runs)}
        for metric in spec.metrics:
            line[f'{metric}_paper'] = row.published.get(metric)
            line[f'{metric}_mean'] = result.mean(metric)
            line[f'{metric}_std'] = result.std(metric)
            line[f'{metric}_delta'] = result.delta_of(metric)
        rows.append(line)
    return pd.DataFrame(rows)


def ordering_sentence(report: TableReport, labels: dict[str, str] | None = None) -> str:
    order, metric = report.ordering, report.metric
    labels = labels or {r.id: r.label for r in report.spec.rows}
    if len(order.rows) < 2:
        return (f'Ordering: fewer than two distilled rows have both a published and a reproduced {metric}; '
                'nothing to compare yet.')
    rho = 'undefined (all values tied on one side)' if order.rho is None else f'{order.rho:.2f}'
    text = (f'Ordering of the {len(order.rows)} distilled rows by {metric}: Spearman rank correlation between '
            f'published and reproduced {metric} = {rho}.')
    within = ' within a row group' if any(r.group for r in report.spec.rows) else ''
    if not order.pairs:
        return text + f' No pair{within} with different published numbers to compare.'
    if not order.flips:
        return text + f' No pairwise ordering flips ({order.pairs} pairs{within} compared): the ordering holds.'
    flips = '; '.join(f'{labels[f.a]} > {labels[f.b]} in the paper ({f.published[0]:.1f} vs {f.published[1]:.1f}) '
                      f'but {f.ours[0]:.2f} < {f.ours[1]:.2f} here' for f in order.flips)
    return text + f' {len(order.flips)} of {order.pairs} pairwise orderings{within} flip: {flips}.'


def noise_sentence(report: TableReport) -> str:
    if report.dataset:
        return (f'No seed noise is measured on {report.dataset}: a claim is judged on the spread of its paired '
                f'seeds alone (it holds where the mean paired difference exceeds its margin by more than {Z:g} '
                'standard errors), so with one seed every claim is inconclusive; --seeds 3 or more give verdicts.')
    if report.noise is not None:
        return report.noise.sentence() + (f' A claim holds where the paired difference exceeds its margin by more '
                                          f'than {Z:g} standard errors.')
    return (f'No seed noise has been measured for the {report.profile} profile (benchmarks/seed_noise.py): claims '
            'are judged on the spread of their paired seeds alone, and a claim with one seed is inconclusive.')


def header_lines(report: TableReport) -> list[str]:
    """The sentences above the table: what it is, how to read it, the claims headline, the row verdict counts and,
    secondary, the ordering."""
    spec = report.spec
    lines = [spec.description.strip(), f'Spec {report.provenance.spec}.']
    if spec.dataset:
        models = ('narrow CPU-sized models, small images' if report.profile == 'tiny'
                  else "the papers' models and schedules")
        lines.append(f'Measured on {spec.dataset} under the {report.profile} profile ({models}); there are no '
                     'published numbers: the claims say whether each method beats the student baseline.')
    elif report.comparable:
        lines.append(f'Reproduced under the {report.profile} profile. A row is reproduced when its mean '
                     f'{report.metric} over seeds is within ±{report.tolerance:g} of the published number.')
    else:
        lines.append(f'Reproduced under the {report.profile} profile (synthetic data, CPU-sized models): absolute '
                     'numbers are NOT comparable with the paper\'s COCO numbers, so rows are not judged against '
                     'them; what this profile can judge is whether the paper\'s claims about the table hold.')
    if report.seed_plan is not None:
        lines.append(report.seed_plan.sentence())
    lines.append(headline(report.claims))
    if report.claims:
        lines.append(noise_sentence(report))
    machines = machines_sentence(report)
    if machines:
        lines.append(machines)
    tally = ', '.join(f'{n} {v}' for v, n in counts(report.results).items())
    if not spec.dataset:  # the row verdicts and the ordering are against published numbers
        lines.append(f'Rows: {tally}.')
        lines.append('Secondary: ' + ordering_sentence(report))
    return lines


def machines_sentence(report: TableReport) -> str | None:
    """Where the finished runs were measured on more than one CPU model: how many on each, and what that means."""
    from collections import Counter
    cpus = Counter(r.cpu for r in report.provenance.runs if r.state == 'done' and r.cpu)
    if len(cpus) < 2:
        return None
    each = ', '.join(f'{cpu}: {n}' for cpu, n in cpus.most_common())
    return (f'Runs measured on {len(cpus)} CPU models ({each} finished runs): a run key gives bit-identical numbers '
            'on one CPU model only, so a claim whose paired runs ran on two says so beside its difference.')


def difference_cell(result: ClaimResult, report: TableReport) -> str:
    """The weakest pair's paired difference: '+1.23 ± 0.80' (± Z standard errors), with the row it is against
    where the claim names several. With no paired seed, it names the pair's rows whose runs failed."""
    labels = {r.id: r.label for r in report.spec.rows}
    pair = result.weakest
    against = f' vs {labels[pair.than]}' if len(result.pairs) > 1 else ''
    if pair.diff is None:
        failed = [labels[r.row.id] for r in report.results
                  if r.verdict == FAILED and r.row.id in (result.claim.better, pair.than)]
        return f'no seed finished by both rows{against}' + (f" ({', '.join(failed)}: failed)" if failed else '')
    if pair.se is None:
        text = f'{pair.diff:+.2f}{against} (one seed, no measured noise)'
    else:
        text = f'{pair.diff:+.2f} ± {Z * pair.se:.2f}{against}'
    crossed = {(b, t) for _, b, t in pair.crossed}
    if crossed:
        seeds = seeds_text([s for s, _, _ in pair.crossed])
        text += f"; {seeds} measured on two CPU models ({'; '.join(f'{b} vs {t}' for b, t in sorted(crossed))})"
    return text


def claims_frame(report: TableReport) -> pd.DataFrame:
    """One line per claim: what it says, the rows it compares, the verdict, the paired difference, the seeds and
    where in the paper it comes from."""
    labels = {r.id: r.label for r in report.spec.rows}
    lines = []
    for result in report.claims:
        claim = result.claim
        margin = f' by more than {claim.margin:g}' if claim.margin else ''
        pair = result.weakest
        lines.append({'Claim': claim.says,
                      'Rows': f"{labels[claim.better]} > {', '.join(labels[t] for t in claim.than)}{margin}",
                      'Metric': result.metric, 'Verdict': result.verdict,
                      f'Difference (± {Z:g} se)': difference_cell(result, report),
                      'Paired seeds': DASH if result.verdict == NOT_RUN and not pair.seeds else ', '.join(
                          str(s) for s in pair.seeds) or DASH,
                      'Source': claim.source})
    return pd.DataFrame(lines)


def provenance_lines(report: TableReport) -> list[tuple[str, str]]:
    """(label, text) pairs of the footer, before the list of runs."""
    prov = report.provenance
    items = [('Spec', prov.spec)]
    items.append(('Commit', ', '.join(prov.commits) or 'no finished run'))
    for i, packages in enumerate(prov.packages):
        label = 'Packages' if len(prov.packages) == 1 else f'Packages ({i + 1})'
        items.append((label, ', '.join(f'{k} {v}' for k, v in packages.items())))
    for i, hw in enumerate(prov.hardware):
        label = 'Hardware' if len(prov.hardware) == 1 else f'Hardware ({i + 1})'
        items.append((label, ', '.join(f'{k} {v}' for k, v in hw.items())))
    items.append(('W&B report run', prov.report_run or 'not logged (W&B disabled)'))
    return items


def runs_frame(report: TableReport) -> pd.DataFrame:
    """The runs behind the table, for the footer."""
    return pd.DataFrame([{'Run key': r.key, 'Role': r.role, 'Config': r.config, 'Seed': r.seed, 'State': r.state,
                          'CPU': r.cpu or DASH, 'Rows': ', '.join(r.rows) or '(teacher of others)',
                          'W&B': r.wandb or DASH}
                         for r in report.provenance.runs])


def relative(path: Path, start: Path) -> str:
    import os
    return Path(os.path.relpath(path, start)).as_posix()
