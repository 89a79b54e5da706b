#!/usr/bin/env bash
# Installs the system tools the test suite drives for real: socat (pseudo-terminal pairs that act
# as serial ports), openssl (independent certificate checks), chromium (the UI tests run the
# station UI in a real browser), and swtpm with tpm2-tools (a software TPM, manufactured with an
# EK certificate and read like a device's TPM, for the EK checks in certs/tpm/swtpmEk.test.ts),
# and the sqlite3 shell (another program holding the station database's lock, as a supervisor's
# tool would).
# Safe to run again: when the tools are present it only says so.
# `npm test` runs it first through the "pretest" script; `npm start` runs it with
# --runtime-only, which skips the test-only tools (the DEMO line needs socat, not a browser or a
# TPM, nor openssl, which only the tests run). With --runtime-only a failed install is only a
# warning and the script exits 0: a saved real line needs no socat, and a production workstation may have no apt-get and no sudo,
# so the start goes on; the DEMO then refuses with SIM_SOCAT_MISSING when socat is absent.
set -euo pipefail

runtime_only=false
[ "${1:-}" = "--runtime-only" ] && runtime_only=true

# Each entry is "command:Debian package"; most packages are named after their command. The
# station itself needs none of them but socat, for the DEMO's simulated devices.
required_tools=(socat:socat)
if [ "$runtime_only" = false ]; then
  required_tools+=(openssl:openssl)
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

# Ends the script after the reason was printed: the tests cannot run without every tool (exit
# 1), but `npm start` runs a saved real line without them, so there it warns what will not work
# and lets the start go on (exit 0).
give_up() {
  if [ "$runtime_only" = false ]; then
    exit 1
  fi
  local still=()
  for tool in "${missing[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || still+=("$tool")
  done
  echo "install-test-deps: warning: ${still[*]} not installed; the start goes on." >&2
  for tool in "${still[@]}"; do
    case "$tool" in
      socat) echo "install-test-deps: warning: the DEMO line needs socat for its simulated devices and will not start without it (a saved line does not need it)." >&2 ;;
    esac
  done
  exit 0
}

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: no apt-get on this system; install ${packages[*]} with your package" >&2
  echo "install-test-deps: manager (for example 'brew install ${packages[*]}') and run again." >&2
  give_up
fi

# Root runs apt-get directly; anyone else goes through sudo, which must be available.
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-test-deps: not root and sudo is unavailable; as root run:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${packages[*]}" >&2
    give_up
  fi
  as_root=(sudo)
fi

echo "install-test-deps: ${as_root[*]:+${as_root[*]} }apt-get update"
if ! ${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update; then
  echo "install-test-deps: ${as_root[*]:+${as_root[*]} }apt-get update failed" >&2
  give_up
fi
echo "install-test-deps: ${as_root[*]:+${as_root[*]} }apt-get install -y --no-install-recommends ${packages[*]}"
if ! ${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${packages[@]}"; then
  echo "install-test-deps: ${as_root[*]:+${as_root[*]} }apt-get install failed" >&2
  give_up
fi

for tool in "${missing[@]}"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "install-test-deps: $tool is still missing after apt-get install" >&2
    give_up
  fi
  echo "install-test-deps: installed $tool at $(command -v "$tool")"
done
