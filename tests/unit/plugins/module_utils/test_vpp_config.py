# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""contiv-vswitch.conf: Contiv-VPP's own default file, with the data NICs, read back with VPP's rules.

The reference is upstream's file as it is (contiv/vpp docker/vpp-vswitch/prod/vswitch/vpp.conf at
v3.4.2, c6ed559), typed in below, not the module's table. What this does not prove: no VPP
starts here (none is packaged for Debian and none can be built), so the rules of VPP's reader are
those of its source (stable/1908, the VPP contiv/vpp's vpp.env pins: src/vpp/vnet/main.c splits
words and drops '#' comments, src/vlib/init.c refuses unknown stanza names).
"""

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils.vpp_config import (
    VppConfigError,
    build,
    parse,
    stanzas,
    words,
)

UPSTREAM = """unix {
    nodaemon
    cli-listen /run/vpp/cli.sock
    cli-no-pager
    poll-sleep-usec 100
}
nat {
    endpoint-dependent
    translation hash buckets 1048576
    translation hash memory 268435456
    user hash buckets 1024
    max translations per user 10000
}
acl-plugin {
    use tuple merge 0
}
api-trace {
    on
    nitems 5000
}
socksvr {
   default
}
statseg {
   default
}
"""


def test_the_file_is_upstreams_default_plus_the_dpdk_stanza():
    text = build(
        ['0000:00:09.0', '0000:00:0a.0'], 'uio_pci_generic', comment=['Managed by Ansible: {braces} # and more']
    )
    ours = parse(text)
    upstream = parse(UPSTREAM)
    assert [s for s in ours if s[0] != 'dpdk'] == upstream
    assert dict(ours)['dpdk'] == ['dev', '0000:00:09.0', 'dev', '0000:00:0a.0', 'uio-driver', 'uio_pci_generic']
    # The agent's sockets: /run/vpp/api.sock and /run/vpp/stats.sock come from these.
    assert dict(ours)['socksvr'] == ['default'] and dict(ours)['statseg'] == ['default']
    assert text.startswith('# Managed by Ansible: {braces} # and more\n')


def test_stanzas_are_replaced_left_out_added_and_options_appended():
    text = build(
        ['0000:00:09.0'],
        None,
        stanzas={'nat': ['endpoint-dependent'], 'api-trace': None, 'cpu': ['main-core 1']},
        unix_options=['poll-sleep-usec 0', 'nodaemon'],
        dpdk_options=['socket-mem 1024'],
    )
    got = stanzas(text)
    assert got['nat'] == ['endpoint-dependent']
    assert 'api-trace' not in got
    assert got['cpu'] == ['main-core 1'] and list(got)[-1] == 'cpu'
    # VPP assigns each option as it reads it: the later poll-sleep-usec wins; a repeated line is not written twice.
    assert got['unix'] == [
        'nodaemon',
        'cli-listen /run/vpp/cli.sock',
        'cli-no-pager',
        'poll-sleep-usec 100',
        'poll-sleep-usec 0',
    ]
    assert got['dpdk'] == ['dev 0000:00:09.0', 'socket-mem 1024']
    assert [name for name, _body in parse(text)] == list(got)


def test_a_dpdk_stanza_override_keeps_the_devices():
    got = stanzas(build(['0000:00:09.0'], 'vfio-pci', stanzas={'dpdk': ['no-multi-seg']}))
    assert got['dpdk'] == ['dev 0000:00:09.0', 'uio-driver vfio-pci', 'no-multi-seg']


@pytest.mark.parametrize(
    'kwargs, message',
    [
        (
            {'stanzas': {'nat44': ['endpoint-dependent']}},
            "VPP stanza 'nat44' is not one Contiv-VPP's VPP (stable/1908) reads",
        ),
        ({'stanzas': {'unix': 'nodaemon'}}, "VPP stanza unix 'nodaemon' is not a list of options"),
        ({'stanzas': ['unix']}, 'are not a dict of stanza name'),
        ({'unix_options': ['nodaemon\n}\ndpdk {']}, "unix options[0] 'nodaemon\\n}\\ndpdk {' is not one VPP option"),
        ({'unix_options': ['cli-prompt "vpp# "']}, 'is not one VPP option'),
        ({'dpdk_options': ['dev 0000:00:0b.0']}, 'the dpdk options list dev 0000:00:0b.0'),
        ({'stanzas': {'dpdk': ['dev 0000:00:0b.0']}}, 'the dpdk options list dev 0000:00:0b.0'),
        ({'devices': ['00:09.0']}, "device '00:09.0' is not a PCI address"),
        ({'devices': []}, 'no device for the dpdk stanza'),
    ],
)
def test_what_vpp_would_refuse_is_named(kwargs, message):
    args = dict(kwargs)
    devices = args.pop('devices', ['0000:00:09.0'])
    with pytest.raises(VppConfigError) as err:
        build(devices, **args)
    assert message in str(err.value)


def test_vpps_reader_rules():
    # A word that starts with '#' ends the line; '#' inside a word does not (VPP 19.08's strtok reader).
    assert words('unix { # comment { }\n cli-listen /run/vpp/cli#1.sock }') == [
        'unix',
        '{',
        'cli-listen',
        '/run/vpp/cli#1.sock',
        '}',
    ]
    assert parse('unix {\n  nodaemon\n}\ndpdk { dev 0000:00:09.0 { num-rx-queues 2 } }') == [
        ('unix', ['nodaemon']),
        ('dpdk', ['dev', '0000:00:09.0', '{', 'num-rx-queues', '2', '}']),
    ]
    with pytest.raises(VppConfigError, match="unknown input `nat44"):
        parse('nat44 { endpoint-dependent }')
    with pytest.raises(VppConfigError, match='unclosed'):
        parse('unix { nodaemon')
    with pytest.raises(VppConfigError, match="unknown input `nodaemon'"):
        parse('nodaemon')
