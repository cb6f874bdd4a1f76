# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every custom resource the collection renders is accepted by the upstream CRDs of ../shared/crds/.

Covered here, without a cluster: every custom resource and every network example of docs/ (the YAML
blocks of the pages, built with the same code the network_attachments role runs), and the objects of
the lab's main job (vars/network_attachments.yml with the plan of vars/addressing.yml, as
playbooks/site.yml builds them). The aistore role's defaults are rendered by the role itself in
tests/integration/test_aistore_role.py and checked with the same crd_schema module.

What the CRD schema cannot prove is said in crd_schema.py: admission webhooks (Spiderpool's rules
are checked by nad_objects itself, see test_nad.py) and what the controllers do with the objects.
"""

import glob
import json
import os
import re
import textwrap

import pytest
import yaml

from ansible_collections.netplumb.multihome.plugins.module_utils.nad import build_objects, check_cni_config
from ansible_collections.netplumb.multihome.plugins.module_utils.range_plan import plan_ranges

from crd_schema import CRDS, REPO, assert_accepted

_BLOCK = re.compile(r'^```yaml\n(.*?)^```', re.M | re.S)


def load(path):
    with open(os.path.join(REPO, path)) as handle:
        return yaml.safe_load(handle)


def inventory_nodes():
    with open(os.path.join(REPO, 'inventory', 'hosts.ini')) as handle:
        return [line.split()[0] for line in handle if re.match(r'^worker\d', line)]


def main_job_plan():
    """The network_ranges plan playbooks/plan_addresses.yml makes from vars/addressing.yml (no AIS guide variables)."""
    ranges = load('vars/addressing.yml')['addressing_network_ranges']
    return plan_ranges(
        ranges['supernet'],
        ranges['networks'],
        nodes=inventory_nodes(),
        reserved=load('vars/addressing.yml')['addressing_reserved'],
    )['plan']


def doc_blocks():
    """``(page, number, data)`` of every YAML block of docs/ that parses without Jinja."""
    out = []
    for path in sorted(glob.glob(os.path.join(REPO, 'docs', '*.md'))):
        with open(path) as handle:
            text = handle.read()
        for number, match in enumerate(_BLOCK.finditer(text)):
            body = match.group(1)
            if '{{' in body:
                continue
            out.append((os.path.basename(path), number, yaml.safe_load(textwrap.dedent(body))))
    return out


def custom_resources(data):
    """The objects of ``data`` (a dict or list) that a CRD of ../shared/crds serves."""
    items = data if isinstance(data, list) else [data]
    return [o for o in items if isinstance(o, dict) and (o.get('apiVersion'), o.get('kind')) in CRDS]


def network_items(data):
    """Network items of the network_attachments role in ``data``: a list of them, or the role's variable."""
    if isinstance(data, dict) and 'network_attachments_networks' in data:
        data = data['network_attachments_networks']
    if (
        isinstance(data, list)
        and data
        and all(isinstance(i, dict) and 'name' in i and 'apiVersion' not in i for i in data)
    ):
        if any('type' in i or i.get('kind') in ('spiderpool', 'multinicnetwork') for i in data):
            return data
    return []


def check_objects(objects):
    checked = 0
    for entry in objects:
        obj = entry['object']
        if entry['state'] != 'present':
            continue
        if obj['kind'] == 'NetworkAttachmentDefinition':
            check_cni_config(obj['spec']['config'])
        assert_accepted(obj)
        checked += 1
    return checked


DOC_BLOCKS = doc_blocks()


def test_every_custom_resource_in_the_docs_is_accepted():
    found = [(page, number, obj) for page, number, data in DOC_BLOCKS for obj in custom_resources(data)]
    # docs/aistore.md shows the AIStore resource the role applies.
    assert [(page, obj['kind']) for page, _n, obj in found] == [('aistore.md', 'AIStore')]
    for _page, _number, obj in found:
        assert_accepted(obj)


@pytest.mark.parametrize(
    'page, number, items',
    [(page, number, network_items(data)) for page, number, data in DOC_BLOCKS if network_items(data)],
    ids=lambda v: v if isinstance(v, (str, int)) else None,
)
def test_every_network_example_in_the_docs_builds_accepted_objects(page, number, items):
    defaults = {'namespace': 'ais'}
    objects = build_objects(items, defaults=defaults, plan=main_job_plan())
    assert check_objects(objects) >= 1


def test_the_docs_show_each_kind_of_network():
    kinds = set()
    for _page, _number, data in DOC_BLOCKS:
        for item in network_items(data):
            kinds.add(item.get('kind', 'nad') + ('/' + item['type'] if 'type' in item else ''))
    assert {'nad/macvlan', 'nad/ipvlan', 'nad/ovn-k8s-cni-overlay', 'spiderpool', 'multinicnetwork'} <= kinds, kinds


def test_the_main_jobs_objects_are_accepted():
    data = load('vars/network_attachments.yml')
    objects = build_objects(
        data['network_attachments_networks'],
        defaults=data['network_attachments_defaults'],
        plan=main_job_plan(),
        reserved=load('vars/addressing.yml')['addressing_reserved'],
    )
    assert check_objects(objects) == len(data['network_attachments_networks'])
    names = sorted(json.loads(e['object']['spec']['config'])['name'] for e in objects)
    assert names == ['replication-net', 'storage-net', 'tenant-blue']
