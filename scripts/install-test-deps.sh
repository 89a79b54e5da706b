#!/usr/bin/env bash
# Installs the system tools the test suite drives for real: socat (pseudo-terminal pairs that act
# as serial ports), openssl (independent certificate checks) and chromium (the UI tests run the
# station UI in a real browser). Safe to run again: when the tools are present it only says so.
# `npm test` runs it first through the "pretest" script; `npm start` runs it with
# --runtime-only, which skips chromium (the DEMO line needs socat and openssl, not a browser).
set -euo pipefail

required_tools=(socat openssl)
if [ "${1:-}" != "--runtime-only" ]; then
  required_tools+=(chromium)
fi
missing=()
for tool in "${required_tools[@]}"; do
  if command -v "$tool" >/dev/null 2>&1; then
    echo "install-test-deps: $tool found at $(command -v "$tool")"
  else
    missing+=("$tool")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

echo "install-test-deps: missing ${missing[*]}"

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: no apt-get on this system; install ${missing[*]} with your package" >&2
  echo "install-test-deps: manager (for example 'brew install ${missing[*]}') and run again." >&2
  exit 1
fi

# Root runs apt-get directly; anyone else goes through sudo, which must be available.
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-test-deps: not root and sudo is unavailable; as root run:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  as_root=(sudo)
fi

# The Debian package names match the tool names (chromium's command is `chromium`).
echo "install-test-deps: ${as_root[*]:+${as_root[*]} }apt-get update"
${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update
echo "install-test-deps: ${as_root[*]:+${as_root[*]} }apt-get install -y --no-install-recommends ${missing[*]}"
${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"

for tool in "${missing[@]}"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "install-test-deps: $tool is still missing after apt-get install" >&2
    exit 1
  fi
  echo "install-test-deps: installed $tool at $(command -v "$tool")"
done
