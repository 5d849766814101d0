#!/usr/bin/env bash
# Installs the end-to-end test dependencies (code-server 4.100.3 = VS Code 1.100.3, playwright-core) into
# test/e2e/node_modules. Idempotent: returns at once when the installed tree matches the lock file.
#
# Why it is more than `npm ci`:
# - npm 11 runs no dependency install script unless allowed. package.json#allowScripts covers this
#   package's own dependencies, but code-server's postinstall runs a second `npm install` inside
#   lib/vscode (VS Code's native modules: kerberos, node-pty, spdlog, ripgrep, ...), where this
#   package.json does not apply. So code-server's postinstall is run here, after .npmrc files that
#   allow those modules' scripts are put in lib/vscode and lib/vscode/extensions.
# - @vscode/ripgrep's postinstall downloads rg from GitHub, which is not reachable: it finds a
#   pre-seeded archive in the OS temp folder instead, built here from Debian's ripgrep.
# - Running as root, code-server's postinstall wants npm_config_unsafe_perm=true.
set -euo pipefail
cd "$(dirname "$0")"

stamp=node_modules/.unikernel-e2e-installed
want="$(sha256sum package-lock.json package.json install.sh | sha256sum | cut -c1-64)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x node_modules/.bin/code-server ] &&
   [ -d node_modules/code-server/lib/vscode/node_modules/@vscode/ripgrep/bin ]; then
  exit 0
fi

for tool in rg g++ make python3; do
  command -v "$tool" >/dev/null || { echo "install.sh: $tool is missing (scripts/setup.sh installs it)" >&2; exit 1; }
done

# The ripgrep archive @vscode/ripgrep 1.15.11 looks for before downloading.
tmp="$(node -p 'require("os").tmpdir()')"
rgcache="$tmp/vscode-ripgrep-cache-1.15.11"
archive="$rgcache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [ ! -s "$archive" ]; then
  mkdir -p "$rgcache"
  work="$(mktemp -d)"
  cp "$(command -v rg)" "$work/rg"
  tar -czf "$archive.part" -C "$work" rg && mv "$archive.part" "$archive"
  rm -rf "$work"
fi

export npm_config_unsafe_perm=true npm_config_yes=true npm_config_fund=false npm_config_audit=false
# Local Node headers for node-gyp (kerberos), instead of a download.
if [ -f /usr/include/node/node.h ] && [ -z "${npm_config_nodedir:-}" ]; then export npm_config_nodedir=/usr; fi

npm ci --no-audit --no-fund

vscode=node_modules/code-server/lib/vscode
allow='allow-scripts=@parcel/watcher,@vscode/deviceid,@vscode/ripgrep,@vscode/spdlog,kerberos,native-watchdog,node-pty'
printf '%s\n' "$allow" > "$vscode/.npmrc"
printf '%s\n' "$allow" > "$vscode/extensions/.npmrc"
(
  cd node_modules/code-server
  npm_config_user_agent="npm/$(npm --version) node/$(node --version) linux x64" sh ./postinstall.sh
)
test -x "$vscode/node_modules/@vscode/ripgrep/bin/rg"
echo "$want" > "$stamp"
