/**
 * Object-storage credentials from sdk.aws.s3, sdk.google.storage and sdk.azure.storage, with the
 * environment fallbacks the SDK applies when the file leaves a value empty (AWS_*, GOOGLE_APPLICATION_
 * CREDENTIALS, AZURE_STORAGE_*). Unlike the api section, here the file wins over the environment.
 */
import type { AzureContainer, GcsBucketCredentials, GcsConfig, S3BucketCredentials, S3Config, StorageConfig } from './types.js';
import { readEnv, type EnvName } from './env.js';
import { lookup, type FileSet } from './files.js';
import { ConfigError } from './errors.js';
import { asBool, asBoolOrPath, asList, asObject, asText, Provenance, type Where } from './values.js';

const VERIFY_EXPECTED = 'true, false or the path of a CA bundle';

/** bucket names may be written quoted inside quotes or with a trailing slash; the SDK strips both */
function cleanBucket(name: string | undefined): string | undefined {
  const cleaned = name?.replace(/^["']+|["']+$/g, '').replace(/\/+$/, '');
  return cleaned || undefined;
}

class Section {
  constructor(
    private readonly set: FileSet,
    private readonly env: NodeJS.ProcessEnv,
    private readonly prov: Provenance,
  ) {}

  where(confKey: string): Where {
    return { label: confKey, file: lookup(this.set, confKey)?.file };
  }

  raw(confKey: string): unknown {
    return lookup(this.set, confKey)?.value;
  }

  /** a text value from the file, else from the environment */
  text(confKey: string, typedPath: string, fallback?: EnvName): string | undefined {
    const where = this.where(confKey);
    const fromFile = asText(this.raw(confKey), where);
    if (fromFile !== undefined) {
      this.prov.fromFile(typedPath, where);
      return fromFile;
    }
    const fromEnv = fallback ? readEnv(this.env, fallback) : undefined;
    if (fromEnv) this.prov.note(typedPath, 'env', fromEnv.name);
    return fromEnv?.value;
  }

  bool(confKey: string, typedPath: string): boolean | undefined {
    const where = this.where(confKey);
    const value = asBool(this.raw(confKey), where);
    if (value !== undefined) this.prov.fromFile(typedPath, where);
    return value;
  }

  boolOrPath(confKey: string, typedPath: string): boolean | string | undefined {
    const where = this.where(confKey);
    const value = asBoolOrPath(this.raw(confKey), where, VERIFY_EXPECTED);
    if (value !== undefined) this.prov.fromFile(typedPath, where);
    return value;
  }

  list(confKey: string): { items: unknown[]; file?: string } {
    const where = this.where(confKey);
    return { items: asList(this.raw(confKey), where), file: where.file };
  }

  /** one entry of a credentials list, with typed readers that record provenance */
  entry(item: unknown, confKey: string, typedPrefix: string, file: string | undefined) {
    const obj = asObject(item, { label: confKey, file }) ?? {};
    const at = (field: string): Where => ({ label: `${confKey}.${field}`, file });
    const prov = this.prov;
    return {
      text(field: string, typedField: string): string | undefined {
        const value = asText(obj[field], at(field));
        if (value !== undefined) prov.fromFile(`${typedPrefix}.${typedField}`, at(field));
        return value;
      },
      bool(field: string, typedField: string): boolean | undefined {
        const value = asBool(obj[field], at(field));
        if (value !== undefined) prov.fromFile(`${typedPrefix}.${typedField}`, at(field));
        return value;
      },
      boolOrPath(field: string, typedField: string): boolean | string | undefined {
        const value = asBoolOrPath(obj[field], at(field), VERIFY_EXPECTED);
        if (value !== undefined) prov.fromFile(`${typedPrefix}.${typedField}`, at(field));
        return value;
      },
      missing(what: string): ConfigError {
        return new ConfigError(`${confKey} in ${file ?? 'the configuration'} has no ${what}. Add it or remove the entry.`, {
          file,
          key: confKey,
        });
      },
    };
  }
}

function dropUndefined<T extends object>(obj: T): T {
  for (const k of Object.keys(obj) as (keyof T)[]) if (obj[k] === undefined) delete obj[k];
  return obj;
}

function s3(sec: Section): S3Config {
  asObject(sec.raw('sdk.aws.s3'), sec.where('sdk.aws.s3'));
  const base = 'sdk.aws.s3';
  const list = sec.list(`${base}.credentials`);
  const credentials = list.items.map((item, i): S3BucketCredentials => {
    const e = sec.entry(item, `${base}.credentials[${i}]`, `storage.s3.credentials.${i}`, list.file);
    const bucket = cleanBucket(e.text('bucket', 'bucket'));
    const host = e.text('host', 'host');
    if (!bucket && !host) throw e.missing('bucket and no host');
    return dropUndefined({
      bucket: bucket ?? '',
      host,
      key: e.text('key', 'key'),
      secret: e.text('secret', 'secret'),
      token: e.text('token', 'token'),
      region: e.text('region', 'region'),
      secure: e.bool('secure', 'secure'),
      verify: e.boolOrPath('verify', 'verify'),
      subdir: cleanBucket(e.text('subdir', 'subdir')),
    });
  });
  return dropUndefined({
    key: sec.text(`${base}.key`, 'storage.s3.key', 'awsKey'),
    secret: sec.text(`${base}.secret`, 'storage.s3.secret', 'awsSecret'),
    token: sec.text(`${base}.token`, 'storage.s3.token', 'awsToken'),
    region: sec.text(`${base}.region`, 'storage.s3.region', 'awsRegion'),
    useCredentialsChain: sec.bool(`${base}.use_credentials_chain`, 'storage.s3.useCredentialsChain'),
    secure: sec.bool(`${base}.secure`, 'storage.s3.secure'),
    verify: sec.boolOrPath(`${base}.verify`, 'storage.s3.verify'),
    credentials,
  });
}

function gcs(sec: Section): GcsConfig {
  const base = 'sdk.google.storage';
  asObject(sec.raw(base), sec.where(base));
  const list = sec.list(`${base}.credentials`);
  const credentials = list.items.map((item, i): GcsBucketCredentials => {
    const e = sec.entry(item, `${base}.credentials[${i}]`, `storage.gcs.credentials.${i}`, list.file);
    const bucket = cleanBucket(e.text('bucket', 'bucket'));
    if (!bucket) throw e.missing('bucket');
    return dropUndefined({
      bucket,
      subdir: cleanBucket(e.text('subdir', 'subdir')),
      project: e.text('project', 'project'),
      credentialsJson: e.text('credentials_json', 'credentialsJson'),
    });
  });
  return dropUndefined({
    project: sec.text(`${base}.project`, 'storage.gcs.project'),
    credentialsJson: sec.text(`${base}.credentials_json`, 'storage.gcs.credentialsJson', 'gcsCredentials'),
    credentials,
  });
}

function azure(sec: Section, env: NodeJS.ProcessEnv, prov: Provenance): { containers: AzureContainer[] } {
  const base = 'sdk.azure.storage';
  asObject(sec.raw(base), sec.where(base));
  const list = sec.list(`${base}.containers`);
  const containers = list.items.map((item, i): AzureContainer => {
    const e = sec.entry(item, `${base}.containers[${i}]`, `storage.azure.containers.${i}`, list.file);
    const accountName = e.text('account_name', 'accountName');
    if (!accountName) throw e.missing('account_name');
    return dropUndefined({
      accountName,
      accountKey: e.text('account_key', 'accountKey'),
      sasToken: e.text('sas_token', 'sasToken'),
      containerName: e.text('container_name', 'containerName'),
    });
  });
  // the SDK adds the AZURE_STORAGE_ACCOUNT/KEY pair as one more account, for any container
  const account = readEnv(env, 'azureAccount');
  const key = readEnv(env, 'azureKey');
  if (account && key) {
    const i = containers.length;
    containers.push({ accountName: account.value, accountKey: key.value });
    prov.note(`storage.azure.containers.${i}.accountName`, 'env', account.name);
    prov.note(`storage.azure.containers.${i}.accountKey`, 'env', key.name);
  }
  return { containers };
}

export function resolveStorage(set: FileSet, env: NodeJS.ProcessEnv, prov: Provenance): StorageConfig {
  const sec = new Section(set, env, prov);
  return { s3: s3(sec), gcs: gcs(sec), azure: azure(sec, env, prov) };
}
