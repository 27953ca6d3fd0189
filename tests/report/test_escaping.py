"""Strings from specs and run records reach the report pages escaped: a crafted label or error cannot inject HTML."""
import re

import yaml

from repro.plan.dag import plan
from repro.report import write_report
from repro.runs.store import write_record
from repro.tables.spec import load_spec

LABEL = '<script>alert("label")</script>'
REASON = 'RuntimeError: <img src=x onerror=alert("reason")>'


def crafted_spec(tmp_path, monkeypatch, title: str, description: str, label: str):
    """A one-row table spec with crafted text, its store under tmp_path."""
    monkeypatch.setenv('REPRO_WORK_DIRS', str(tmp_path / 'work'))
    data = dict(version=1, paper='crosskd', number='96', title=title, description=description, metrics=['AP'],
                rows=[dict(id='evil', label=label, role='student', run=dict(config='configs/detectors/gfl_r18.py'),
                           published=dict(AP=1.0))])
    path = tmp_path / 'crosskd_table96.yaml'
    path.write_text(yaml.safe_dump(data))
    return load_spec(path)


def test_crafted_label_and_failure_reason_are_escaped(tmp_path, monkeypatch):
    spec = crafted_spec(tmp_path, monkeypatch, 'Escaping <b>test</b>', 'Crafted strings.', LABEL)
    (run,) = plan(spec, 'tiny')
    write_record(run.work_dir, {'run_key': run.key, 'status': 'failed', 'reason': REASON, 'rows': run.rows})
    out = tmp_path / 'reports'
    write_report(spec, [run], 'tiny', out_dir=out, wandb='disabled', figures=False, echo=False)
    pages = {p.name: p.read_text() for p in out.glob('*.html')}
    assert set(pages) == {'crosskd_table96.html', 'index.html'}
    table = pages['crosskd_table96.html']
    for text in pages.values():
        assert '<script>alert' not in text and '<img src=x' not in text and '<b>test</b>' not in text
    assert '&lt;script&gt;alert(' in table  # the label is shown, as text
    assert '&lt;img src=x onerror=alert' in table  # the failure reason is shown, as text


MD_LABEL = 'PKD* \\ x | [x](http://e.x) <b>b</b> _a_ `c` #'


def test_crafted_label_stays_literal_text_in_the_markdown_report(tmp_path, monkeypatch):
    """Markdown syntax in a label (a pipe, emphasis, a link, inline HTML) is escaped: the table keeps its columns
    and the label reads back as written."""
    import re
    spec = crafted_spec(tmp_path, monkeypatch, 'Escaping *test*', 'Crafted | strings.', MD_LABEL)
    out = tmp_path / 'reports'
    write_report(spec, plan(spec, 'tiny'), 'tiny', out_dir=out, wandb='disabled', figures=False, echo=False)
    text = (out / 'crosskd_table96.md').read_text()
    assert text.startswith('# CrossKD Table 96: Escaping \\*test\\*\n') and 'Crafted \\| strings.' in text
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith('| '))
    table = lines[start:start + 3]  # header, rule, the row
    columns = len(re.findall(r'(?<!\\)\|', table[0]))
    assert all(len(re.findall(r'(?<!\\)\|', line)) == columns for line in table)
    row = next(line for line in table if 'PKD' in line)
    cell = re.split(r'(?<!\\)\|', row)[1].strip()
    assert re.sub(r'\\(.)', r'\1', cell) == MD_LABEL  # unescaped, the cell is the label as written
    assert not re.search(r'(?<!\\)<', text) and not re.search(r'(?<!\\)\]\(http', text)  # no live HTML or link


def test_a_page_rendered_twice_from_the_same_records_is_the_same_file(tmp_path, monkeypatch):
    spec = crafted_spec(tmp_path, monkeypatch, 'Stable', 'Rendered twice.', 'Student')
    (run,) = plan(spec, 'tiny')
    write_record(run.work_dir, {'run_key': run.key, 'status': 'failed', 'reason': 'x', 'rows': run.rows})
    pages = []
    for out in (tmp_path / 'a', tmp_path / 'b'):
        write_report(spec, [run], 'tiny', out_dir=out, wandb='disabled', figures=False, echo=False)
        pages.append((out / 'crosskd_table96.html').read_text())
    assert pages[0] == pages[1]  # no random element ids (pandas Styler's default uuid)
    ids = re.findall(r'<table id="([^"]+)"', pages[0])
    assert len(ids) == 2 and len(set(ids)) == 2  # the rows and the runs tables, each its own ids
