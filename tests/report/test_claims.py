"""Claims as data and their verdicts: the spec schema's checks, the paired-seed test on hand-computed cases, and a
report over a faked store whose claim verdicts do not move when an unrelated run is added."""
import json
import math

import pytest
import yaml

from conftest import FAST
from report_store import write_done
from repro.errors import ReproError
from repro.plan.dag import plan
from repro.report.tables import claims as C
from repro.report.tables import seed_noise
from repro.report.__main__ import main as report_main
from repro.tables.spec import load_all, load_spec


# --- the paired test, by hand ---------------------------------------------------------------------------------
def test_three_paired_seeds_use_the_larger_of_the_two_standard_errors():
    better, than = {0: 30.0, 1: 31.0, 2: 32.0}, {0: 28.0, 1: 30.0, 2: 29.0}  # differences 2, 1, 3
    pair = C.pair_test(better, than, 't', 0.0, sigma=0.5)
    # stdev(2, 1, 3) / sqrt(3) = 0.577 > 0.5 * sqrt(2 / 3) = 0.408
    assert pair.seeds == (0, 1, 2) and pair.diff == 2.0 and pair.se == pytest.approx(1 / math.sqrt(3))
    assert pair.verdict == C.HOLDS  # 2 - 2 * 0.577 = 0.85 > 0
    assert C.pair_test(better, than, 't', 1.0, 0.5).verdict == C.INCONCLUSIVE  # 0.85 < 1 < 3.15
    assert C.pair_test(better, than, 't', 3.5, 0.5).verdict == C.CONTRADICTED  # 3.15 < 3.5
    noisy = C.pair_test(better, than, 't', 0.0, sigma=2.0)  # 2 * sqrt(2 / 3) = 1.63 > 0.577
    assert noisy.se == pytest.approx(2 * math.sqrt(2 / 3)) and noisy.verdict == C.INCONCLUSIVE  # 2 - 3.27 < 0


def test_one_seed_is_judged_by_the_measured_noise_or_not_at_all():
    assert C.pair_test({0: 33.0}, {0: 30.0}, 't', 0.0, sigma=1.0).verdict == C.HOLDS  # 3 - 2 * 1.414 = 0.17
    assert C.pair_test({0: 32.0}, {0: 30.0}, 't', 0.0, sigma=1.0).verdict == C.INCONCLUSIVE  # 2 - 2.83 < 0
    assert C.pair_test({0: 26.0}, {0: 30.0}, 't', 0.0, sigma=1.0).verdict == C.CONTRADICTED  # -4 + 2.83 < 0
    alone = C.pair_test({0: 40.0}, {0: 30.0}, 't', 0.0, sigma=None)
    assert alone.verdict == C.INCONCLUSIVE and alone.diff == 10.0 and alone.se is None


def test_only_seeds_both_rows_finished_are_paired():
    pair = C.pair_test({0: 35.0, 1: 36.0, 2: 34.0}, {1: 30.0, 2: 31.0, 3: 90.0}, 't', 0.0, sigma=None)
    assert pair.seeds == (1, 2) and pair.diff == 4.5  # (6 + 3) / 2; seed 3's 90 is unpaired
    assert pair.se == pytest.approx(math.sqrt(4.5) / math.sqrt(2))  # stdev(6, 3) / sqrt(2) = 1.5
    assert C.pair_test({0: 35.0}, {1: 30.0}, 't', 0.0, 1.0).verdict == C.NOT_RUN


def test_a_claim_over_several_rows_is_contradicted_by_any_and_holds_by_all():
    assert C.combine([C.HOLDS, C.HOLDS]) == C.HOLDS
    assert C.combine([C.HOLDS, C.INCONCLUSIVE]) == C.INCONCLUSIVE
    assert C.combine([C.HOLDS, C.NOT_RUN, C.INCONCLUSIVE]) == C.NOT_RUN
    assert C.combine([C.NOT_RUN, C.CONTRADICTED, C.HOLDS]) == C.CONTRADICTED


def test_headline_counts_the_verdicts():
    def result(verdict):
        return C.ClaimResult(None, 'AP', verdict, ())
    judged = [result(C.HOLDS)] * 5 + [result(C.CONTRADICTED)] + [result(C.INCONCLUSIVE)] * 2
    assert C.headline(judged) == 'Claims: 5 hold, 1 contradicted, 2 inconclusive (of 8).'
    assert C.headline([result(C.HOLDS)]) == 'Claims: 1 holds (of 1).'
    assert C.headline([]) == 'Claims: this table states none.'
    assert C.tally({C.INCONCLUSIVE: 2, C.HOLDS: 11}) == '11 hold, 2 inconclusive'  # CLAIM_VERDICTS order


