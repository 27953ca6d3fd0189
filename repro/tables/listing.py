"""Text and JSON views of table specs, for `python -m repro.run --list` and `python -m repro.run TABLE`."""
from __future__ import annotations

import json

from repro.tables.spec import PAPERS, SPEC_DIR, TableSpec, is_named, missing_configs


def list_text(specs: dict[str, TableSpec]) -> str:
    width = max(len(i) for i in specs)
    lines = [f'{i:<{width}}  {len(s.rows):>3} rows  {len(s.claims):>2} claims  {s.title}' for i, s in specs.items()]
    lines.append(f"{len(specs)} tables in {SPEC_DIR}; a bare id such as table5 means CrossKD's (pgd:table5 for PGD's)")
    return '\n'.join(lines)


def spec_json(spec: TableSpec) -> dict:
    number = int(spec.number) if spec.number.isdigit() else spec.number
    return dict(id=spec.id, paper=spec.paper, number=number, title=spec.title, metrics=list(spec.metrics),
                rows=[dict(id=r.id, label=r.label, role=r.role, published=dict(r.published)) for r in spec.rows],
                claims=[dict(id=c.id, says=c.says, source=c.source, better=c.better, than=list(c.than), margin=c.margin,
                             metric=c.metric) for c in spec.claims])


def list_json(specs: dict[str, TableSpec]) -> str:
    return json.dumps([spec_json(s) for s in specs.values()], indent=2, ensure_ascii=False)


def describe(spec: TableSpec) -> str:
    """The table as the paper prints it, with the run each row needs."""
    import textwrap
    head = f'{spec.id}: {PAPERS[spec.paper]} Table {spec.number}. {spec.title}'
    if is_named(spec.number):
        head = f'{spec.id}: {spec.title}'
    lines = [head, f'({spec.path.name}, version {spec.version})', *textwrap.wrap(spec.description, 100)]
    if spec.default_overrides:
        lines.append(f"defaults for {', '.join(spec.default_roles)} rows: {' '.join(spec.default_overrides)}")
    labels = [(f'{r.group} / ' if r.group else '') + r.label for r in spec.rows]
    label_w = max(len(spec.label_header or 'row'), *(len(l) for l in labels))
    id_w = max(2, *(len(r.id) for r in spec.rows))
    cols = [f"{'id':<{id_w}}", f"{spec.label_header or 'row':<{label_w}}", f"{'role':<9}",
            *(f'{m:>5}' for m in spec.metrics), 'run']
    lines += ['', '  '.join(cols)]
    missing = set(missing_configs(spec))
    for row, label in zip(spec.rows, labels):
        values = [f"{'—' if v is None else f'{v:.1f}':>5}" for v in row.published.values()]
        own = [o for o in row.run.overrides if o not in spec.default_overrides]
        run = ' '.join([row.run.config + (' (missing)' if row.run.config in missing else ''), *own])
        lines.append('  '.join([f'{row.id:<{id_w}}', f'{label:<{label_w}}', f'{row.role:<9}', *values, run]))
        if row.note or not row.printed:
            lines.append(f"{'':<{id_w}}  note: {'(not in the printed table) ' if not row.printed else ''}"
                         f"{row.note or ''}".rstrip())
    if spec.claims:
        lines += ['', f"The paper's claims ({len(spec.claims)}), each judged by the report from paired seeds:"]
    for claim in spec.claims:
        margin = f' by more than {claim.margin:g}' if claim.margin else ''
        rows = f"{claim.better} > {', '.join(claim.than)}{margin}" + (f' ({claim.metric})' if claim.metric else '')
        lines.append(f'  {claim.id}: {claim.says} [{rows}]')
        lines += [f'      {line}' for line in textwrap.wrap(f'source: {claim.source}', 94)]
    return '\n'.join(lines)
