/**
 * templates/ stays in step with the code: the task template is what registration writes (with
 * placeholders for the clone), the entry script is valid bash with the properties the agent needs.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CONTAINER_IMAGE, DEFAULT_PARAMS, ENTRY_POINT, PROJECT_NAME, REGISTERED_BY, TASK_NAME, TASK_TYPE, taskFields } from '../src/task/index.js';

const root = process.cwd();
const TEMPLATE = path.join(root, 'templates', 'cleanup-service.task.json');

function expectedTemplate() {
  const fields = taskFields(
    { repository: 'https://github.com/YOUR_ORG/clearml-cleanup.git', branch: 'main', commit: '', workingDir: '.' },
    DEFAULT_PARAMS,
  );
  return {
    name: TASK_NAME,
    type: TASK_TYPE,
    project: `<id of the project "${PROJECT_NAME}">`,
    comment: `${REGISTERED_BY} (template: set script.repository to your clone, then create it with tasks.create)`,
    ...fields,
  };
}

test('templates/cleanup-service.task.json is the body registration sends (placeholders for the clone)', () => {
  const want = expectedTemplate();
  // UPDATE_TEMPLATES=1 rewrites the file after an intended change
  if (process.env.UPDATE_TEMPLATES === '1') writeFileSync(TEMPLATE, `${JSON.stringify(want, null, 2)}\n`);
  const have = JSON.parse(readFileSync(TEMPLATE, 'utf8'));
  expect(have).toEqual(want);
  expect(have.script.entry_point).toBe(ENTRY_POINT);
  expect(have.container.image).toBe(CONTAINER_IMAGE);
  // a maintained LTS line by default (Node 20 reached its end of life on 2026-04-30)
  expect(CONTAINER_IMAGE).toBe('node:24');
  expect(have.hyperparams.General.delete_threshold_days).toMatchObject({ value: '30.0', type: 'float' });
});

test('the entry script: bash syntax, strict mode, node >= 20 check, build when no dist/, exec node', () => {
  const script = path.join(root, ENTRY_POINT);
  execFileSync('bash', ['-n', script]);
  const text = readFileSync(script, 'utf8');
  expect(text).toMatch(/^set -euo pipefail$/m);
  expect(text).toMatch(/-lt 20/);
  // a line past its end of life runs, with a warning naming the date
  expect(text).toMatch(/^ {2}20\) node_eol=2026-04-30 ;;$/m);
  expect(text).toMatch(/npm ci/);
  expect(text).toMatch(/^exec node dist\/cli\.js run "\$@"$/m);
  // the re-exec under bash comes before any bash-only syntax (the agent runs it with $SHELL)
  expect(text.indexOf('BASH_VERSION')).toBeLessThan(text.indexOf('set -euo pipefail'));
});

test('the docker-compose snippet runs a services agent in a Node 24 LTS image, skipping the Python venv', () => {
  const text = readFileSync(path.join(root, 'templates', 'docker-compose.services-agent.yml'), 'utf8');
  expect(text).not.toMatch(/\t/);
  expect(text).toMatch(/^ {4}image: node:24-bookworm$/m);
  expect(text).toMatch(/clearml-agent daemon --queue services --services-mode/);
  expect(text).toMatch(/^ {6}CLEARML_AGENT_SKIP_PYTHON_ENV_INSTALL: "1"$/m);
  // no secret in the file: keys come from the environment
  expect(text).toMatch(/CLEARML_API_SECRET_KEY: \$\{CLEARML_AGENT_SECRET_KEY/);
});
