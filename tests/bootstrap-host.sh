#!/usr/bin/env bash
# Install the Debian packages the tests need, only those missing. Needs root on Debian/Ubuntu.
set -euo pipefail
packages=(python3 python3-venv python3-pip git iproute2 iputils-ping ca-certificates containernetworking-plugins shellcheck)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "bootstrap-host: missing Debian packages ${missing[*]}; run as root or install them" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
