#!/usr/bin/env bash
# Set up this host for the multi-NIC lab (roles/lab, playbooks/lab.yml). Needs root on Debian.
# Idempotent: installs only the missing Debian packages and rewrites the drop-in only when it differs.
#
# What it does, and nothing else:
#   1. apt-get install --no-install-recommends the packages below that are missing;
#   2. writes /etc/containers/containers.conf.d/50-netplumb-lab.conf:
#      runc (crun fails here: cgroup hybrid mode, setrlimit without CAP_SYS_RESOURCE),
#      default ulimits low enough for runc to set without CAP_SYS_RESOURCE, and podman's
#      default network moved into 198.19.x.0/24 so every address stays in 198.18.0.0/15.
# It leaves any containers.conf of yours alone: the drop-in is read after it.
set -euo pipefail

packages=(podman netavark aardvark-dns runc conmon catatonit iptables uidmap fuse-overlayfs
          slirp4netns debootstrap containernetworking-plugins kmod iproute2 tar)
dropin_dir=/etc/containers/containers.conf.d
dropin=$dropin_dir/50-netplumb-lab.conf
# Overridable, for a host where 198.19.255.0/24 is taken.
default_subnet=${NETPLUMB_LAB_DEFAULT_SUBNET:-198.19.255.0/24}

say() { echo "bootstrap-podman: $*"; }

if [[ $(id -u) -ne 0 ]]; then
    say "needs root (apt-get, /etc/containers, rootful podman)" >&2
    exit 1
fi
case $default_subnet in
    198.18.* | 198.19.*) ;;
    *) say "NETPLUMB_LAB_DEFAULT_SUBNET=$default_subnet is outside 198.18.0.0/15" >&2; exit 1 ;;
esac

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    say "packages already installed: ${packages[*]}"
fi

want=$(cat <<CONF
# Written by netplumb.multihome tests/lab/bootstrap-podman.sh: podman settings for the multi-NIC lab.
[containers]
# runc cannot raise the limits above the host's without CAP_SYS_RESOURCE.
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]

[engine]
# crun fails on this kind of host (cgroup hybrid mode).
runtime = "runc"

[network]
# Keep podman's own default network inside 198.18.0.0/15.
default_subnet = "$default_subnet"
CONF
)
if [[ -f $dropin ]] && [[ $(cat "$dropin") == "$want" ]]; then
    say "$dropin already up to date"
else
    mkdir -p "$dropin_dir"
    printf '%s\n' "$want" >"$dropin.tmp"
    mv "$dropin.tmp" "$dropin"
    say "wrote $dropin (runtime runc, default_ulimits, default_subnet $default_subnet)"
fi

# Report what podman now uses; fail here rather than in the lab when it cannot run.
info=$(podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.NetworkBackend}}')
say "podman uses: $info"