# --- the schema -----------------------------------------------------------------------------------------------
ROWS = [dict(id=i, label=i.upper(), role=role, run=dict(config='configs/detectors/gfl_r50.py', overrides=o),
             published=dict(AP=ap, AP50=None))
        for i, role, o, ap in (('student', 'student', FAST + ['train_cfg.max_epochs=1'], 35.0),
                               ('kd_a', 'distilled', FAST + ['train_cfg.max_epochs=1', 'optim_wrapper.optimizer.lr=0.015'],
                                38.0),
                               ('kd_b', 'distilled', FAST + ['train_cfg.max_epochs=1', 'optim_wrapper.optimizer.lr=0.005'],
                                37.0))]
CLAIMS = [dict(id='a_helps', says='A beats the student', source='Table 95: 38.0 vs 35.0', better='kd_a',
               than='student'),
          dict(id='a_best', says='A beats every other row', source='Table 95', better='kd_a', than=['kd_b', 'student']),
          dict(id='b_by_five', says='B beats the student by 5', source='made up', better='kd_b', than=['student'],
               margin=5)]


def write_spec(folder, claims=CLAIMS):
    path = folder / 'crosskd_table95.yaml'
    path.write_text(yaml.safe_dump(dict(version=1, paper='crosskd', number='95', title='Claims test',
                                        description='Faked runs.', metrics=['AP', 'AP50'], rows=ROWS, claims=claims)))
    return path


def test_claims_load_with_their_rows(tmp_path):
    spec = load_spec(write_spec(tmp_path))
    assert [(c.id, c.better, c.than, c.margin, c.metric) for c in spec.claims] == [
        ('a_helps', 'kd_a', ('student',), 0.0, None), ('a_best', 'kd_a', ('kd_b', 'student'), 0.0, None),
        ('b_by_five', 'kd_b', ('student',), 5.0, None)]


@pytest.mark.parametrize('change, message', [
    (dict(better='kd_x'), "claims[0] (a_helps).better: no row 'kd_x' in this table; did you mean"),
    (dict(than=[]), 'claims[0] (a_helps).than: empty'),
    (dict(than=['kd_a']), 'claims[0] (a_helps).than: names kd_a twice'),
    (dict(margin=True), 'claims[0] (a_helps).margin: expected a number of AP points, got True'),
    (dict(metric='APs'), "claims[0] (a_helps).metric: 'APs' is not a metric column of this table (AP, AP50)"),
    (dict(source=''), "claims[0] (a_helps).source: expected a non-empty string, got ''"),
    (dict(id='A helps'), "claims[0].id: expected a short lower-case id like crosskd_beats_ld, got 'A helps'"),
    (dict(verdict='holds'), "claims[0].verdict: unknown field"),
])
def test_a_bad_claim_is_one_line_naming_the_field(tmp_path, change, message):
    with pytest.raises(ReproError) as err:
        load_spec(write_spec(tmp_path, [{**CLAIMS[0], **change}]))
    assert str(err.value).startswith(f'crosskd_table95.yaml: {message}') and '\n' not in str(err.value)


def test_every_built_in_table_states_claims_the_papers_own_numbers_bear_out():
    """Each spec has claims, and each is true of the published numbers it compares (a claim the paper's own table
    contradicts was copied wrongly). Our own tables beyond the papers (`ext:`) have claims and no published numbers."""
    for spec in load_all().values():
        assert spec.claims, f'{spec.id} states no claim'
        rows = {r.id: r for r in spec.rows}
        if spec.paper == 'ext':
            assert all(v is None for r in spec.rows for v in r.published.values()), f'{spec.id}: a published number'
            continue
        for claim in spec.claims:
            metric = claim.metric or ('AP' if 'AP' in spec.metrics else spec.metrics[0])
            assert metric not in ('MR',), f'{spec.id} {claim.id}: lower is better on {metric}; claims assume higher'
            better = rows[claim.better].published[metric]
            for than in claim.than:
                other = rows[than].published[metric]
                assert better is not None and other is not None, f'{spec.id} {claim.id}: no published {metric}'
                assert better > other + claim.margin, f'{spec.id} {claim.id}: {better} vs {other} ({than})'


