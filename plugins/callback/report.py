# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
---
name: report
type: aggregate
short_description: Write one page of what a run planned, tested and found
version_added: 0.2.0
description:
  - At the end of a playbook run, writes one self-contained HTML page (no script, font or network access; it works
    offline and can be mailed) next to its data as JSON, and the connectivity matrix's heat map as SVG.
  - The page says what ran, when, against which inventory, whether it passed and what failed first, then shows the
    addressing plan as bars of each address space (planned blocks, reserved networks, free share), the preflight per
    node and attachment (each phase's result and the plugin's error text), each connectivity matrix as a heat map per
    network (FROM rows, TO columns; latency on hover; broken cells red and outlined; nodes grouped beyond 48 per map)
    with the broken pairs listed, and the AIS cluster map (each node's primary and extra IPs, verified or not).
  - It reads the results of the collection's modules M(netplumb.multihome.cidr_plan),
    M(netplumb.multihome.cni_preflight), M(netplumb.multihome.connectivity_matrix) and
    M(netplumb.multihome.aistore_smap_verify); a playbook without them gets a page with the run only.
  - The files are named after the playbook (C(site.html), C(site.json), C(site.svg)) and replaced on every run. The
    last line of the run names the page.
  - Enable it with C(callbacks_enabled = netplumb.multihome.report) in C(ansible.cfg) or
    C(ANSIBLE_CALLBACKS_ENABLED=netplumb.multihome.report).
requirements:
  - enabled in callbacks_enabled
options:
  dir:
    description:
      - The directory of the files; created when missing.
      - Empty (the default) means C(.report) next to the inventory (the directory of the first inventory source that
        is a path), or in the current directory without one.
    type: str
    default: ''
    env:
      - name: NETPLUMB_REPORT_DIR
    ini:
      - section: netplumb_report
        key: dir
'''

import os
import tempfile

from ansible import constants as C
from ansible import context
from ansible.module_utils.common.text.converters import to_text
from ansible.parsing.ajson import AnsibleJSONEncoder
from ansible.playbook.block import Block
from ansible.plugins.callback import CallbackBase

from ansible_collections.netplumb.multihome.plugins.module_utils import report as pages


def _write(path, text):
    """Replace ``path`` with ``text`` at once (a reader never sees half a page)."""
    handle, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix='.%s.' % os.path.basename(path))
    try:
        with os.fdopen(handle, 'w', encoding='utf-8') as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _rescued(task):
    """Whether a failure of ``task`` goes to a rescue: the task is in the block part of a block that has one."""
    child, parent = task, getattr(task, '_parent', None)
    while parent is not None:
        if isinstance(parent, Block) and parent.rescue:
            if any(getattr(item, '_uuid', None) == child._uuid for item in parent.block):
                return True
        child, parent = parent, getattr(parent, '_parent', None)
    return False


def _message(result):
    """What a failed result says: its msg, or the reason an include or a loop gives."""
    return to_text(result.get('msg') or result.get('reason') or '')


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'netplumb.multihome.report'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._report = None
        self._playbook = None
        self._play = ''

    def v2_playbook_on_start(self, playbook):
        self._playbook = playbook._file_name
        inventory = [to_text(s) for s in (context.CLIARGS.get('inventory') or [])]
        self._report = pages.new_report(os.path.basename(self._playbook), inventory)

    def v2_playbook_on_play_start(self, play):
        self._play = to_text(play.get_name()).strip()

    def _file(self, result, failed=False):
        """File one result (a loop item's on its own) of the collection's modules in the report."""
        if self._report is None:
            return
        task = result._task
        action = getattr(task, 'resolved_action', None) or task.action
        if action not in pages.SOURCES:
            return
        res = result._result
        if 'results' in res and not failed:
            # A loop's summary: each item was filed as it came (v2_runner_item_on_*).
            return
        args = (res.get('invocation') or {}).get('module_args') or {}
        pages.add_result(
            self._report,
            action,
            result._host.get_name(),
            task.get_name(),
            self._play,
            args,
            res,
            failed=failed,
            message=_message(res),
        )

    def v2_runner_on_ok(self, result):
        self._file(result)

    def v2_runner_item_on_ok(self, result):
        self._file(result)

    def v2_runner_item_on_failed(self, result):
        self._file(result, failed=True)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if 'results' not in result._result:
            self._file(result, failed=True)
        if self._report is not None and not ignore_errors:
            pages.add_failure(
                self._report,
                result._host.get_name(),
                result._task.get_name(),
                _message(result._result),
                rescued=_rescued(result._task),
            )

    def v2_runner_on_unreachable(self, result):
        self._file(result, failed=True)
        if self._report is not None and not result._task.ignore_unreachable:
            pages.add_failure(
                self._report,
                result._host.get_name(),
                result._task.get_name(),
                _message(result._result),
                unreachable=True,
            )

    def _directory(self):
        configured = self.get_option('dir')
        if configured:
            return os.path.abspath(os.path.expanduser(configured))
        for source in context.CLIARGS.get('inventory') or []:
            source = to_text(source)
            if os.path.exists(source):
                return os.path.join(
                    source if os.path.isdir(source) else os.path.dirname(os.path.abspath(source)), '.report'
                )
        return os.path.join(os.getcwd(), '.report')

    def v2_playbook_on_stats(self, stats):
        if self._report is None:
            return
        counts = dict((host, stats.summarize(host)) for host in sorted(stats.processed))
        pages.finish(self._report, counts)
        directory = self._directory()
        stem = os.path.splitext(os.path.basename(self._playbook))[0]
        try:
            os.makedirs(directory, exist_ok=True)
            page = os.path.join(directory, stem + '.html')
            _write(os.path.join(directory, stem + '.json'), pages.to_json(self._report, AnsibleJSONEncoder))
            text, svg = pages.render(self._report)
            if svg is not None:
                _write(os.path.join(directory, stem + '.svg'), svg)
            _write(page, text)
        except (OSError, ValueError) as exc:
            self._display.warning(
                'netplumb.multihome.report: could not write the report into %s: %s' % (directory, exc)
            )
            return
        # Under a JSON stdout callback, stdout is one JSON document: say it on stderr there.
        quiet = 'json' in (C.DEFAULT_STDOUT_CALLBACK or '')
        self._display.display('Report of this run: %s' % page, stderr=quiet)
