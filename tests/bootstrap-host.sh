#!/usr/bin/env bash
# Install the Debian packages the tests need, only those missing. Needs root on Debian/Ubuntu.
set -euo pipefail
# chromium and a font: the report page is loaded and photographed in headless Chromium (tests/integration/browser.py).
packages=(python3 python3-venv python3-pip git iproute2 iputils-ping ca-certificates containernetworking-plugins shellcheck
          chromium fonts-dejavu-core)
# Node.js with npm for the HTML validator below (a machine may have its own Node.js: then it is used).
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
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

# The HTML validator of the report page (html-validate, from the npm registry, pinned), in the build cache outside
# the checkout; tests/integration/browser.py runs it from there.
HTML_VALIDATE_VERSION=9.7.1
html_validate=/var/cache/netplumb-build/html-validate-$HTML_VALIDATE_VERSION
if [[ ! -x $html_validate/node_modules/.bin/html-validate ]]; then
    mkdir -p "$html_validate"
    npm install --silent --no-audit --no-fund --prefix "$html_validate" "html-validate@$HTML_VALIDATE_VERSION"
fi
