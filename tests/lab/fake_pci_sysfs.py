# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run inside a lab node: ``python3 -c "$(cat fake_pci_sysfs.py)" ROOT LAYOUT_JSON``.

Builds under ROOT the sysfs tree LAYOUT describes (the lab's veths have no PCI device): for each interface
``{name: {pci, vendor, device, driver} or {pci, virtio}}`` its PCI function with vendor, device, driver and
subsystem links (a virtio device under it for virtio NICs), and ``class/net/<name>`` with the interface's real
address, MTU, state and type copied from /sys. Loads and binds nothing. Used by
tests/integration/test_dpdk_vpp_host.py and the molecule scenario dpdk_vpp_host (prepare.yml).
"""

import json
import os
import shutil
import sys


def mkdir(path):
    if not os.path.isdir(path):
        os.makedirs(path)
    return path


def link(target, name):
    os.symlink(os.path.relpath(target, os.path.dirname(name)), name)


def write(path, text):
    with open(path, 'w') as handle:
        handle.write(text + '\n')


def build(root, layout):
    shutil.rmtree(root, ignore_errors=True)
    for name, dev in layout.items():
        function = mkdir('%s/devices/pci0000:00/%s' % (root, dev['pci']))
        link(mkdir(root + '/bus/pci'), function + '/subsystem')
        write(function + '/vendor', dev.get('vendor', '0x1af4'))
        write(function + '/device', dev.get('device', '0x1000'))
        if dev.get('virtio'):
            device = mkdir(function + '/' + dev['virtio'])
            link(mkdir(root + '/bus/virtio'), device + '/subsystem')
            link(mkdir(root + '/bus/pci/drivers/virtio-pci'), function + '/driver')
            driver = mkdir(root + '/bus/virtio/drivers/virtio_net')
        else:
            device = function
            driver = mkdir(root + '/bus/pci/drivers/' + dev['driver'])
        link(driver, device + '/driver')
        net = mkdir('%s/class/net/%s' % (root, name))
        link(device, net + '/device')
        for attr in ('address', 'mtu', 'operstate', 'type'):
            with open('/sys/class/net/%s/%s' % (name, attr)) as handle:
                write(net + '/' + attr, handle.read().strip())


if __name__ == '__main__':
    build(sys.argv[1], json.loads(sys.argv[2]))
