/** Where and how the cleanup service lives on a ClearML server, and how an agent starts it. */

export const PROJECT_NAME = 'DevOps Services';
export const TASK_NAME = 'Cleanup Service';
export const TASK_TYPE = 'service';
export const DEFAULT_QUEUE = 'services';
export const HYPERPARAM_SECTION = 'General';

/** Recognises a Draft we registered ourselves (a UI clone has a parent and usually another comment). */
export const REGISTERED_BY = 'Registered by clearml-cleanup';

/** The agent runs `$SHELL <entry_point>` in `<clone>/<working_dir>`: keep it a plain relative path. */
export const ENTRY_POINT = 'scripts/clearml-task.sh';
export const BINARY = 'bash';

/**
 * The Node.js LTS image (Debian: bash, apt, git, Node and npm, so the agent can bootstrap itself in
 * it). Node 20 reached its end of life on 2026-04-30; 24 is the maintained LTS line.
 */
export const CONTAINER_IMAGE = 'node:24';
/** The oldest Node.js major the service runs on (the entry script checks it too). */
export const MIN_NODE_MAJOR = 20;
/**
 * A bash task with a repository never skips the Python venv by itself (agent 3.0.3). Agents older
 * than 1.9.3 pip-install themselves into the image's system Python, which Debian refuses without
 * PIP_BREAK_SYSTEM_PACKAGES (bookworm and later, so every node:24 variant).
 */
export const CONTAINER_ARGUMENTS = '-e CLEARML_AGENT_SKIP_PYTHON_ENV_INSTALL=1 -e PIP_BREAK_SYSTEM_PACKAGES=1';
/**
 * Runs in the container's shell before the agent starts the task (the agent drops `#` lines and
 * joins the rest with " ; ", so every line must stand alone).
 */
export const SETUP_SHELL_SCRIPT = [
  '# clearml-cleanup: a node image already has node, npm and git; the task needs no Python environment',
  'export CLEARML_AGENT_SKIP_PYTHON_ENV_INSTALL=1',
  'node --version || echo "clearml-cleanup: node is missing from this image; use node:24 (LTS) or node 20 and newer"',
].join('\n');

/**
 * The `runtime` abort-callback protocol: on a UI Abort the agent waits up to timeout + poll seconds
 * for `_abort_callback_completed` before killing us, instead of killing at once.
 */
export const ABORT_CALLBACK_TIMEOUT_SEC = 600;
export const ABORT_POLL_FREQ_SEC = 10;
export const RUNTIME_ABORT_TIMEOUT = '_abort_callback_timeout';
export const RUNTIME_ABORT_POLL = '_abort_poll_freq';
export const RUNTIME_ABORT_DONE = '_abort_callback_completed';

/** tasks.ping at most this often: the server stops in_progress tasks silent for 2 h. */
export const PING_INTERVAL_MS = 60_000;

/** The agent turns exit 254 into "stopped" (Aborted), any other non-zero into "failed". */
export const EXIT_STOPPED = 254;