# --- a report over a faked store ------------------------------------------------------------------------------
AP = {('student', 0): 30.0, ('student', 1): 31.0, ('student', 2): 29.5, ('student', 3): 80.0,
      ('kd_a', 0): 33.0, ('kd_a', 1): 34.5, ('kd_a', 2): 33.0,
      ('kd_b', 0): 31.0, ('kd_b', 1): 30.5, ('kd_b', 2): 31.0}


@pytest.fixture(scope='module')
def table(tmp_path_factory):
    spec = load_spec(write_spec(tmp_path_factory.mktemp('spec')))
    return spec, {(r.rows[0].rpartition('/')[2], r.seed): r for r in plan(spec, 'tiny', 4, check_data=False)}


def finish(runs, row, seed):
    write_done(runs[(row, seed)], seed, {'AP': AP[row, seed], 'AP50': AP[row, seed] + 9})


def manifest(spec, out, *flags):
    report_main([str(spec.path), '--profile', 'tiny', '--out', str(out), '--wandb', 'disabled', '--no-figures',
                 *flags])
    return json.loads((out / f'{spec.path.stem}.json').read_text()), (out / f'{spec.path.stem}.md').read_text()


def test_report_gives_each_claim_its_verdict_and_an_unrelated_run_changes_none(table, tmp_path, monkeypatch):
    spec, runs = table
    monkeypatch.setenv('REPRO_WORK_DIRS', str(tmp_path / 'work'))
    noise = tmp_path / 'noise'
    noise.mkdir()
    (noise / 'tiny.json').write_text(json.dumps(dict(
        metric='AP', sigma=0.5, rows={'x': dict(seeds=[0, 1, 2, 3, 4])}, commits=['abcdef0'],
        profile_sha=seed_noise.profile_sha(seed_noise.profile_file('tiny').read_bytes()))))
    monkeypatch.setattr(seed_noise, 'NOISE_DIR', noise)
    for row in ('student', 'kd_a', 'kd_b'):
        for seed in (0, 1, 2):
            finish(runs, row, seed)
    before, md = manifest(spec, tmp_path / 'before', '--seeds', '3')
    verdicts = {c['id']: c['verdict'] for c in before['claims']}
    # a_helps: differences 3, 3.5, 3.5: mean 3.33, se = max(0.5 * sqrt(2/3) = 0.41, 0.167) -> 3.33 - 0.82 > 0
    # a_best: also kd_a - kd_b = 2, 4, 2: mean 2.67, se = max(0.41, 0.67) -> 2.67 - 1.33 > 0
    # b_by_five: kd_b - student = 1, -0.5, 1.5: mean 0.67 + 2 * 0.41 = 1.48 < 5 -> contradicted
    assert verdicts == {'a_helps': 'holds', 'a_best': 'holds', 'b_by_five': 'contradicted'}
    helps = next(c for c in before['claims'] if c['id'] == 'a_helps')
    assert helps['pairs'][0]['seeds'] == [0, 1, 2] and helps['pairs'][0]['diff'] == pytest.approx(10 / 3)
    assert helps['pairs'][0]['se'] == pytest.approx(0.5 * math.sqrt(2 / 3))
    assert before['claim_counts'] == {'holds': 2, 'contradicted': 1}
    assert 'Claims: 2 hold, 1 contradicted (of 3).' in md
    assert 'sigma = 0.50 AP (pooled over 1 rows x seeds 0-4, commit abcdef0' in md
    assert '| A beats the student | KD_A \\> STUDENT | AP | holds | +3.33 ± 0.82 | 0, 1, 2 | Table 95: 38.0 vs 35.0 |' in md
    assert md.index('Claims: 2 hold') < md.index('Secondary: Ordering')
    finish(runs, 'student', 3)  # a stray run of another seed: not in the plan, not paired
    after, _ = manifest(spec, tmp_path / 'after', '--seeds', '3')
    assert after['claims'] == before['claims']


def test_without_measured_noise_one_seed_is_inconclusive_and_says_why(table, tmp_path, monkeypatch):
    spec, runs = table
    monkeypatch.setenv('REPRO_WORK_DIRS', str(tmp_path / 'work'))
    monkeypatch.setattr(seed_noise, 'NOISE_DIR', tmp_path / 'none')
    for row in ('student', 'kd_a'):
        finish(runs, row, 0)
    data, md = manifest(spec, tmp_path / 'out', '--seeds', '1')
    verdicts = {c['id']: (c['verdict'], c['difference']) for c in data['claims']}
    assert verdicts['a_helps'] == ('inconclusive', '+3.00 (one seed, no measured noise)')
    assert verdicts['a_best'] == ('not run', 'no seed finished by both rows vs KD_B')
    assert 'No seed noise has been measured for the tiny profile' in md


