/**
 * Child-process entry of the benchmark's official-algorithm side: one pass of the MODEL in
 * ./official-model.ts against the server named by CLEARML_API_HOST / CLEARML_FILES_HOST /
 * CLEARML_API_ACCESS_KEY / CLEARML_API_SECRET_KEY; prints its result as one JSON line on stdout.
 * Usage: node dist/bench/official-main.js [delete_threshold_days] [max_tasks]
 */
import { ClearMLClient } from '../api/index.js';
import { runOfficialModelPass } from './official-model.js';

const env = process.env;
const thresholdDays = Number(process.argv[2] ?? 30);
const maxTasks = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
const client = new ClearMLClient({
  api: { apiServer: env.CLEARML_API_HOST ?? '', accessKey: env.CLEARML_API_ACCESS_KEY, secretKey: env.CLEARML_API_SECRET_KEY },
  // the SDK's session keeps one connection; everything here is sequential anyway
  maxSockets: 1,
  // the official script asks the server to delete files itself (delete_external_artifacts: true)
  sendServerDeletesAsGiven: true,
});
try {
  const result = await runOfficialModelPass(client, {
    deleteThresholdDays: thresholdDays,
    filesHost: env.CLEARML_FILES_HOST ?? '',
    maxTasks,
    onPage: (page, tasks) => process.stderr.write(`official model: page ${page}, deleting ${tasks} tasks\n`),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
} catch (e) {
  process.stderr.write(`official model: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
} finally {
  client.close();
}
