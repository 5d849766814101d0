#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine: QEMU, gdb and a C toolchain from apt (only what is missing),
# the npm dependencies, the extension build and the fixture unikernels.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
command -v gdb >/dev/null || missing+=(gdb)
command -v gcc >/dev/null || missing+=(gcc)
command -v make >/dev/null || missing+=(make)
command -v objcopy >/dev/null || missing+=(binutils)
command -v addr2line >/dev/null || missing+=(binutils)
command -v node >/dev/null || missing+=(nodejs npm)
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
