# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    """Check and diff mode of the modules that change nothing (they read or compute only)."""

    DOCUMENTATION = r'''
attributes:
  check_mode:
    support: full
    description: The module changes nothing (it only reads or computes), so it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to compare.
'''
