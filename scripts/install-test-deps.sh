#!/usr/bin/env bash
# Installs the system tools the test suite drives for real: socat (pseudo-terminal pairs that act
# as serial ports), openssl (independent certificate checks), chromium (the UI tests run the
# station UI in a real browser), and swtpm with tpm2-tools (a software TPM, manufactured with an
# EK certificate and read like a device's TPM, for the EK checks in certs/tpm/swtpmEk.test.ts),
# and the sqlite3 shell (another program holding the station database's lock, as a supervisor's
# tool would).
# Safe to run again: when the tools are present it only says so.
# `npm test` runs it first through the "pretest" script; `npm start` runs it with
# --runtime-only, which skips the test-only tools (the DEMO line needs socat and openssl, not a
# browser or a TPM).
set -euo pipefail

# Each entry is "command:Debian package"; most packages are named after their command.
required_tools=(socat:socat openssl:openssl)
if [ "${1:-}" != "--runtime-only" ]; then
  required_tools+=(chromium:chromium swtpm:swtpm swtpm_setup:swtpm-tools tpm2_nvread:tpm2-tools)
  required_tools+=(sqlite3:sqlite3)
fi
missing=()
packages=()
for entry in "${required_tools[@]}"; do
  tool="${entry%%:*}"
  if command -v "$tool" >/dev/null 2>&1; then
    echo "install-test-deps: $tool found at $(command -v "$tool")"
  else
    missing+=("$tool")
    packages+=("${entry#*:}")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

echo "install-test-deps: missing ${missing[*]} (packages ${packages[*]})"

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: no apt-get on this system; install ${packages[*]} with your package" >&2
  echo "install-test-deps: manager (for example 'brew install ${packages[*]}') and run again." >&2
  exit 1
fi

# Root runs apt-get directly; anyone else goes through sudo, which must be available.
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-test-deps: not root and sudo is unavailable; as root run:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${packages[*]}" >&2
    exit 1
  fi
  as_root=(sudo)
fi

echo "install-test-deps: ${as_root[*]:+${as_root[*]} }apt-get update"
${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update
echo "install-test-deps: ${as_root[*]:+${as_root[*]} }apt-get install -y --no-install-recommends ${packages[*]}"
${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${packages[@]}"

for tool in "${missing[@]}"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "install-test-deps: $tool is still missing after apt-get install" >&2
    exit 1
  fi
  echo "install-test-deps: installed $tool at $(command -v "$tool")"
done
