# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The data-plane preflight as it runs on a node (module cni_preflight): the commands and their order.

The decisions that need no node (configurations, test addresses, namespace names, checks,
summaries) are in module_utils/cni_preflight.py. Here a :class:`Node` runs the commands, through
a :class:`hostcmd.Runner` the module hands in (a unit test hands in a scripted one), and the three
states run over it:

* :func:`present` removes what an interrupted run left for the same attachments, then per
  attachment creates the namespace, runs ADD plugin by plugin and checks the interface;
* :func:`probe` pings the peers of every attachment from inside its namespace, a bounded number
  at once (:func:`hostcmd.run_ordered`);
* :func:`absent` runs DEL for every attachment, removes the namespaces, every other ``npf-*``
  namespace and the node links the preflight marked.

:func:`run` does one state for the module and returns its result, or raises
:class:`PreflightFailed` carrying the message and the result to fail with.
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Iterable, Mapping

from ansible_collections.netplumb.multihome.plugins.module_utils import cni_preflight as pf
from ansible_collections.netplumb.multihome.plugins.module_utils.cni_config import (
    CniConfigError,
    attachment_type,
    parse_config,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.hostcmd import (
    CommandError,
    Ip,
    Runner,
    command_text,
    ping,
    run_ordered,
)

# The settings with a lower bound (probe_max_loss also has 100 as its upper one).
_LOWEST = (('probe_count', 1), ('probe_timeout', 1), ('probe_workers', 1), ('probe_max_loss', 0), ('node_index', 0))


class PreflightFailed(Exception):
    """The run failed as a whole (a command the preflight needs, or failed attachments with fail_on_error).

    ``msg`` is the module's message, ``result`` the rest of what it returns with it.
    """

    def __init__(self, msg: str, result: dict[str, Any] | None = None) -> None:
        super().__init__(msg)
        self.msg = msg
        self.result = result or {}


class Node:
    """The commands run on the node, all through ``runner`` (a :class:`hostcmd.Runner`) with argv lists.

    ``executable(path)`` tells whether a plugin binary can be run (``os.access`` by default).
    """

    def __init__(
        self, runner: Runner, ip_bin: str, cni_bin_dir: str, executable: Callable[[str], bool] | None = None
    ) -> None:
        self.runner = runner
        self.ip = Ip(runner, ip_bin)
        self.cni_bin_dir = cni_bin_dir
        self.executable = executable or (lambda path: os.access(path, os.X_OK))

    def namespaces(self) -> list[str]:
        rc, out, _err = self.ip.run('-j', 'netns', 'list')
        if rc != 0:
            # An iproute2 without JSON for netns lists them as text.
            out = self.ip.must('netns', 'list')
        return pf.parse_netns_list(out)

    def netns_add(self, name: str) -> None:
        self.ip.must('netns', 'add', name)

    def netns_del(self, name: str) -> None:
        argv = self.ip.argv(['netns', 'del', name])
        rc, out, err = self.runner.run(argv)
        # Gone all the same (a concurrent delete, a stale mount point): that is what was wanted.
        if rc != 0 and name in self.namespaces():
            raise CommandError(
                "'%s' failed (rc=%d): %s" % (command_text(argv), rc, (err or out or '').strip()),
                argv=argv,
                rc=rc,
                stdout=out,
                stderr=err,
            )

    def links(self, netns: str | None = None) -> list[dict[str, Any]]:
        """``ip -j [-n NETNS] addr show``: the links (with their addresses) of the node or of a namespace."""
        return self.ip.query('addr', 'show', netns=netns)

    def node_links(self) -> list[dict[str, Any]]:
        return self.ip.query('link', 'show')

    def link(self, name: str) -> dict[str, Any] | None:
        """The node link ``name``, or None when there is none."""
        try:
            found = self.ip.query('link', 'show', 'dev', name)
        except CommandError:
            return None
        return found[0] if found else None

    def mark_link(self, name: str) -> None:
        self.ip.must('link', 'set', 'dev', name, 'alias', pf.LINK_MARK)

    def delete_link(self, name: str) -> None:
        self.ip.must('link', 'del', 'dev', name)

    def plugin_path(self, kind: str) -> str:
        return os.path.join(self.cni_bin_dir, kind)

    def missing_plugins(self, chain: Iterable[Mapping[str, Any]]) -> list[str]:
        kinds = []
        for conf in chain:
            kinds.append(conf['type'])
            ipam = conf.get('ipam')
            if isinstance(ipam, dict) and ipam.get('type'):
                kinds.append(ipam['type'])
        return [k for k in kinds if not self.executable(self.plugin_path(k))]

    def cni(self, command: str, conf: Mapping[str, Any], netns: str, ifname: str) -> tuple[Any, str | None, int]:
        """Run one plugin as a runtime does; ``(result, error, rc)``."""
        env = {
            'CNI_COMMAND': command,
            'CNI_CONTAINERID': netns,
            'CNI_NETNS': '%s/%s' % (pf.NETNS_DIR, netns),
            'CNI_IFNAME': ifname,
            'CNI_PATH': self.cni_bin_dir,
        }
        rc, out, err = self.runner.run([self.plugin_path(conf['type'])], env=env, data=json.dumps(conf))
        result, error = pf.parse_cni_output(rc, out, err)
        return result, error, rc

    def ping(self, netns: str, peer: str, count: int, timeout: float) -> dict[str, Any]:
        """:func:`hostcmd.ping` of ``peer`` from inside ``netns``."""
        return ping(self.runner, peer, count, timeout, netns=netns, ip_bin=self.ip.bin)


# ------------------------------------------------------------------ input


def check_settings(params: Mapping[str, Any]) -> None:
    """PreflightError naming the first setting out of its range."""
    for key, low in _LOWEST:
        if params[key] < low or (key == 'probe_max_loss' and params[key] > 100):
            raise pf.PreflightError(
                '%s %d is out of range: expected %d%s'
                % (key, params[key], low, ' to 100' if key == 'probe_max_loss' else ' or more')
            )
    pf.check_ifname(params['ifname'])


def prepare(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One record per attachment with its runtime configuration, test address and namespace; PreflightError on bad input."""
    records = []
    seen = set()
    for i, item in enumerate(params['attachments']):
        name = item['name']
        what = 'attachments[%d] %r' % (i, name)
        if not name or name in seen:
            raise pf.PreflightError('%s: attachment names must be unique and non-empty' % what)
        seen.add(name)
        try:
            config = parse_config(item['config'], '%s config' % what)
        except CniConfigError as exc:
            raise pf.PreflightError(str(exc))
        test_address: str | None
        if item.get('test_address'):
            test_address = pf.check_test_address(item['test_address'], what)
            source = 'given'
        else:
            test_address, source = pf.derive_test_address(
                name, config, params.get('plan'), params.get('node'), params['node_index']
            )
        chain = pf.runtime_configs(config, test_address)
        records.append(
            {
                'name': name,
                'node': params.get('node'),
                'type': attachment_type(config),
                'netns': pf.netns_name(name, chain, test_address, params['ifname']),
                'ifname': params['ifname'],
                'test_address': test_address,
                'address': test_address.split('/')[0] if test_address else None,
                'address_source': source,
                'status': 'ok',
                'ok': True,
                'errors': [],
                'config': chain,
                '_source': config,
                '_peers': item.get('peers') or [],
            }
        )
    return records


# ------------------------------------------------------------------ the states


def _fail_record(rec, message, plugin_error=None):
    rec['status'] = 'failed'
    rec['ok'] = False
    rec['errors'].append(message)
    if plugin_error is not None and not rec.get('plugin_error'):
        rec['plugin_error'] = plugin_error


def _del_chain(node, rec):
    """DEL every plugin of the chain in reverse order; the first error text, or None."""
    first_error = None
    for conf in reversed(rec['config']):
        if node.missing_plugins([conf]):
            first_error = first_error or 'plugin %s not found in %s' % (conf['type'], node.cni_bin_dir)
            continue
        _result, error, _rc = node.cni('DEL', conf, rec['netns'], rec['ifname'])
        if error and first_error is None:
            first_error = error
    return first_error


def _remove_stale_links(node, removed):
    for name, ports in pf.marked_links(node.node_links()):
        if ports == 0:
            node.delete_link(name)
            removed.append('link %s' % name)


def _cleanup(node, records, created):
    by_netns = dict((r['netns'], r) for r in records)
    for ns in created:
        try:
            if ns in by_netns:
                _del_chain(node, by_netns[ns])
            node.netns_del(ns)
        except CommandError:
            pass


def _add_one(node, rec, created):
    missing = node.missing_plugins(rec['config'])
    if missing:
        _fail_record(rec, 'plugin binary %s not found in %s' % (', '.join(missing), node.cni_bin_dir))
        return
    expected_mtu = pf.config_mtu(rec['_source'])
    source = pf.mtu_source(rec['_source'])
    if expected_mtu is None and source:
        link = node.link(source)
        expected_mtu = link.get('mtu') if link else None
    bridge = pf.bridge_name(rec['_source'])
    bridge_existed = bool(bridge) and node.link(bridge) is not None
    node.netns_add(rec['netns'])
    created.append(rec['netns'])
    prev = None
    rec['steps'] = []
    for conf in rec['config']:
        result, error, rc = node.cni('ADD', pf.with_prev_result(conf, prev), rec['netns'], rec['ifname'])
        rec['steps'].append({'type': conf['type'], 'rc': rc, 'error': error})
        if error is not None:
            _fail_record(rec, 'ADD of plugin %s failed: %s' % (conf['type'], error), plugin_error=error)
            break
        prev = result
    if bridge and not bridge_existed and node.link(bridge) is not None:
        # The plugin made the bridge for us: mark it, so that absent (or the next run) removes it.
        node.mark_link(bridge)
        rec['marked_links'] = [bridge]
    rec['result'] = prev
    if rec['status'] != 'ok':
        return
    iface = pf.check_interface(
        pf.find_link(node.links(rec['netns']), rec['ifname']), rec['ifname'], rec['test_address'], expected_mtu
    )
    rec['interface'] = iface
    for error in iface['errors']:
        _fail_record(rec, error)


def present(
    node: Node,
    records: list[dict[str, Any]],
    out: dict[str, Any],
    params: Mapping[str, Any],
    check_mode: bool = False,
) -> None:
    """Remove what an interrupted run left for the same attachments, then create each namespace and run ADD."""
    existing = node.namespaces()
    stale = [ns for ns in pf.preflight_namespaces(existing) if any(pf.same_attachment(ns, r['name']) for r in records)]
    stale_links = ['link %s' % name for name, ports in pf.marked_links(node.node_links()) if ports == 0]
    if check_mode:
        out['stale_removed'] = stale + stale_links
        out['removed'] = list(out['stale_removed'])
        for rec in records:
            rec['status'] = 'would-run'
            missing = node.missing_plugins(rec['config'])
            if missing:
                _fail_record(rec, 'plugin binary %s not found in %s' % (', '.join(missing), node.cni_bin_dir))
            out['created'].append(rec['netns'])
        return
    created = out['created']
    try:
        by_netns = dict((r['netns'], r) for r in records)
        for ns in stale:
            # The same attachment with the same input: DEL it properly first (iptables rules of ipMasq...).
            if ns in by_netns:
                _del_chain(node, by_netns[ns])
            node.netns_del(ns)
            out['stale_removed'].append(ns)
        stale_removed_links: list[str] = []
        _remove_stale_links(node, stale_removed_links)
        out['stale_removed'].extend(stale_removed_links)
        out['removed'].extend(out['stale_removed'])
        for rec in records:
            _add_one(node, rec, created)
    except CommandError as exc:
        # The run's own error: leave nothing behind before failing.
        _cleanup(node, records, created)
        raise PreflightFailed(
            'cni_preflight: %s; removed the namespaces created so far (%s)' % (exc, ', '.join(created) or 'none'),
            {'attachments': public(records)},
        )


def probe(
    node: Node,
    records: list[dict[str, Any]],
    out: dict[str, Any],
    params: Mapping[str, Any],
    check_mode: bool = False,
) -> None:
    """Ping every peer of every attachment from inside its namespace, ``probe_workers`` at once."""
    existing = node.namespaces()
    jobs = []
    for rec in records:
        rec['peers'] = [
            dict(p, ok=None) for p in pf.peers_for(rec['name'], rec['_peers'], params['peers'], params.get('node'))
        ]
        rec['peers'] = [p for p in rec['peers'] if p['address'] != rec['address']]
        if check_mode:
            rec['status'] = 'would-run'
            continue
        if rec['netns'] not in existing:
            _fail_record(rec, 'namespace %s does not exist: run state=present with the same input first' % rec['netns'])
            continue
        if not rec['test_address']:
            rec.update(status='skipped', reason='no test address (the attachment has no address pool)')
            continue
        if pf.find_link(node.links(rec['netns']), rec['ifname']) is None:
            rec.update(
                status='skipped', reason='interface %s is not in %s: its ADD failed' % (rec['ifname'], rec['netns'])
            )
            continue
        for peer in rec['peers']:
            jobs.append((rec, peer))
    results = run_ordered(
        jobs,
        lambda job: node.ping(job[0]['netns'], job[1]['address'], params['probe_count'], params['probe_timeout']),
        params['probe_workers'],
    )
    for (rec, peer), result in zip(jobs, results):
        peer.update(result)
        peer['ok'] = pf.probe_verdict(result, params['probe_max_loss'])
        if not peer['ok']:
            who = '%s (%s)' % (peer['address'], peer['node']) if peer.get('node') else peer['address']
            _fail_record(rec, 'peer %s unreachable from %s: %s' % (who, rec['netns'], pf.peer_problem(peer)))


def absent(
    node: Node,
    records: list[dict[str, Any]],
    out: dict[str, Any],
    params: Mapping[str, Any],
    check_mode: bool = False,
) -> None:
    """DEL every attachment, remove its namespace, every other ``npf-*`` namespace and the marked links without ports."""
    existing = node.namespaces()
    ours = set(r['netns'] for r in records)
    stale = [ns for ns in pf.preflight_namespaces(existing) if ns not in ours]
    links = [name for name, ports in pf.marked_links(node.node_links()) if ports == 0]
    if check_mode:
        for rec in records:
            rec.update(status='would-run', del_ok=None, del_error=None, removed=rec['netns'] in existing)
            if rec['netns'] in existing:
                out['removed'].append(rec['netns'])
        out['stale_removed'] = stale
        out['removed'].extend(stale + ['link %s' % n for n in links])
        return
    problems = []
    for rec in records:
        had = rec['netns'] in existing
        rec.update(del_ok=None, del_error=None, removed=False)
        try:
            had_interface = had and pf.find_link(node.links(rec['netns']), rec['ifname']) is not None
        except CommandError:
            # A namespace that cannot be entered (a stale mount point) is still deleted below.
            had_interface = False
        try:
            # DEL always, also when the ADD failed or the namespace is gone: plugins clean up outside it too.
            error = _del_chain(node, rec)
            rec.update(del_ok=error is None, del_error=error)
            if had:
                node.netns_del(rec['netns'])
                rec['removed'] = True
                out['removed'].append(rec['netns'])
        except CommandError as exc:
            # Keep going: every other attachment is still cleaned up.
            problems.append(str(exc))
            _fail_record(rec, str(exc))
            continue
        if error and had_interface:
            _fail_record(
                rec,
                'DEL failed while %s was still in %s: %s' % (rec['ifname'], rec['netns'], error),
                plugin_error=error,
            )
    for ns in stale:
        try:
            node.netns_del(ns)
        except CommandError as exc:
            problems.append(str(exc))
            continue
        out['stale_removed'].append(ns)
        out['removed'].append(ns)
    try:
        _remove_stale_links(node, out['removed'])
    except CommandError as exc:
        problems.append(str(exc))
    left = [ns for ns in node.namespaces() if ns in ours or ns in stale]
    if left or problems:
        raise PreflightFailed(
            'cni_preflight: cleanup incomplete: %s'
            % '; '.join(problems + (['namespaces left behind: %s' % ', '.join(left)] if left else [])),
            dict(attachments=public(records), **out),
        )


def public(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The records without their private (``_``) keys, as the module returns them."""
    return [dict((k, v) for k, v in rec.items() if not k.startswith('_')) for rec in records]


STATES = {'present': present, 'probe': probe, 'absent': absent}
DESCRIBE = {'present': pf.describe_add, 'probe': pf.describe_probe, 'absent': pf.describe_del}


def run(
    params: Mapping[str, Any], node: Node, records: list[dict[str, Any]], check_mode: bool = False
) -> dict[str, Any]:
    """One state (``params['state']``) over ``records`` (:func:`prepare`) on ``node``: the module's result.

    PreflightFailed (with the message and the result to fail with) when a command the preflight
    needs failed, a cleanup was incomplete, or attachments failed and ``fail_on_error`` is set.
    """
    state = params['state']
    out: dict[str, list[str]] = {'created': [], 'removed': [], 'stale_removed': []}
    try:
        STATES[state](node, records, out, params, check_mode)
    except (CommandError, pf.PreflightError) as exc:
        raise PreflightFailed('cni_preflight: %s' % exc, dict(attachments=public(records), **out))
    for rec in records:
        rec['summary'] = DESCRIBE[state](rec)
    failed = [r['name'] for r in records if r['status'] == 'failed']
    result = dict(
        changed=bool(out['created'] or out['removed']),
        state=state,
        attachments=public(records),
        failed_attachments=failed,
        summary=[r['summary'] for r in records],
        **out,
    )
    if failed and params['fail_on_error']:
        raise PreflightFailed(
            'cni_preflight %s failed for %s: %s'
            % (
                state,
                ', '.join(failed),
                ' | '.join('; '.join(r['errors']) for r in records if r['status'] == 'failed'),
            ),
            result,
        )
    return result
