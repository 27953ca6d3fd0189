"""Write a table report as Markdown, self-contained HTML, LaTeX (booktabs) and CSV, all from the pandas frames
of repro.report.tables.frames. Every file holds the header (what the table is, the profile caveat, the ordering) and
the provenance footer; the HTML also shows the table's figures.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd

from repro.runs.atomic import atomic_write_text
from repro.report.tables.frames import (TableReport, claims_frame, csv_frame, display_frame, footnotes, header_lines,
                                 provenance_lines, relative, runs_frame)

VERDICT_COLOURS = {'reproduced': '#d9f2d9', 'not reproduced': '#f8d7d7', 'failed': '#f3c0c0',
                   'not run': '#eeeeee', 'not comparable': '#e6eefa', 'no published number': '#f5f0dc',
                   'holds': '#d9f2d9', 'contradicted': '#f8d7d7', 'inconclusive': '#f5f0dc'}
CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2em auto; max-width: 1200px;
       color: #222; line-height: 1.4; padding: 0 1em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border-top: 1px solid #ccc; border-bottom: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left;
         vertical-align: top; }
th { background: #f4f4f4; }
table.index td:last-child { white-space: nowrap; }
.caveat { background: #fff4d6; border-left: 4px solid #e0a800; padding: 0.5em 1em; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.9em; color: #444; }
p.footnote { font-size: 0.85em; color: #444; margin: 0.2em 0; }
details { margin: 1em 0; } footer { font-size: 0.85em; color: #444; border-top: 1px solid #ccc; margin-top: 2em; }
"""


def write_text(path: Path, text: str) -> None:
    """Atomically, with the umask's mode like every file the harness writes (repro.runs.atomic)."""
    atomic_write_text(path, text)


def write_all(report: TableReport, out_dir: Path) -> dict[str, Path]:
    """Write <slug>.md, .html, .tex and .csv into out_dir; returns format -> path."""
    paths = {ext: out_dir / f'{report.slug}.{ext}' for ext in ('md', 'html', 'tex', 'csv')}
    write_text(paths['md'], markdown(report, out_dir))
    write_text(paths['html'], html_page(report, out_dir))
    write_text(paths['tex'], latex(report))
    write_text(paths['csv'], csv_frame(report).round(4).to_csv(index=False))
    return paths


# --- Markdown -------------------------------------------------------------------------------------------------
_MD_SPECIAL = re.compile(r'[\\`*\[\]<>|~#]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])')


