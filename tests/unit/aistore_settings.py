# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The aistore role's settings for ``aistore_resource`` (roles/aistore/defaults/main.yml), for a two-node inventory
with two attachments: one place for the tests that build an AIStore resource (unit and integration)."""

import copy

SETTINGS = {
    'name': 'ais',
    'namespace': 'ais',
    'node_image': 'aistorage/aisnode:v4.4',
    'init_image': 'aistorage/ais-init:v4.4',
    'hostname_map': {
        '198.18.0.11': '198.18.0.11,198.18.1.11,198.18.2.11',
        '198.18.0.12': '198.18.0.12,198.18.1.12,198.18.2.12',
    },
    'attachments': ['macvlan-nic1', 'macvlan-nic2'],
    'proxy_size': 2,
    'target_size': 2,
    'proxy_port': 51080,
    'target_port': 51081,
    'proxy_service_port': '51080',
    'target_service_port': '51081',
    'intra_control_port': 51082,
    'intra_data_port': 51083,
    'host_port': True,
    'mounts': [{'path': '/ais1', 'size': '10Gi'}],
    'state_storage': {'hostPath': {'prefix': '/etc/ais'}},
    'hostpath_prefix': '',
    'extra_spec': {},
}


def settings(**changes):
    """A copy of SETTINGS with ``changes``."""
    out = copy.deepcopy(SETTINGS)
    out.update(changes)
    return out
