# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    """Which peers each node probes (connectivity_probe and connectivity_matrix plan alike)."""

    DOCUMENTATION = r'''
options:
  scale:
    description:
      - Which peers each node probes on each network. The peers are the nodes after it on the network's ring (the nodes
        that have the network, in the order of O(nodes)).
      - C(full) probes every other node's addresses (n(n-1) node pairs per network of n nodes).
      - C(ring) probes the next O(neighbours) nodes only (n times O(neighbours)); every address sends and receives that
        many probes, and the whole ring passing means every node reaches every other one.
      - C(sample) probes the ring and O(sample) more nodes drawn with O(seed); a new seed per run covers every pair
        over runs.
      - The nodes and the matrix must be given the same O(scale), O(neighbours), O(sample) and O(seed).
    type: str
    choices: [full, ring, sample]
    default: full
  neighbours:
    description: With O(scale=ring) or O(scale=sample), how many next nodes on each network's ring each node probes.
    type: int
    default: 2
  sample:
    description: With O(scale=sample), how many more nodes each node probes on each network, drawn with O(seed).
    type: int
    default: 0
  seed:
    description: With O(scale=sample), the seed of the draw; the same seed gives the same plan everywhere.
    type: str
    default: ''
'''
