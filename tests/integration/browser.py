# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report pages the playbooks write (callback netplumb.multihome.report), as a real browser shows them: Debian's
Chromium, headless, loads the page from its file, prints the DOM it built and takes a screenshot; the HTML validator
html-validate (make deps installs it into the build cache) checks the file. Both are needed: no skip without them."""

import glob
import html.parser
import json
import os
import shutil
import subprocess
import tempfile

CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
# The flags this machine's notes give for a headless Chromium without network: no sandbox as root, no background
# connections (refused here, many at a time) and a new profile each time.
FLAGS = (
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--hide-scrollbars',
)
ENV = dict(os.environ, CHROMIUM_FLAGS='')


def html_validate():
    found = sorted(glob.glob('/var/cache/netplumb-build/html-validate-*/node_modules/.bin/html-validate'))
    assert found, 'html-validate is not installed: run make deps (tests/bootstrap-host.sh installs it)'
    return found[-1]


def _chromium(*args, timeout=120):
    assert os.path.exists(CHROMIUM), 'no Chromium at %s: run make deps (tests/bootstrap-host.sh installs it)' % CHROMIUM
    with tempfile.TemporaryDirectory(prefix='netplumb-chromium-') as profile:
        proc = subprocess.run(
            [CHROMIUM, *FLAGS, '--user-data-dir=' + profile, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=ENV,
        )
    assert proc.returncode == 0, 'chromium %s failed (rc=%d): %s' % (args, proc.returncode, proc.stderr[-2000:])
    return proc


def dom(path):
    """The DOM Chromium built from the page at ``path``, serialized."""
    return _chromium('--dump-dom', 'file://' + os.path.abspath(path)).stdout


def screenshot(path, png, width=1280, height=2000):
    """A PNG of the page at ``path`` as Chromium draws it in a window of ``width`` x ``height``."""
    _chromium('--window-size=%d,%d' % (width, height), '--screenshot=' + png, 'file://' + os.path.abspath(path))
    assert os.path.getsize(png) > 0, png
    return png


def validate(path):
    """html-validate's verdict on the file: ``(ok, its output)``."""
    proc = subprocess.run(
        [html_validate(), '--formatter', 'text', path], capture_output=True, text=True, timeout=120, check=False
    )
    return proc.returncode == 0, proc.stdout + proc.stderr


def pixels_of(png, colour, tolerance=12):
    """How many pixels of the screenshot are ``colour`` (``'#rrggbb'``), each channel within ``tolerance``."""
    from PIL import Image  # tests/requirements.txt

    want = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    with Image.open(png) as image:
        data = image.convert('RGB').getdata()
        return sum(1 for px in data if all(abs(a - b) <= tolerance for a, b in zip(px, want)))


class Page(html.parser.HTMLParser):
    """A serialized DOM as (tag, attributes) elements, the text of each element by id, and all its text."""

    def __init__(self, text):
        super().__init__()
        self.elements, self.chunks, self.by_id, self._open = [], [], {}, []
        self.source = text
        self.feed(text)

    # HTML's void elements: no end tag. (An SVG <rect> has one in Chromium's serialized DOM.)
    VOID = frozenset(
        ('area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr')
    )

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        if tag not in self.VOID:
            self._open.append((tag, attrs.get('id'), len(self.chunks)))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not any(name == tag for name, _ident, _start in self._open):
            return
        while self._open:
            name, ident, start = self._open.pop()
            if ident:
                self.by_id[ident] = ''.join(self.chunks[start:])
            if name == tag:
                break

    def handle_data(self, data):
        self.chunks.append(data)

    @property
    def text(self):
        return ''.join(self.chunks)

    def find(self, tag, **attrs):
        return [a for t, a in self.elements if t == tag and all(a.get(k) == v for k, v in attrs.items())]

    def rows(self, heading):
        """The text of each cell of the first table after the element whose text starts with ``heading``."""
        return _TableAfter(heading, self.source).rows


def load_report(directory, stem, shots):
    """The report ``stem`` (``site``) a run wrote into ``directory``: checked by the HTML validator, loaded in
    Chromium and photographed into ``shots``; ``(Page of Chromium's DOM, the report's JSON, the screenshot's path)``."""
    page = os.path.join(directory, stem + '.html')
    ok, said = validate(page)
    assert ok, 'html-validate refused %s:\n%s' % (page, said)
    with open(os.path.join(directory, stem + '.json')) as handle:
        data = json.load(handle)
    built = Page(dom(page))
    png = screenshot(page, os.path.join(shots, stem + '.png'))
    return built, data, png


class _TableAfter(html.parser.HTMLParser):
    """The first table after a heading, as rows of cell texts."""

    def __init__(self, heading, text):
        super().__init__()
        self.heading, self.seen, self.rows, self._row, self._cell, self._done = heading, False, [], None, None, False
        self._text = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if self._done or not self.seen:
            return
        if tag == 'tr':
            self._row = []
        elif tag in ('td', 'th'):
            self._cell = []

    def handle_endtag(self, tag):
        if self._done or not self.seen:
            return
        if tag in ('td', 'th') and self._cell is not None and self._row is not None:
            self._row.append(''.join(self._cell))
            self._cell = None
        elif tag == 'tr' and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif tag == 'table':
            self._done = True

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        elif not self.seen and data.strip().startswith(self.heading):
            self.seen = True
