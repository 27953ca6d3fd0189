"""A verdict for each of a table's claims (repro.tables.claims), from paired seeds against the measured noise.

A claim says row B beats row T by more than a margin m. For each pair (B, T) the report takes the seeds both rows
finished, the per-seed differences d_s = B_s - T_s, their mean d and its standard error

    se = max(sigma * sqrt(2 / n), stdev(d_s) / sqrt(n))

where sigma is the profile's measured seed-to-seed standard deviation of one run's AP (repro.report.tables.seed_noise;
the first term is the error of a difference of two independent n-seed means) and the second term, with n >= 2,
is what the pairs themselves show. The claim

- holds where d - Z*se > m (B beats T by more than m, beyond the noise),
- is contradicted where d + Z*se < m (it measurably does not),
- and is inconclusive otherwise: the difference is within the noise. With one seed and no measured noise for
  the profile there is no uncertainty to judge with, and the claim is inconclusive whatever the difference.

Z = 2, about a 95% interval under normal noise. A claim over several rows (B beats each of T1, T2, ...) holds
where every pair holds and is contradicted where any pair is; the difference shown is that of its weakest pair.
A pair with no seed finished by both rows leaves the claim 'not run'. A seed whose two runs were measured on
different CPU models is marked (`crossed`): a run key is bit-identical on one CPU model only (repro.runs.restore),
so such a pair differs by machine as well as by method.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace

from repro.report.tables.results import RowResult
from repro.runs.store import cpu_of

Z = 2.0
HOLDS, CONTRADICTED, INCONCLUSIVE, NOT_RUN = 'holds', 'contradicted', 'inconclusive', 'not run'
CLAIM_VERDICTS = (HOLDS, CONTRADICTED, INCONCLUSIVE, NOT_RUN)


@dataclass(frozen=True)
class PairTest:
    """B against one T: the seeds both finished, the mean paired difference and its standard error."""
    than: str
    seeds: tuple[int, ...]
    diff: float | None  # None: no paired seed
    se: float | None  # None: nothing to judge the difference with
    verdict: str
    crossed: tuple[tuple[int, str, str], ...] = ()  # (seed, B's CPU model, T's) where the two differ

    def interval(self) -> tuple[float, float] | None:
        if self.diff is None or self.se is None:
            return None
        return self.diff - Z * self.se, self.diff + Z * self.se


@dataclass(frozen=True)
class ClaimResult:
    claim: object  # repro.tables.claims.Claim
    metric: str
    verdict: str
    pairs: tuple[PairTest, ...]

    @property
    def weakest(self) -> PairTest:
        """The pair that decides the verdict: a contradicted one, else the one with the lowest lower bound."""
        for pair in self.pairs:
            if pair.verdict == self.verdict and self.verdict in (CONTRADICTED, NOT_RUN):
                return pair
        judged = [p for p in self.pairs if p.diff is not None]
        if not judged:
            return self.pairs[0]
        return min(judged, key=lambda p: p.diff - Z * (p.se or 0.0))


def per_seed(result: RowResult, metric: str) -> dict[int, float]:
    """Seed -> the metric of the row's finished run at that seed."""
    out = {}
    for state in result.done:
        value = (state.record.get('metrics') or {}).get(metric)
        if value is not None:
            out[state.seed] = float(value)
    return out


def cpu_per_seed(result: RowResult) -> dict[int, str]:
    """Seed -> the CPU model the row's finished run at that seed was measured on, where its record says."""
    return {state.seed: cpu_of(state.record or {}) for state in result.done if cpu_of(state.record or {})}


def crossed_seeds(pair: PairTest, better: RowResult, than: RowResult) -> PairTest:
    """The pair with its seeds measured on two different CPU models marked."""
    b, t = cpu_per_seed(better), cpu_per_seed(than)
    crossed = tuple((s, b[s], t[s]) for s in pair.seeds if s in b and s in t and b[s] != t[s])
    return replace(pair, crossed=crossed) if crossed else pair


def pair_test(better: dict[int, float], than: dict[int, float], than_id: str, margin: float,
              sigma: float | None) -> PairTest:
    seeds = tuple(sorted(set(better) & set(than)))
    if not seeds:
        return PairTest(than_id, seeds, None, None, NOT_RUN)
    diffs = [better[s] - than[s] for s in seeds]
    n, diff = len(seeds), statistics.mean(diffs)
    errors = [sigma * math.sqrt(2 / n)] if sigma is not None else []
    if n >= 2:
        errors.append(statistics.stdev(diffs) / math.sqrt(n))
    if not errors:
        return PairTest(than_id, seeds, diff, None, INCONCLUSIVE)
    se = max(errors)
    if diff - Z * se > margin:
        verdict = HOLDS
    elif diff + Z * se < margin:
        verdict = CONTRADICTED
    else:
        verdict = INCONCLUSIVE
    return PairTest(than_id, seeds, diff, se, verdict)


def combine(verdicts: list[str]) -> str:
    """A claim over several pairs: contradicted by any, not run where any pair is, holds where all hold."""
    for verdict in (CONTRADICTED, NOT_RUN, INCONCLUSIVE):
        if verdict in verdicts:
            return verdict
    return HOLDS


def judge(spec, results: list[RowResult], default_metric: str, sigmas: dict[str, float]) -> list[ClaimResult]:
    """Every claim of `spec` judged on `results` (repro.report.tables.results.collect); sigmas: metric -> the profile's
    measured seed standard deviation of one run (a metric never measured is left out)."""
    by_id = {r.row.id: r for r in results}
    out = []
    for claim in spec.claims:
        metric = claim.metric or default_metric
        better = per_seed(by_id[claim.better], metric)
        pairs = tuple(crossed_seeds(pair_test(better, per_seed(by_id[t], metric), t, claim.margin, sigmas.get(metric)),
                                    by_id[claim.better], by_id[t]) for t in claim.than)
        out.append(ClaimResult(claim, metric, combine([p.verdict for p in pairs]), pairs))
    return out


def claim_counts(judged: list[ClaimResult]) -> dict[str, int]:
    """Verdict -> number of claims, in CLAIM_VERDICTS order, zero counts left out."""
    tally = {v: sum(c.verdict == v for c in judged) for v in CLAIM_VERDICTS}
    return {v: n for v, n in tally.items() if n}


def tally(counts: dict[str, int]) -> str:
    """'5 hold, 1 contradicted, 2 inconclusive' from claim_counts' verdict -> number: each verdict as it reads,
    but 'hold' after any count other than one."""
    return ', '.join(f'{counts[v]} {"hold" if v == HOLDS and counts[v] != 1 else v}'
                     for v in CLAIM_VERDICTS if counts.get(v))


def headline(judged: list[ClaimResult]) -> str:
    """'Claims: 5 hold, 1 contradicted, 2 inconclusive (of 8).'"""
    if not judged:
        return 'Claims: this table states none.'
    return f'Claims: {tally(claim_counts(judged))} (of {len(judged)}).'
