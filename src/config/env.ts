/**
 * Environment variables the SDK reads, in its order: the CLEARML_ name first, then the legacy TRAINS_ one.
 * Like the SDK, a variable that is empty or only blanks counts as unset, and values are trimmed.
 */

export const ENV = {
  apiHost: ['CLEARML_API_HOST', 'TRAINS_API_HOST'],
  webHost: ['CLEARML_WEB_HOST', 'TRAINS_WEB_HOST'],
  filesHost: ['CLEARML_FILES_HOST', 'TRAINS_FILES_HOST'],
  accessKey: ['CLEARML_API_ACCESS_KEY', 'TRAINS_API_ACCESS_KEY'],
  secretKey: ['CLEARML_API_SECRET_KEY', 'TRAINS_API_SECRET_KEY'],
  authToken: ['CLEARML_AUTH_TOKEN'],
  verifyCert: ['CLEARML_API_HOST_VERIFY_CERT', 'TRAINS_API_HOST_VERIFY_CERT'],
  configFile: ['CLEARML_CONFIG_FILE', 'TRAINS_CONFIG_FILE'],
  taskId: ['CLEARML_TASK_ID', 'TRAINS_TASK_ID'],
  // the agent exports CLEARML_WORKER_ID; the SDK's own name for a worker is CLEARML_WORKER_NAME
  workerId: ['CLEARML_WORKER_ID', 'TRAINS_WORKER_ID', 'CLEARML_WORKER_NAME', 'TRAINS_WORKER_NAME'],
  logLevel: ['CLEARML_LOG_LEVEL', 'TRAINS_LOG_LEVEL'],
  // storage fallbacks the SDK uses when clearml.conf leaves the value empty
  awsKey: ['AWS_ACCESS_KEY_ID'],
  awsSecret: ['AWS_SECRET_ACCESS_KEY'],
  awsToken: ['AWS_SESSION_TOKEN'],
  awsRegion: ['AWS_DEFAULT_REGION'],
  gcsCredentials: ['GOOGLE_APPLICATION_CREDENTIALS'],
  azureAccount: ['AZURE_STORAGE_ACCOUNT'],
  azureKey: ['AZURE_STORAGE_KEY'],
} as const satisfies Record<string, readonly string[]>;

export type EnvName = keyof typeof ENV;

export interface EnvValue {
  value: string;
  /** the variable that held it */
  name: string;
}

export function readEnv(env: NodeJS.ProcessEnv, which: EnvName): EnvValue | undefined {
  for (const name of ENV[which]) {
    const value = env[name]?.trim();
    if (value) return { value, name };
  }
  return undefined;
}
