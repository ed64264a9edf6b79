#!/usr/bin/env bash
# Entry point of the "Cleanup Service" ClearML task. clearml-agent clones this repository, then
# runs `$SHELL scripts/clearml-task.sh` in the clone (its $SHELL, not this shebang), with
# CLEARML_TASK_ID and CLEARML_CONFIG_FILE set. Builds the code when the clone has no dist/, then
# replaces itself with Node so that signals reach the service directly.
# Exit codes (the agent turns them into the task status): 0 completed, 254 stopped (Abort),
# anything else failed (2: bad hyperparameters or configuration, 3: Node.js missing or too old).
# A Node.js line past its end of life still runs, with a warning.

# $SHELL may be sh or zsh: re-run under bash before using bash syntax.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi

set -euo pipefail

say() { printf 'clearml-task.sh: %s\n' "$*"; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$root"

if ! command -v node >/dev/null 2>&1; then
  say "Node.js is not installed (PATH=$PATH): use a Node LTS image such as node:24 for this task, or install Node 24 (20 or newer) on the agent machine" >&2
  exit 3
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  say "Node.js $(node --version) is too old: version 20 or newer is required (24 LTS recommended)" >&2
  exit 3
fi

# End of life of each Node.js line (nodejs.org release schedule): past it, no more security fixes.
# Odd lines never become LTS and end after about 8 months. Lines after 26 are not known here yet.
case "$node_major" in
  20) node_eol=2026-04-30 ;;
  21) node_eol=2024-06-01 ;;
  22) node_eol=2027-04-30 ;;
  23) node_eol=2025-06-01 ;;
  24) node_eol=2028-04-30 ;;
  25) node_eol=2026-06-01 ;;
  26) node_eol=2029-04-30 ;;
  *) node_eol="" ;;
esac
if [ -n "$node_eol" ] && [[ "$(date -u +%F)" > "$node_eol" ]]; then
  say "warning: Node.js $(node --version) reached its end of life on $node_eol and gets no security fixes: run this task on a maintained LTS line (image node:24)" >&2
fi

if [ ! -f dist/cli.js ]; then
  if ! command -v npm >/dev/null 2>&1; then
    say "npm is not installed: it is needed to build this clone (no dist/)" >&2
    exit 3
  fi
  say "no dist/ in this clone: installing dependencies (npm ci) and building (Node $(node --version))"
  # dev dependencies hold the TypeScript compiler, even where NODE_ENV=production
  npm ci --include=dev --no-audit --no-fund --loglevel=error
  npm run build --silent
fi

say "starting the cleanup service (task ${CLEARML_TASK_ID:-none})"
exec node dist/cli.js run "$@"
