"""The tables of an HTML page as pandas frames, with the standard library's parser (pandas.read_html needs lxml or
bs4, which the project does not install)."""
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd


class _Tables(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables, self._row, self._cell = [], None, None

    def handle_starttag(self, tag, attrs):
        if tag == 'table':
            self.tables.append([])
        elif tag == 'tr' and self.tables:
            self._row = []
        elif tag in ('td', 'th') and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ('td', 'th') and self._cell is not None:
            self._row.append(' '.join(''.join(self._cell).split()))
            self._cell = None
        elif tag == 'tr' and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def read_tables(path: Path) -> list[pd.DataFrame]:
    """Each <table> as a frame whose columns are its first row."""
    parser = _Tables()
    parser.feed(Path(path).read_text())
    return [pd.DataFrame(rows[1:], columns=rows[0]) for rows in parser.tables if rows]
