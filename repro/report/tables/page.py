"""reports/<profile>/index.html: every table spec, linked to its rendered report (or marked not run), and every
figure. Self-contained: inline CSS, no script, images from the report folder itself, so it opens offline.

Each rendered table leaves a manifest (<slug>.json) beside its files; the index is rebuilt from the manifests and
the table specs, so tables rendered by separate commands all appear.
"""
from __future__ import annotations

import html
import json
import time
from pathlib import Path

from repro.report.tables.claims import claim_counts, tally
from repro.report.tables.frames import TableReport, difference_cell, relative, table_title
from repro.report.tables.render import page, write_text
from repro.report.tables.results import VERDICTS, counts

INDEX = 'index.html'
FORMATS = ('html', 'md', 'tex', 'csv')


def claims_manifest(report: TableReport) -> list[dict]:
    return [{'id': c.claim.id, 'says': c.claim.says, 'source': c.claim.source, 'better': c.claim.better,
             'than': list(c.claim.than), 'margin': c.claim.margin, 'metric': c.metric, 'verdict': c.verdict,
             'difference': difference_cell(c, report),
             'pairs': [{'than': p.than, 'seeds': list(p.seeds), 'diff': p.diff, 'se': p.se, 'verdict': p.verdict,
                        'cpus_differ': [{'seed': s, 'better': b, 'than': t} for s, b, t in p.crossed]}
                       for p in c.pairs]} for c in report.claims]


def manifest(report: TableReport, paths: dict[str, Path], out_dir: Path) -> dict:
    order = report.ordering
    return {'claims': claims_manifest(report), 'claim_counts': claim_counts(report.claims),
            'noise_sigma': report.noise.sigma if report.noise else None,
            'id': report.spec.id, 'title': report.title, 'slug': report.slug, 'profile': report.profile,
            'spec_version': report.spec.version, 'tolerance': report.tolerance, 'metric': report.metric,
            'counts': counts(report.results), 'ordering': {'rho': order.rho, 'rows': len(order.rows),
                                                          'pairs': order.pairs, 'flips': len(order.flips)},
            'seeds': report.seed_plan.seeds if report.seed_plan else None,
            'files': {ext: relative(p, out_dir) for ext, p in paths.items()},
            'figures': [{'name': f.name, 'title': f.title, 'path': relative(f.path, out_dir), 'caption': f.caption}
                        for f in report.figures],
            'figure_notes': report.figure_notes, 'wandb': report.provenance.report_run,
            'generated': time.strftime('%Y-%m-%d %H:%M:%S %z')}


def write_manifest(report: TableReport, paths: dict[str, Path], out_dir: Path) -> Path:
    path = out_dir / f'{report.slug}.json'
    write_text(path, json.dumps(manifest(report, paths, out_dir), indent=1, sort_keys=True))
    return path


def read_manifests(out_dir: Path) -> dict[str, dict]:
    """Table id -> manifest, for every table rendered into out_dir (unreadable manifests are skipped: the index
    is rebuilt from whatever is there)."""
    found = {}
    for path in sorted(out_dir.glob('*.json')):
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(data, dict) and {'id', 'slug', 'files'} <= set(data):
            found[data['id']] = data
    return found


def remove_rendered(out_dir: Path, slug: str) -> None:
    """Drop a table's rendered files (when it no longer has results), so the index marks it not run."""
    for ext in (*FORMATS, 'json'):
        (out_dir / f'{slug}.{ext}').unlink(missing_ok=True)


def _status(data: dict) -> str:
    claims = tally(data.get('claim_counts') or {})
    found = data.get('counts', {})
    rows = ', '.join(f'{found[v]} {v}' for v in VERDICTS if found.get(v))
    text = (f'claims: {claims}; rows: ' if claims else '') + rows
    order = data.get('ordering') or {}
    if order.get('rows', 0) >= 2:
        rho = order.get('rho')
        text += f"; Spearman {'n/a' if rho is None else f'{rho:.2f}'}, {order.get('flips', 0)} flip(s)"
    return text


def write_index(out_dir: Path, profile: str, specs: dict | None = None, notes: dict[str, str] | None = None) -> Path:
    """Rebuild out_dir/index.html from the table specs (repro.tables.spec.load_all) and the manifests there.
    `notes`: table id -> why it was not rendered (shown instead of 'not run')."""
    from repro.tables.spec import load_all
    specs = load_all() if specs is None else specs
    rendered, notes, e = read_manifests(out_dir), notes or {}, html.escape
    ids = list(specs) + [i for i in rendered if i not in specs]
    rows, figures = [], []
    for table_id in ids:
        data = rendered.get(table_id)
        spec = specs.get(table_id)
        title = data['title'] if data else table_title(spec)
        if data:
            links = ' '.join(f'<a href="{e(data["files"][f])}">{f.upper()}</a>' for f in FORMATS if f in data['files'])
            status = e(_status(data))
            figures += [(table_id, fig) for fig in data.get('figures', [])]
        else:
            links, status = '', e(notes.get(table_id, 'not run'))
        rows.append(f'<tr><td>{e(table_id)}</td><td>{e(title)}</td><td>{status}</td><td>{links}</td></tr>')
    body = [f'<h1>Reproduction report ({e(profile)} profile)</h1>',
            f'<p>{len(rendered)} of {len(ids)} tables have results. Each table links its report as HTML, Markdown, '
            'LaTeX and CSV.</p>']
    if profile != 'coco':
        body.append(f'<p class="caveat">The {e(profile)} profile trains on synthetic data with CPU-sized models: its '
                    'absolute numbers are not comparable with the papers\' COCO numbers; each table judges whether '
                    'the papers\' claims about it hold, against the measured seed noise.</p>')
    body += ['<table class="index"><thead><tr><th>Table</th><th>Title</th><th>Status</th><th>Files</th></tr></thead>',
             '<tbody>', *rows, '</tbody></table>', '<h2>Figures</h2>']
    if not figures:
        body.append('<p>No figure yet: figures are drawn from finished runs of the tables that need them.</p>')
    shown: dict[str, list] = {}  # tables that share runs share a figure: show it once, naming them all
    for table_id, fig in figures:
        shown.setdefault(fig['path'], [fig, []])[1].append(table_id)
    for fig, tables in shown.values():
        body.append(f'<figure><img src="{e(fig["path"])}" alt="{e(fig["title"])}"><figcaption><b>'
                    f'{e(", ".join(tables))}: {e(fig["title"])}.</b> {e(fig["caption"])}</figcaption></figure>')
    path = out_dir / INDEX
    write_text(path, page(f'Reproduction report ({profile})', '\n'.join(body)))
    return path
