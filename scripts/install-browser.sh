#!/usr/bin/env bash
# Install what the browser tests need, if missing: Debian's Chromium (driven by
# Playwright through executable_path, so no browser download) and Noto fonts, whose
# Noto Nastaliq Urdu / Noto Naskh Arabic render the Urdu script on the page.
set -euo pipefail

packages=()
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
if ! fc-list 2>/dev/null | grep -qi "Noto Nastaliq Urdu"; then
  packages+=(fonts-noto-core)
fi

if [ "${#packages[@]}" -eq 0 ]; then
  echo "chromium and Urdu fonts are installed"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing ${packages[*]}, and apt-get is not available: install them yourself" >&2
  exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  sudo=(sudo)
fi

echo "installing ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" fontconfig
command -v chromium >/dev/null 2>&1 || { echo "chromium did not install" >&2; exit 1; }
