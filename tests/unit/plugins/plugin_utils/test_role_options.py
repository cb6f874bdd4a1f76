# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""role_options against the roles' real meta/argument_specs.yml: Ansible's own validator, said with what the option
is. That the playbooks run it before their roles, so that its message comes first, is test_dpdk_vpp_host.py's part."""

import pytest

from ansible_collections.netplumb.multihome.plugins.plugin_utils.role_options import check_role_options, role_spec


def test_bad_values_name_the_option_what_it_is_and_expects():
    problems = check_role_options(
        role_spec('multihome_routing'),
        {
            'multihome_routing_table_base': 'abc',
            'multihome_routing_persist': 'maybe',
            'multihome_routing_state': 'gone',
        },
    )
    assert [p.split(' (')[0] for p in problems] == [
        'multihome_routing_persist',
        'multihome_routing_state',
        'multihome_routing_table_base',
    ]
    assert problems[2].startswith(
        "multihome_routing_table_base (Lowest table number to hand out (1 to 32765); each table's number is also its rule's "
        "priority) expects a whole number, not 'abc'. Ansible says: argument 'multihome_routing_table_base' is of type str"
    ), problems[2]
    assert "expects one of present, absent, not 'gone'" in problems[1]
    assert "expects a boolean, not 'maybe'" in problems[0]


def test_values_ansible_converts_pass_and_entry_points_are_checked_too():
    # '1200' is a number and 'yes' a boolean to Ansible's validation: no problem here either.
    assert (
        check_role_options(
            'multihome_routing', {'multihome_routing_table_base': '1200', 'multihome_routing_persist': 'yes'}
        )
        == []
    )
    problems = check_role_options(role_spec('net_guard', 'checkpoint'), {'net_guard_timeout': 'soon'})
    assert problems and problems[0].startswith('net_guard_timeout (Seconds from the checkpoint until the node rolls')


@pytest.mark.parametrize(
    'role, entry, message',
    [
        ('nosuchrole', 'main', 'role nosuchrole has no readable argument specs'),
        ('net_guard', 'apply', 'role net_guard has no entry point apply'),
    ],
)
def test_unknown_roles_and_entry_points_are_named(role, entry, message):
    with pytest.raises(ValueError, match=message):
        role_spec(role, entry)


def test_the_checker_checks_each_distinct_set_of_values_once_and_answers_each_set_as_its_own(monkeypatch):
    from ansible_collections.netplumb.multihome.plugins.plugin_utils import role_options

    spec = role_spec('multihome_routing')
    calls = []
    real = role_options.check_role_options

    def counting(options, values):
        calls.append(values)
        return real(options, values)

    monkeypatch.setattr(role_options, 'check_role_options', counting)
    checker = role_options.OptionsChecker()
    bad, good, number = (
        {'multihome_routing_table_base': 'abc'},
        {'multihome_routing_table_base': '1200'},
        {'multihome_routing_table_base': 1200},
    )
    answers = [checker.check(spec, values) for values in (bad, good, bad, number, good, bad)]
    assert [len(a) for a in answers] == [1, 0, 1, 0, 0, 1]
    assert answers[0] == answers[2] == real(spec, bad)
    # '1200' and 1200 are different values (each checked); a repeated value is not checked again.
    assert calls == [bad, good, number]
    # An answer handed out is the caller's: changing it changes no later answer.
    answers[0].append('mine')
    assert checker.check(spec, bad) == real(spec, bad)
