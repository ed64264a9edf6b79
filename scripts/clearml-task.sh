#!/usr/bin/env bash
# Entry point of the "Cleanup Service" ClearML task. clearml-agent clones this repository, then
# runs `$SHELL scripts/clearml-task.sh` in the clone (its $SHELL, not this shebang), with
# CLEARML_TASK_ID and CLEARML_CONFIG_FILE set. Builds the code when the clone has no dist/, then
# replaces itself with Node so that signals reach the service directly.
# Exit codes (the agent turns them into the task status): 0 completed, 254 stopped (Abort),
# anything else failed (2: bad hyperparameters or configuration, 3: Node.js missing or too old).

# $SHELL may be sh or zsh: re-run under bash before using bash syntax.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi

set -euo pipefail

say() { printf 'clearml-task.sh: %s\n' "$*"; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$root"

if ! command -v node >/dev/null 2>&1; then
  say "Node.js is not installed (PATH=$PATH): use a Node 20 image such as node:20 for this task, or install Node 20 on the agent machine" >&2
  exit 3
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  say "Node.js $(node --version) is too old: version 20 or newer is required" >&2
  exit 3
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