def test_a_claim_whose_row_failed_names_the_failure(table, tmp_path, monkeypatch):
    """A failed row leaves its claims unjudged ('not run'), and the difference says which row failed rather than
    only that no seed was paired (PGD Table 7's FPN row diverged)."""
    from repro.runs.store import default_work_dir, write_record
    spec, runs = table
    monkeypatch.setenv('REPRO_WORK_DIRS', str(tmp_path / 'work'))
    monkeypatch.setattr(seed_noise, 'NOISE_DIR', tmp_path / 'none')
    finish(runs, 'student', 0)
    finish(runs, 'kd_a', 0)
    failed = runs['kd_b', 0]
    write_record(default_work_dir(failed.config, 'tiny', failed.key),  # in this test's store, as write_done does
                 {'run_key': failed.key, 'status': 'failed', 'reason': 'Diverged: loss=nan', 'rows': failed.rows})
    data, md = manifest(spec, tmp_path / 'out', '--seeds', '1')
    verdicts = {c['id']: (c['verdict'], c['difference']) for c in data['claims']}
    assert verdicts['a_best'] == ('not run', 'no seed finished by both rows vs KD_B (KD_B: failed)')
    assert verdicts['b_by_five'] == ('not run', 'no seed finished by both rows (KD_B: failed)')
    assert verdicts['a_helps'][1] == '+3.00 (one seed, no measured noise)'  # rows that ran name no failure
    assert '(KD_B: failed)' in md


def test_the_noise_measured_on_the_profiles_own_data_is_not_applied_to_another_dataset(tmp_path, monkeypatch):
    """PGD Table 3 runs on CrowdHuman (in tiny, its synthetic crowd stand-in) and judges CrowdHuman's AP: the
    profile's sigma, measured on COCO AP of the shapes data, says nothing about it."""
    from repro.report import build_report
    from repro.report.tables.frames import noise_sentence
    from repro.tables.spec import resolve
    monkeypatch.setenv('REPRO_WORK_DIRS', str(tmp_path / 'work'))
    reports = {}
    for table in ('pgd:table3', 'pgd:table2'):
        spec = resolve(table)[0]
        reports[table] = build_report(spec, plan(spec, 'tiny', check_data=False), 'tiny', tmp_path, figures=False)
    crowd, shapes = reports['pgd:table3'], reports['pgd:table2']
    assert crowd.dataset == 'crowdhuman' and crowd.noise is None
    assert noise_sentence(crowd).startswith('No seed noise is measured on crowdhuman:')
    assert shapes.dataset is None and shapes.noise is not None and shapes.noise.metric == 'AP'


def test_a_pair_measured_on_two_cpu_models_says_so(table, tmp_path, monkeypatch):
    """A run key is bit-identical on one CPU model only: a claim whose paired runs ran on two names them beside its
    difference, the header counts the runs per CPU model, and the run list names each run's."""
    from repro.runs.store import default_work_dir, read_record, write_record
    spec, runs = table
    monkeypatch.setenv('REPRO_WORK_DIRS', str(tmp_path / 'work'))
    monkeypatch.setattr(seed_noise, 'NOISE_DIR', tmp_path / 'none')
    for row, cpu in (('student', 'AMD EPYC'), ('kd_a', 'Intel Xeon'), ('kd_b', 'AMD EPYC')):
        finish(runs, row, 0)
        work_dir = default_work_dir(runs[row, 0].config, 'tiny', runs[row, 0].key)
        write_record(work_dir, {**read_record(work_dir), 'hardware': {'cpu': cpu}})
    data, md = manifest(spec, tmp_path / 'out', '--seeds', '1')
    verdicts = {c['id']: c['difference'] for c in data['claims']}
    assert verdicts['a_helps'] == ('+3.00 (one seed, no measured noise); seed 0 measured on two CPU models '
                                   '(Intel Xeon vs AMD EPYC)')
    assert verdicts['b_by_five'] == '+1.00 (one seed, no measured noise)'  # both on AMD EPYC
    assert 'Runs measured on 2 CPU models (AMD EPYC: 2, Intel Xeon: 1 finished runs)' in md
    assert '| Intel Xeon |' in md