def md(text) -> str:
    """Spec and record text (labels, titles, reasons) as literal Markdown on one line: every character GitHub
    Markdown could read as syntax backslash-escaped, as the HTML report escapes its text. An underscore inside a
    word (crosskd_table7) is no syntax there and stays as it is."""
    return _MD_SPECIAL.sub(lambda m: '\\' + m.group(), str(text)).replace('\n', ' ')


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured pipe table of a frame of strings, every cell escaped (md)."""
    cell = md
    head = '| ' + ' | '.join(cell(c) for c in frame.columns) + ' |'
    rule = '|' + '|'.join('---' for _ in frame.columns) + '|'
    body = ['| ' + ' | '.join(cell(v) for v in row) + ' |' for row in frame.itertuples(index=False)]
    return '\n'.join([head, rule, *body])


def markdown_body(report: TableReport) -> str:
    """Title, header sentences, the table and its footnotes: what a terminal shows."""
    lines = [f'# {md(report.title)}', '']
    for line in header_lines(report):
        lines += [md(line), '']
    lines.append(markdown_table(display_frame(report)))
    notes = footnotes(report)
    if notes:
        lines += ['', *(f'- {md(note)}' for note in notes)]
    if report.claims:
        lines += ['', '## Claims', '', markdown_table(claims_frame(report))]
    return '\n'.join(lines)


def markdown(report: TableReport, out_dir: Path) -> str:
    parts = [markdown_body(report), '']
    for fig in report.figures:
        parts += [f'## {md(fig.title)}', '', f'![{md(fig.title)}]({relative(fig.path, out_dir)})', '', md(fig.caption),
                  '']
    for note in report.figure_notes:
        parts += [f'- {md(note)}']
    parts += ['## Provenance', '']
    parts += [f'- **{label}**: {md(text)}' for label, text in provenance_lines(report)]
    parts += ['', markdown_table(runs_frame(report)), '']
    return '\n'.join(parts)


# --- HTML -----------------------------------------------------------------------------------------------------
def _verdict_style(value: str) -> str:
    colour = VERDICT_COLOURS.get(value)
    return f'background-color: {colour}' if colour else ''


def html_table(frame: pd.DataFrame, name: str, verdicts: bool = False) -> str:
    """The frame as an HTML table (pandas Styler), verdict cells coloured; no index column. `name` (unique on
    the page) makes its element ids: Styler's default is a random uuid, which would change the page at every
    render of the same records."""
    # cells and headers hold spec and record text (labels, error messages): escaped, never markup
    styler = frame.style.set_uuid(name).hide(axis='index').format(escape='html').format_index(escape='html', axis=1)
    if verdicts and 'Verdict' in frame.columns:
        styler = styler.map(_verdict_style, subset=['Verdict'])
    return styler.to_html(table_attributes='class="report"')


def page(title: str, body: str) -> str:
    """A self-contained HTML page: inline CSS, no script, nothing fetched from elsewhere."""
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
            f'<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n')


def html_page(report: TableReport, out_dir: Path) -> str:
    e = html.escape
    header = header_lines(report)
    parts = ['<p><a href="index.html">All tables</a></p>', f'<h1>{e(report.title)}</h1>']
    for i, line in enumerate(header):
        caveat = i == 2 and not report.comparable
        parts.append(f'<p class="caveat">{e(line)}</p>' if caveat else f'<p>{e(line)}</p>')
    parts.append(html_table(display_frame(report), 'rows', verdicts=True))
    parts += [f'<p class="footnote">{e(note)}</p>' for note in footnotes(report)]
    if report.claims:
        parts += ['<h2>Claims</h2>', html_table(claims_frame(report), 'claims', verdicts=True)]
    parts.append(f'<p>Also as <a href="{report.slug}.md">Markdown</a>, <a href="{report.slug}.tex">LaTeX</a> and '
                 f'<a href="{report.slug}.csv">CSV</a>.</p>')
    for fig in report.figures:
        parts.append(f'<figure><img src="{e(relative(fig.path, out_dir))}" alt="{e(fig.title)}">'
                     f'<figcaption><b>{e(fig.title)}.</b> {e(fig.caption)}</figcaption></figure>')
    for note in report.figure_notes:
        parts.append(f'<p><i>{e(note)}</i></p>')
    footer = ['<footer><h2>Provenance</h2><ul>']
    footer += [f'<li><b>{e(label)}</b>: {e(text)}</li>' for label, text in provenance_lines(report)]
    footer += ['</ul>', html_table(runs_frame(report), 'runs'), '</footer>']
    return page(report.title, '\n'.join(parts + footer))


# --- LaTeX ----------------------------------------------------------------------------------------------------
_LATEX_SPECIAL = {'\\': r'\textbackslash{}', '&': r'\&', '%': r'\%', '$': r'\$', '#': r'\#', '_': r'\_',
                  '{': r'\{', '}': r'\}', '~': r'\textasciitilde{}', '^': r'\textasciicircum{}',
                  '—': '---', '±': r'$\pm$', 'Δ': r'$\Delta$', '>': r'$>$', '<': r'$<$'}


def latex_escape(text: str) -> str:
    return ''.join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def latex(report: TableReport) -> str:
    """A booktabs table (\\toprule, \\midrule, \\bottomrule; needs \\usepackage{booktabs}) with the header as
    its caption and the provenance as comments above it."""
    frame = display_frame(report).drop(columns=['Notes'])
    frame = frame.map(latex_escape)
    frame.columns = [latex_escape(c) for c in frame.columns]
    caption = latex_escape(f'{report.title}. ' + ' '.join(header_lines(report)[2:]))
    body = frame.style.hide(axis='index').to_latex(
        hrules=True, caption=caption, label=f'tab:{report.slug}', position_float='centering',
        column_format='l' * len(frame.columns))
    notes = ' '.join(footnotes(report))
    if notes:  # below the tabular, inside the float
        note = f'\\par\\smallskip{{\\footnotesize {latex_escape(notes)}\\par}}\n'
        body = body.replace('\\end{table}', note + '\\end{table}')
    if report.claims:
        claims = claims_frame(report).drop(columns=['Source']).map(latex_escape)
        claims.columns = [latex_escape(c) for c in claims.columns]
        body += claims.style.hide(axis='index').to_latex(
            hrules=True, caption=latex_escape(f'{report.title}: the paper\'s claims.'),
            label=f'tab:{report.slug}-claims', position_float='centering', column_format='p{5cm}' + 'l' * (len(claims.columns) - 1))
    comments = [f'% {report.title}', '% Generated by python -m repro.report; needs \\usepackage{booktabs}.']
    comments += [f'% {label}: {text}' for label, text in provenance_lines(report)]
    comments += [f'% run {r.key} {r.role} {r.config} seed {r.seed} {r.state}' for r in report.provenance.runs]
    return '\n'.join(comments) + '\n' + body
