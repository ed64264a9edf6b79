/**
 * loadConfig: the SDK's configuration rules, resolved once into a frozen ClearMLConfig.
 * Precedence for the api section: explicit overrides > CLEARML_* (then TRAINS_*) env > the file(s) >
 * derived > default. Files: CLEARML_CONFIG_FILE alone when set, else ~/trains.conf then ~/clearml.conf.
 */
import { homedir } from 'node:os';
import { stat } from 'node:fs/promises';
import type { ApiConfig, ClearMLConfig } from './types.js';
import { ConfigError } from './errors.js';
import { readEnv, type EnvName } from './env.js';
import { expandPath, loadFiles, lookup, type FileSet } from './files.js';
import { deriveFilesServer, deriveWebServer, stripTrailingSlashes } from './hosts.js';
import { redactUrl } from './mask.js';
import { resolveStorage } from './storage.js';
import { asBoolOrPath, asText, Provenance, type Where } from './values.js';

export const DEFAULT_API_VERSION = '2.23';

/** Values given on the command line; they win over everything else. */
export interface ConfigOverrides {
  apiServer?: string;
  webServer?: string;
  filesServer?: string;
  accessKey?: string;
  secretKey?: string;
  authToken?: string;
  verifyCertificate?: boolean | string;
  apiVersion?: string;
}

export interface LoadConfigOptions {
  /** defaults to process.env */
  env?: NodeJS.ProcessEnv;
  /** where clearml.conf / trains.conf are looked for; defaults to os.homedir() */
  homeDir?: string;
  /** read this file alone (like CLEARML_CONFIG_FILE, and winning over it) */
  configFile?: string;
  overrides?: ConfigOverrides;
}

interface Picked<T> {
  value: T;
  where?: Where;
}

const VERIFY_EXPECTED = 'true, false or the path of a CA bundle file';

class ApiResolver {
  constructor(
    private readonly set: FileSet,
    private readonly env: NodeJS.ProcessEnv,
    private readonly overrides: ConfigOverrides,
    private readonly prov: Provenance,
    private readonly homeDir: string,
  ) {}

  /** override, then env, then the first conf key that has a value */
  text(typedPath: string, override: string | undefined, envName: EnvName | undefined, confKeys: string[]): Picked<string> | undefined {
    if (override?.trim()) {
      this.prov.note(typedPath, 'cli', 'command-line option');
      return { value: override.trim() };
    }
    const fromEnv = envName ? readEnv(this.env, envName) : undefined;
    if (fromEnv) {
      this.prov.note(typedPath, 'env', fromEnv.name);
      return { value: fromEnv.value, where: { label: fromEnv.name } };
    }
    for (const key of confKeys) {
      const found = lookup(this.set, key);
      const where = { label: key, file: found?.file };
      const value = asText(found?.value, where);
      if (value !== undefined) {
        this.prov.fromFile(typedPath, where);
        return { value, where };
      }
    }
    return undefined;
  }

  async verifyCertificate(): Promise<boolean | string> {
    const path = 'api.verifyCertificate';
    let raw: unknown;
    let where: Where;
    const fromEnv = readEnv(this.env, 'verifyCert');
    const found = lookup(this.set, 'api.verify_certificate');
    if (this.overrides.verifyCertificate !== undefined) {
      raw = this.overrides.verifyCertificate;
      where = { label: '--verify-certificate' };
      this.prov.note(path, 'cli', 'command-line option');
    } else if (fromEnv) {
      raw = fromEnv.value;
      where = { label: fromEnv.name };
      this.prov.note(path, 'env', fromEnv.name);
    } else if (found && found.value !== null && found.value !== '') {
      raw = found.value;
      where = { label: 'api.verify_certificate', file: found.file };
      this.prov.fromFile(path, where);
    } else {
      this.prov.note(path, 'default', 'default');
      return true;
    }
    const value = asBoolOrPath(raw, where, VERIFY_EXPECTED);
    if (typeof value !== 'string') return value ?? true;
    const caPath = expandPath(value, this.env, this.homeDir);
    const info = await stat(caPath).catch(() => undefined);
    if (!info?.isFile()) {
      const place = where.file ? `${where.label} in ${where.file}` : where.label;
      throw new ConfigError(
        `${place} is neither true/false nor an existing CA bundle file (${caPath} ${info ? 'is not a file' : 'does not exist'}). ` +
          'Set it to true, false, or the path of a PEM CA bundle.',
        { file: where.file, key: where.label },
      );
    }
    return caPath;
  }
}

