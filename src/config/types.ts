/** The one typed, frozen configuration every other module receives. */

/** Where a resolved value came from, for `clearml-cleanup config`. */
export type ValueSource = 'env' | 'file' | 'derived' | 'default' | 'cli';

export interface S3BucketCredentials {
  bucket: string;
  /** S3-compatible endpoint host[:port] (MinIO, s3rver...), absent for AWS */
  host?: string;
  key?: string;
  secret?: string;
  token?: string;
  region?: string;
  /** https when true (default), http when false */
  secure?: boolean;
  verify?: boolean | string;
  /** path prefix inside the bucket this entry is limited to (clearml.conf `subdir`) */
  subdir?: string;
}

export interface S3Config {
  key?: string;
  secret?: string;
  token?: string;
  region?: string;
  useCredentialsChain?: boolean;
  /** defaults for entries that do not set their own (clearml.conf sdk.aws.s3.secure / verify) */
  secure?: boolean;
  verify?: boolean | string;
  credentials: S3BucketCredentials[];
}

export interface GcsBucketCredentials {
  bucket: string;
  subdir?: string;
  project?: string;
  credentialsJson?: string;
}

export interface GcsConfig {
  project?: string;
  credentialsJson?: string;
  /** test/emulator endpoint (not in clearml.conf); the SDK's apiEndpoint */
  apiEndpoint?: string;
  credentials: GcsBucketCredentials[];
}

export interface AzureContainer {
  accountName: string;
  accountKey?: string;
  /**
   * a SAS token (the query string, with or without `?`) used when there is no account key: our
   * extension of clearml.conf (`sas_token` in a containers entry), for least-privilege access
   */
  sasToken?: string;
  containerName?: string;
  /** emulator or custom endpoint, e.g. http://127.0.0.1:10000/devstoreaccount1 */
  url?: string;
}

export interface StorageConfig {
  s3: S3Config;
  gcs: GcsConfig;
  azure: { containers: AzureContainer[] };
}

export interface ApiConfig {
  /** e.g. http://localhost:8008 (no trailing slash) */
  apiServer: string;
  /** undefined when neither set nor derivable from apiServer (see ClearMLConfig.warnings) */
  webServer?: string;
  /**
   * undefined when neither set nor derivable: then no file-server URL is allowed for deletion
   * (the allow-list refuses them, and reports them)
   */
  filesServer?: string;
  accessKey?: string;
  secretKey?: string;
  /** a bearer token instead of keys (CLEARML_AUTH_TOKEN) */
  authToken?: string;
  /** false, true, or a CA bundle path */
  verifyCertificate: boolean | string;
  /** API version sent in URLs, default "2.23" */
  apiVersion: string;
}

export interface ClearMLConfig {
  api: ApiConfig;
  storage: StorageConfig;
  /** CLEARML_TASK_ID: set when clearml-agent runs us */
  taskId?: string;
  workerId?: string;
  logLevel?: string;
  /** files that were read, in order */
  files: string[];
  /** things the user should know but that do not stop us (e.g. an unknown files server); one line each */
  warnings?: string[];
  /**
   * dotted path of a field of this object (e.g. `api.apiServer`, `storage.s3.credentials.0.secret`)
   * -> where its value came from
   */
  sources: Record<string, ValueSource>;
  /**
   * same keys as `sources`, in words: the env var name (`CLEARML_API_HOST`), `<file>: <conf key>`,
   * `derived from api.apiServer`, `default`, or `--option`. Filled by loadConfig.
   */
  origins?: Record<string, string>;
}
