"""index.html: every table spec listed, rendered ones linked; and, in a real headless Chromium, the index and a
table page load with no console error, every image renders, and the table counts match the specs."""
import io
import json

import numpy as np
import pytest

from browser import find_chromium, load
from html_tables import read_tables
from repro.report.tables.page import write_index
from repro.tables.spec import load_all


def test_index_lists_every_spec_as_not_run_before_anything_is_rendered(tmp_path):
    specs = load_all()
    index = write_index(tmp_path, 'tiny', specs, notes={'pgd:table3': 'not run: configs missing (x.py)'})
    rows = read_tables(index)[0]
    assert list(rows['Table']) == list(specs)
    status = dict(zip(rows['Table'], rows['Status']))
    assert status['crosskd:table1'] == 'not run' and status['pgd:table3'] == 'not run: configs missing (x.py)'
    text = index.read_text()
    assert 'not comparable with the papers' in text and '<script' not in text and 'http' not in text


def test_index_counts_claims_as_the_reports_headline_does(tmp_path):
    manifest = {'id': 'crosskd:table97', 'slug': 'crosskd_table97', 'title': 'T97',
                'files': {'md': 'crosskd_table97.md'}, 'claim_counts': {'holds': 11, 'inconclusive': 1}, 'counts': {'not comparable': 38}}
    (tmp_path / 'crosskd_table97.json').write_text(json.dumps(manifest))
    rows = read_tables(write_index(tmp_path, 'tiny', specs={}))[0].set_index('Table')
    assert rows.loc['crosskd:table97', 'Status'] == 'claims: 11 hold, 1 inconclusive; rows: 38 not comparable'


@pytest.mark.slow
def test_pages_load_in_headless_chromium_without_errors(tmp_path_factory):
    binary = find_chromium()
    if binary is None:
        pytest.skip('Chromium is not installed (Debian: apt-get install chromium); the browser check needs it')
    from PIL import Image
    from report_store import make_store
    from repro.report import write_report
    spec, runs = make_store(str(tmp_path_factory.mktemp('spec')))
    out = tmp_path_factory.mktemp('reports')
    write_report(spec, runs, 'tiny', out, wandb='disabled', echo=False)

    index = load(binary, out / 'index.html')
    assert index.errors == [] and index.broken_images == []
    assert index.images == 5  # gradient maps, quality heatmaps, masking curve, detections, training dynamics
    assert index.tables == 1 and index.rows == len(load_all()) + 1  # every spec, and the test table
    assert index.texts[-1] == spec.id

    page = load(binary, out / 'crosskd_table97.html')
    assert page.errors == [] and page.broken_images == [] and page.images == 5
    assert page.tables == 2 and page.rows == len(spec.rows) + len(runs)  # the report table, the runs behind it
    assert page.texts[:len(spec.rows)] == [r.label for r in spec.rows]

    shot = Image.open(io.BytesIO(page.screenshot)).convert('L')
    (out / 'crosskd_table97.screenshot.png').write_bytes(page.screenshot)
    pixels = np.asarray(shot, dtype=float)
    assert shot.size[0] >= 1000 and shot.size[1] > 1000  # the whole page, figure included
    assert pixels.std() > 20 and (pixels < 100).mean() > 0.01  # text and figure drawn on the white page
