"""A paper's claims about one table, as data: the `claims:` list of a spec.

Each claim says that one row beats one or more others on a metric, by more than a margin:

    claims:
      - id: crosskd_beats_ld
        says: CrossKD at the 3rd layer beats LD
        source: 'Sec. 4.2: "our CrossKD can improve the distillation performance for all the choices of i"'
        better: crosskd_l3        # a row id
        than: [ld]                # row ids; several: `better` beats each (e.g. "AP peaks at K = 30")
        margin: 0                 # AP points `better` must exceed each of `than` by (optional, default 0)
        metric: AP                # optional, default the table's judged metric (AP where it has it)

"A >= B" is written as A beats B with margin 0: the report then asks whether A is measurably above B, which is
what a paper means by "further improves". `source` quotes the sentence or names the table cells the claim comes
from. repro.report.tables.claims gives each claim its verdict from paired seeds.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_CLAIM_ID = re.compile(r'^[a-z0-9][a-z0-9_]*$')
_FIELDS = dict(required=('id', 'says', 'source', 'better', 'than'), optional=('margin', 'metric'))


@dataclass(frozen=True)
class Claim:
    id: str
    says: str  # the claim in words
    source: str  # the paper's sentence or table cells it comes from
    better: str  # row id
    than: tuple[str, ...]  # row ids
    margin: float = 0.0  # in the metric's units (AP points)
    metric: str | None = None  # None: the table's judged metric


def parse_claims(check, value, row_ids: list[str], metrics: tuple[str, ...]) -> tuple[Claim, ...]:
    """The `claims:` list of a spec, checked with the spec's _Checker against its row ids and metric columns."""
    claims, seen = [], set()
    for i, data in enumerate(check.seq(value, 'claims')):
        field = f'claims[{i}]'
        check.mapping(data, field, _FIELDS)
        claim_id = check.unique_id(data['id'], f'{field}.id', _CLAIM_ID, 'crosskd_beats_ld', seen, 'claim')
        field = f'{field} ({claim_id})'
        says, source = check.text(data['says'], f'{field}.says'), check.text(data['source'], f'{field}.source')
        better = _row_ref(check, data['better'], f'{field}.better', row_ids)
        than = data['than'] if isinstance(data['than'], list) else [data['than']]
        if not than:
            check.fail(f'{field}.than', 'empty; name the row(s) the claim says `better` beats')
        than = tuple(_row_ref(check, r, f'{field}.than', row_ids) for r in than)
        if better in than or len(set(than)) < len(than):
            check.fail(f'{field}.than', f'names {better if better in than else "a row"} twice')
        margin = data.get('margin', 0)
        if isinstance(margin, bool) or not isinstance(margin, (int, float)):
            check.fail(f'{field}.margin', f'expected a number of AP points, got {margin!r}')
        metric = data.get('metric')
        if metric is not None and metric not in metrics:
            check.fail(f'{field}.metric', f"{metric!r} is not a metric column of this table ({', '.join(metrics)})")
        claims.append(Claim(claim_id, says.strip(), source.strip(), better, than, float(margin), metric))
    return tuple(claims)


def _row_ref(check, value, field: str, row_ids: list[str]) -> str:
    if not isinstance(value, str) or value not in row_ids:
        import difflib
        close = difflib.get_close_matches(str(value), row_ids, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; rows: {', '.join(row_ids)}"
        check.fail(field, f'no row {value!r} in this table{hint}')
    return value