function checkUrl(picked: Picked<string>, what: string): string {
  const url = stripTrailingSlashes(picked.value);
  if (!/^https?:\/\/[^/\s?#]+/i.test(url)) {
    const where = picked.where;
    const place = where ? (where.file ? `${where.label} in ${where.file}` : where.label) : `the ${what} option`;
    throw new ConfigError(
      `${place} must be an http(s) URL such as http://localhost:8008, got "${redactUrl(url)}". Fix it there.`,
      { file: where?.file, key: where?.label },
    );
  }
  return url;
}

function lookedIn(set: FileSet): string {
  const names = set.candidates.map((f) => (set.files.includes(f) ? f : `${f} (absent)`));
  return set.namedBy ? `${names.join(', ')} (named by ${set.namedBy}) and the environment` : `${names.join(', ')} and the environment`;
}

function resolveCredentials(r: ApiResolver, set: FileSet, overrides: ConfigOverrides): Pick<ApiConfig, 'accessKey' | 'secretKey' | 'authToken'> {
  const token = r.text('api.authToken', overrides.authToken, 'authToken', []);
  // as in the SDK, a token makes the key pair irrelevant
  if (token) return { authToken: token.value };
  const accessKey = r.text('api.accessKey', overrides.accessKey, 'accessKey', ['api.credentials.access_key']);
  const secretKey = r.text('api.secretKey', overrides.secretKey, 'secretKey', ['api.credentials.secret_key']);
  if (!accessKey && !secretKey) {
    throw new ConfigError(
      'ClearML is not configured: no API credentials. Set CLEARML_API_ACCESS_KEY and CLEARML_API_SECRET_KEY ' +
        '(or CLEARML_AUTH_TOKEN), or run clearml-init to write ~/clearml.conf; looked in: ' +
        lookedIn(set),
      { key: 'api.credentials' },
    );
  }
  const [have, missing, missingEnv, missingKey] = accessKey
    ? [accessKey, 'secret key', 'CLEARML_API_SECRET_KEY', 'api.credentials.secret_key']
    : [secretKey!, 'access key', 'CLEARML_API_ACCESS_KEY', 'api.credentials.access_key'];
  if (!accessKey || !secretKey) {
    const from = have.where ? (have.where.file ? `${have.where.file}` : have.where.label) : 'the command line';
    throw new ConfigError(
      `ClearML API ${missing} is missing (the other half of the key pair comes from ${from}). ` +
        `Set ${missingEnv} or ${missingKey}; looked in: ${lookedIn(set)}`,
      { file: have.where?.file, key: missingKey },
    );
  }
  return { accessKey: accessKey.value, secretKey: secretKey.value };
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export async function loadConfig(opts: LoadConfigOptions = {}): Promise<Readonly<ClearMLConfig>> {
  const env = opts.env ?? process.env;
  const overrides = opts.overrides ?? {};
  const homeDir = opts.homeDir ?? homedir();
  const set = await loadFiles(env, homeDir, opts.configFile);
  const prov = new Provenance();
  const r = new ApiResolver(set, env, overrides, prov, homeDir);

  const credentials = resolveCredentials(r, set, overrides);

  const apiPicked = r.text('api.apiServer', overrides.apiServer, 'apiHost', ['api.api_server', 'api.host']);
  if (!apiPicked) {
    throw new ConfigError(
      'ClearML API server is not set. Set CLEARML_API_HOST or api.api_server (e.g. http://localhost:8008 for a ' +
        `self-hosted server, https://api.clear.ml for the hosted service); looked in: ${lookedIn(set)}`,
      { key: 'api.api_server' },
    );
  }
  const apiServer = checkUrl(apiPicked, 'api server');

  // An agent's JSON config may name only api_server, on any port: that must not stop the service.
  // An unknown files server just means none of its URLs may be deleted (the allow-list refuses them).
  const warnings: string[] = [];
  const webPicked = r.text('api.webServer', overrides.webServer, 'webHost', ['api.web_server']);
  let webServer: string | undefined;
  if (webPicked) {
    webServer = checkUrl(webPicked, 'web server');
  } else {
    webServer = deriveWebServer(apiServer);
    if (webServer) prov.note('api.webServer', 'derived', 'derived from api.apiServer');
  }

  const filesPicked = r.text('api.filesServer', overrides.filesServer, 'filesHost', ['api.files_server']);
  let filesServer: string | undefined;
  if (filesPicked) {
    filesServer = checkUrl(filesPicked, 'files server');
  } else if (webServer) {
    filesServer = deriveFilesServer(apiServer, webServer);
    prov.note('api.filesServer', 'derived', 'derived from api.webServer');
  } else {
    warnings.push(
      `the ClearML files server is unknown (the API server ${redactUrl(apiServer)} is neither on port 8008 nor named api.*): ` +
        'files on it will not be deleted (refused, and reported); set CLEARML_FILES_HOST or api.files_server',
    );
  }

  const verifyCertificate = await r.verifyCertificate();

  let apiVersion = DEFAULT_API_VERSION;
  if (overrides.apiVersion?.trim()) {
    apiVersion = overrides.apiVersion.trim();
    prov.note('api.apiVersion', 'cli', 'command-line option');
  } else {
    prov.note('api.apiVersion', 'default', 'default');
  }

  const storage = resolveStorage(set, env, prov);

  const agentValue = (typedPath: string, name: EnvName): string | undefined => {
    const found = readEnv(env, name);
    if (found) prov.note(typedPath, 'env', found.name);
    return found?.value;
  };
  const config: ClearMLConfig = {
    api: { apiServer, ...(webServer ? { webServer } : {}), ...(filesServer ? { filesServer } : {}), ...credentials, verifyCertificate, apiVersion },
    storage,
    files: [...set.files],
    ...(warnings.length ? { warnings } : {}),
    sources: prov.sources,
    origins: prov.origins,
  };
  const taskId = agentValue('taskId', 'taskId');
  const workerId = agentValue('workerId', 'workerId');
  const logLevel = agentValue('logLevel', 'logLevel');
  if (taskId) config.taskId = taskId;
  if (workerId) config.workerId = workerId;
  if (logLevel) config.logLevel = logLevel;
  return deepFreeze(config);
}
