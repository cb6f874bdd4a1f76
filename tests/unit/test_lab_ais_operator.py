# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's stand-in for the AIS operator (roles/lab/files/ais_operator.py): where it puts the daemons of an AIStore
resource and what it gives aisinit. The resource is the one our aistore_resource filter builds, which the unit tests
of test_rendered_resources.py check against the operator's CRD. The daemons themselves run for real in
tests/integration/test_aistore_real.py and test_site.py.
"""

import os
import signal
import sys
import time

import pytest
from aistore_settings import settings

from ansible_collections.netplumb.multihome.plugins.module_utils.aistore_resource import build_resource

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'roles', 'lab', 'files'))
import ais_operator  # noqa: E402

NODES = [('worker1', '198.18.0.11'), ('worker2', '198.18.0.12'), ('worker3', '198.18.0.13')]


def resource(**changes):
    """The resource of a three-node inventory."""
    return build_resource(settings(**dict({'proxy_size': 3, 'target_size': 3}, **changes)))


def test_one_proxy_and_one_target_per_node_in_name_order():
    daemons = ais_operator.plan(resource(), NODES)
    assert [(d['role'], d['index'], d['node'], d['node_ip']) for d in daemons] == [
        (role, i, name, ip) for role in ('proxy', 'target') for i, (name, ip) in enumerate(NODES)
    ]


def test_a_target_shares_no_intra_port_with_its_nodes_proxy():
    # The role gives both daemons the same intra ports (each pod has its own network namespace); here they share one.
    daemons = ais_operator.plan(resource(), NODES)
    ports = dict((d['role'], d['ports']) for d in daemons)
    assert ports['proxy'] == (51080, 51082, 51083)
    assert ports['target'] == (51081, 51092, 51093)
    # Different ports stay as they are.
    spec = resource()
    spec['spec']['targetSpec'].update(portIntraControl=52000, portIntraData=52001)
    assert ais_operator.plan(spec, NODES)[-1]['ports'] == (51081, 52000, 52001)


def test_sizes_come_from_each_daemon_then_from_spec_size():
    spec = resource(proxy_size=1, target_size=2)
    assert [d['role'] for d in ais_operator.plan(spec, NODES)] == ['proxy', 'target', 'target']
    del spec['spec']['proxySpec']['size']
    spec['spec']['size'] = 3
    assert [d['role'] for d in ais_operator.plan(spec, NODES)].count('proxy') == 3


def test_more_daemons_than_nodes_is_refused_naming_the_size():
    with pytest.raises(ValueError, match=r'targetSpec.size 4: the lab runs one target per Node and has 3 Ready Nodes'):
        ais_operator.plan(resource(target_size=4), NODES)


def test_the_template_keeps_aisinit_placeholders_and_labels_every_mount(tmp_path):
    base = str(tmp_path)
    template = ais_operator.local_template(
        base, 'target', (51081, 51092, 51093), [{'path': '/ais1'}, {'path': '/ais2', 'label': 'fast'}]
    )
    assert template['host_net'] == {
        'hostname': '${AIS_PUBLIC_HOSTNAME}',
        'hostname_intra_control': '${AIS_INTRA_HOSTNAME}',
        'hostname_intra_data': '${AIS_DATA_HOSTNAME}',
        'port': '51081',
        'port_intra_control': '51092',
        'port_intra_data': '51093',
    }
    assert template['fspaths'] == {
        os.path.join(base, 'mounts', 'ais1'): 'lab',
        os.path.join(base, 'mounts', 'ais2'): 'fast',
    }
    assert 'fspaths' not in ais_operator.local_template(base, 'proxy', (51080, 51082, 51083))


def test_aisinit_gets_the_operators_pod_environment():
    assert ais_operator.aisinit_env('ais', 'store', 'proxy', 2, 'worker3', '198.18.0.13') == {
        'K8S_NS': 'ais',
        'MY_SERVICE': 'store-proxy',
        'MY_POD': 'store-proxy-2',
        'MY_NODE': 'worker3',
        'AIS_PUBLIC_HOSTNAME': '198.18.0.13',
    }


def test_only_proxies_are_told_how_many_targets_to_wait_for():
    assert ais_operator.aisnode_argv('/b/aisnode', 'proxy', '/d', 3)[-1] == '-ntargets=3'
    assert not any(arg.startswith('-ntargets') for arg in ais_operator.aisnode_argv('/b/aisnode', 'target', '/d', 3))


def test_merge_keeps_what_the_override_does_not_name():
    config = ais_operator.merge(
        {'memsys': {'min_free': '1GiB', 'hk': 1}, 'log': {'level': '3'}}, ais_operator.LAB_CONFIG
    )
    assert config == {'memsys': {'min_free': '256MiB', 'hk': 1}, 'log': {'level': '3'}}


# A stand-in for `nsenter --pid -- aisnode`: the leader dies at SIGTERM at once (nsenter does not pass it on), the
# child it forked ignores SIGTERM (an aisnode slow to leave). Its command line names ``base``, as aisnode's does.
NSENTER_LIKE = (
    'import os, signal, sys, time\n'
    'if os.fork() == 0:\n'
    '    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n'
    '    time.sleep(60)\n'
    '    sys.exit(0)\n'
    'time.sleep(60)\n'
)


def start_group(base):
    import subprocess

    proc = subprocess.Popen(
        [sys.executable, '-c', NSENTER_LIKE, '-config=%s/cluster.json' % base], start_new_session=True
    )
    deadline = time.monotonic() + 10
    while len(members(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(members(proc.pid)) == 2
    return proc


def members(pgid):
    """The live members of process group ``pgid``, read here from /proc (not with the code under test)."""
    out = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/%s/stat' % entry, 'rb') as handle:
                    fields = handle.read().rsplit(b')', 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] not in (b'Z', b'X'):
                out.append(int(entry))
    return out


def test_stop_waits_for_the_whole_group_and_kills_what_ignores_sigterm(tmp_path):
    proc = start_group(tmp_path)
    started = time.monotonic()
    ais_operator.stop_processes([proc], grace=1.0)
    assert members(proc.pid) == [] and proc.returncode is not None
    # It waited for the child past the leader's death, then killed it.
    assert time.monotonic() - started >= 1.0


def test_stop_finds_the_daemons_a_dead_stand_in_left_by_their_directories(tmp_path):
    base = tmp_path / 'ais' / 'ais' / 'ais' / 'worker1' / 'proxy'
    base.mkdir(parents=True)
    proc = start_group(base)
    try:
        (base / ais_operator.PGID_FILE).write_text('%d\n' % proc.pid)
        # Another directory's group, and a file naming a group that is gone, are left alone.
        other = start_group(tmp_path / 'elsewhere')
        (tmp_path / 'ais' / 'ais' / 'ais' / 'worker2').mkdir()
        (tmp_path / 'ais' / 'ais' / 'ais' / 'worker2' / ais_operator.PGID_FILE).write_text('%d\n' % other.pid)
        assert ais_operator.leftover_daemons(str(tmp_path)) == [proc.pid]
        proc.terminate()  # the leader goes, the child stays: still found by its group and directory
        proc.wait(10)
        assert ais_operator.leftover_daemons(str(tmp_path)) == [proc.pid]
        assert ais_operator.main(['stop', '--state-dir', str(tmp_path)]) == 0
        assert members(proc.pid) == [] and ais_operator.leftover_daemons(str(tmp_path)) == []
        assert len(members(other.pid)) == 2
    finally:
        for group in (proc, locals().get('other')):
            if group is not None:
                ais_operator.kill_group(group.pid, signal.SIGKILL)
                group.wait(10)
