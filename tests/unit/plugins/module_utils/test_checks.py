# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared small checks (module_utils/checks.py): text, comma-separated lists, DNS-1123 names, interface names."""

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils.checks import (
    check_dns_label,
    check_dns_subdomain,
    check_ifname,
    dns_label_problem,
    is_text,
    json_type,
    split_list,
)


class OwnError(ValueError):
    """A caller's own error class: the checks raise what they are given."""


def test_is_text_and_json_type():
    assert is_text('') and is_text('a') and not is_text(None) and not is_text(b'a')
    assert [json_type(v) for v in (True, 1, 1.5, 'a', [], {}, None, set())] == [
        'boolean',
        'number',
        'number',
        'string',
        'array',
        'object',
        'null',
        'set',
    ]


@pytest.mark.parametrize(
    'value, expected',
    [
        ('a, b ,c', ['a', 'b', 'c']),
        (['a ', ' b'], ['a', 'b']),
        (('a',), ['a']),
        (None, []),
        ('', []),
        ('  ', []),
        ([], []),
        ('a,a', ['a', 'a']),
    ],
)
def test_split_list(value, expected):
    assert split_list(value, 'names') == expected


@pytest.mark.parametrize(
    'value, kwargs, fragment',
    [
        (None, {'required': True}, 'names is missing: expected a comma-separated list'),
        ('', {'required': True}, 'names is missing'),
        (5, {}, 'names 5 is a number: expected a comma-separated string or a list'),
        ({'a': 1}, {}, 'is a object'),
        ('a,,b', {}, "names 'a,,b' has an empty item at position 2"),
        (['a', 3], {}, "names ['a', 3] has a non-string item 3 at position 2"),
        ('a,b,a', {'unique': True}, "names 'a,b,a' lists 'a' twice (positions 1 and 3)"),
    ],
)
def test_split_list_refusals(value, kwargs, fragment):
    with pytest.raises(OwnError) as exc:
        split_list(value, 'names', OwnError, **kwargs)
    assert fragment in str(exc.value)


def test_split_list_speaks_the_callers_words():
    messages = {'item_empty': "%(what)s entry %(index)d of %(value)r is empty", 'type': "%(what)s %(value)r: no list"}
    with pytest.raises(ValueError, match="subnets entry 1 of 'a,' is empty"):
        split_list('a,', 'subnets', messages=messages)
    with pytest.raises(ValueError, match="subnets 7: no list"):
        split_list(7, 'subnets', messages=messages)


@pytest.mark.parametrize('value', ['a', 'storage-net', '0', 'a' * 63, 'a-1'])
def test_dns_labels(value):
    assert dns_label_problem(value) is None
    assert check_dns_label(value, 'name') == value


@pytest.mark.parametrize(
    'value, fragment',
    [
        ('', "name '' is not a name"),
        (None, 'name None is not a name'),
        ('a' * 64, 'is 64 characters long: a DNS-1123 label has at most 63'),
        ('Storage', "name 'Storage' is not a DNS-1123 label"),
        ('-a', 'starting and ending with a letter or digit'),
        ('a.b', "'a.b' is not a DNS-1123 label"),
    ],
)
def test_dns_label_refusals(value, fragment):
    with pytest.raises(OwnError) as exc:
        check_dns_label(value, 'name', OwnError)
    assert fragment in str(exc.value)


def test_dns_subdomains():
    assert check_dns_subdomain('storage-v4.example', 'name') == 'storage-v4.example'
    for value in ('', 'a..b', 'A', 'a.' * 127 + 'ab', 7):
        with pytest.raises(OwnError, match='name'):
            check_dns_subdomain(value, 'name', OwnError)


def test_ifname():
    assert check_ifname('ens1f0.100', 'master') == 'ens1f0.100'
    for value, fragment in (
        ('', 'is not an interface name'),
        ('a' * 16, 'at most 15'),
        ('..', "'.' and '..'"),
        ('eth0;x', "contains ';'"),
        ('eth 0', "contains ' '"),
        ('eth%d', "contains '%'"),
    ):
        with pytest.raises(OwnError) as exc:
            check_ifname(value, 'master', OwnError)
        assert "master %r" % (value,) in str(exc.value) and fragment in str(exc.value)
