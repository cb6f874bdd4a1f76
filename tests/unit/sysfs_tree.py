# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build sysfs-like trees in a temporary directory, for the nic_facts tests."""

import os


def write(path, text):
    """A sysfs attribute file: ``text`` and a newline, as the kernel prints it."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as handle:
        handle.write(text + '\n')


def link(path, target):
    """A relative symlink, as sysfs has them."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.symlink(target, path)
