"""A headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe: commands in on fd 3,
replies and events out on fd 4, JSON messages ended by NUL), with nothing but the standard library.

`load(path)` opens a local page and returns what a person would notice: console errors and uncaught exceptions,
resources that failed to load, images that did not render, the page's table and row counts, and a screenshot.
"""
from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

NAMES = ('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable')


def find_chromium() -> str | None:
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageLoad:
    errors: list[str] = field(default_factory=list)  # console errors, exceptions, failed loads
    images: int = 0
    broken_images: list[str] = field(default_factory=list)
    tables: int = 0
    rows: int = 0  # <tbody> rows over all tables
    texts: list[str] = field(default_factory=list)  # first-cell text of each <tbody> row
    screenshot: bytes = b''


class Chromium:
    def __init__(self, binary: str, timeout: float = 60.0):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix='repro-chromium-')
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # the child's ends moved above fd 10 first, so wiring them to fds 3 and 4 can clobber neither
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_child_r, from_child_w)]
        for fd in (to_child_r, from_child_w):
            os.close(fd)
        to_child_r, from_child_w = high

        def wire():  # in the child: the pipe ends as fd 3 (commands) and fd 4 (replies), kept across exec
            os.dup2(to_child_r, 3, inheritable=True)
            os.dup2(from_child_w, 4, inheritable=True)

        self.proc = subprocess.Popen(
            [binary, '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
             '--remote-debugging-pipe', f'--user-data-dir={self.profile}', '--window-size=1280,1024',
             'about:blank'], preexec_fn=wire, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer, self._next_id, self.events = b'', 0, []

    def _read(self, deadline: float) -> dict:
        while b'\0' not in self._buffer:
            left = deadline - time.time()
            if left <= 0 or not select.select([self._from_child], [], [], left)[0]:
                raise TimeoutError('no answer from Chromium')
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise RuntimeError('Chromium closed its pipe')
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b'\0')
        return json.loads(raw)

    def send(self, method: str, session: str | None = None, **params) -> dict:
        self._next_id += 1
        message = {'id': self._next_id, 'method': method, 'params': params}
        if session:
            message['sessionId'] = session
        os.write(self._to_child, json.dumps(message).encode() + b'\0')
        deadline = time.time() + self.timeout
        while True:
            reply = self._read(deadline)
            if reply.get('id') == self._next_id:
                if 'error' in reply:
                    raise RuntimeError(f'{method}: {reply["error"]}')
                return reply.get('result', {})
            self.events.append(reply)

    def wait_for(self, method: str, session: str) -> dict:
        deadline = time.time() + self.timeout
        for i, event in enumerate(self.events):
            if event.get('method') == method and event.get('sessionId') == session:
                return self.events.pop(i)
        while True:
            event = self._read(deadline)
            if event.get('method') == method and event.get('sessionId') == session:
                return event
            self.events.append(event)

    def close(self) -> None:
        try:
            self.send('Browser.close')
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)
        os.close(self._from_child)
        shutil.rmtree(self.profile, ignore_errors=True)


PROBE = """JSON.stringify({
  images: document.images.length,
  broken: [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src')),
  tables: document.querySelectorAll('table').length,
  rows: document.querySelectorAll('tbody tr').length,
  texts: [...document.querySelectorAll('tbody tr')].map(r => r.cells[0] ? r.cells[0].textContent.trim() : '')
})"""


def load(binary: str, page: Path) -> PageLoad:
    """Open `page` (a local file) in a fresh headless Chromium and report what it shows."""
    browser = Chromium(binary)
    try:
        target = browser.send('Target.createTarget', url='about:blank')['targetId']
        session = browser.send('Target.attachToTarget', targetId=target, flatten=True)['sessionId']
        for domain in ('Page', 'Runtime', 'Log'):
            browser.send(f'{domain}.enable', session)
        browser.send('Page.navigate', session, url=Path(page).resolve().as_uri())
        browser.wait_for('Page.loadEventFired', session)
        probe = json.loads(browser.send('Runtime.evaluate', session, expression=PROBE,
                                        returnByValue=True)['result']['value'])
        shot = browser.send('Page.captureScreenshot', session, format='png', captureBeyondViewport=True)
        out = PageLoad(images=probe['images'], broken_images=probe['broken'], tables=probe['tables'],
                       rows=probe['rows'], texts=probe['texts'], screenshot=base64.b64decode(shot['data']))
        for event in browser.events:
            method, params = event.get('method'), event.get('params', {})
            if method == 'Runtime.exceptionThrown':
                details = params['exceptionDetails']
                out.errors.append(details.get('exception', {}).get('description') or details.get('text', 'exception'))
            elif method == 'Runtime.consoleAPICalled' and params.get('type') in ('error', 'assert'):
                out.errors.append(' '.join(str(a.get('value', a.get('description', ''))) for a in params['args']))
            elif method == 'Log.entryAdded' and params['entry'].get('level') == 'error':
                entry = params['entry']
                out.errors.append(f"{entry.get('text')} {entry.get('url', '')}".strip())
        return out
    finally:
        browser.close()
