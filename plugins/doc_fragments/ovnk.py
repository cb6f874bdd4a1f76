# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    """OVN-Kubernetes' own subnets, which its secondary networks must not overlap."""

    DOCUMENTATION = r'''
options:
  ovnk_internal_subnets:
    description:
      - OVN-Kubernetes' own subnets, which the C(subnets) and join subnets of a C(layer2) or C(layer3) network must not
        overlap (OVN-Kubernetes' C(SubnetOverlapCheck) otherwise ignores the NetworkAttachmentDefinition, logging
        C(pod or join subnet overlaps with already configured internal subnets)). A dict of name to CIDRs.
      - The default is OVN-Kubernetes' own defaults - C(join subnet) V(100.64.0.0/16) and V(fd98::/64); C(masquerade
        subnet) V(169.254.169.0/29) and V(fd69::/125), and V(169.254.0.0/17) and V(fd69::/112) as kind and OpenShift
        deploy it; C(transit subnet) V(100.88.0.0/16) and V(fd97::/64) (for C(layer3) only). Give your cluster's values
        when its OVN-Kubernetes is configured otherwise.
      - Every C(layer2)/C(layer3) network also has join subnets of its own (C(join_subnet), else V(100.65.0.0/16) and
        V(fd99::/64)), which are checked too.
    type: dict
'''
