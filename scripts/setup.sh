#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine: QEMU, gdb and a C toolchain from apt (only what is missing),
# the npm dependencies, the extension build and the fixture unikernels; for `npm run demo` and
# `npm run test:e2e`, code-server and playwright-core (test/e2e's own package) with what their install
# needs (g++ and python3 for native modules, libkrb5-dev, ripgrep) and Debian's chromium for the e2e tests.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
command -v qemu-img >/dev/null || missing+=(qemu-utils)
command -v gdb >/dev/null || missing+=(gdb)
command -v gcc >/dev/null || missing+=(gcc)
command -v make >/dev/null || missing+=(make)
command -v objcopy >/dev/null || missing+=(binutils)
command -v addr2line >/dev/null || missing+=(binutils)
command -v node >/dev/null || missing+=(nodejs npm)
command -v g++ >/dev/null || missing+=(g++)
command -v python3 >/dev/null || missing+=(python3)
command -v rg >/dev/null || missing+=(ripgrep)
command -v chromium >/dev/null || missing+=(chromium)
[ -f /usr/include/krb5.h ] || [ -f /usr/include/krb5/krb5.h ] || missing+=(libkrb5-dev)
if ((${#missing[@]})); then
  echo "Installing: ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" != 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

npm ci --no-audit --no-fund
npm run build
make -C test/fixtures
# code-server + playwright-core for `npm run demo` / `npm run test:e2e` (returns at once when installed).
bash test/e2e/install.sh
