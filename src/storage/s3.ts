/** S3 and S3-compatible hosts: DeleteObjects, 1,000 keys per call, credentials per bucket. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { DeleteObjectsCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { S3BucketCredentials, S3Config } from '../config/types.js';
import { errorText, type FileOutcome } from './outcome.js';
import type { S3Location } from './url.js';
import { chunks, outcomeOf, type Limit, type Target } from './target.js';

const DEFAULT_REGION = 'us-east-1';

export function bucketCredentials(config: S3Config, bucket: string, host?: string): S3BucketCredentials | undefined {
  const b = bucket.toLowerCase();
  return config.credentials.find(
    (c) => c.bucket.split('/')[0].toLowerCase() === b && (c.host?.toLowerCase() || undefined) === host,
  );
}

function tlsAgent(verify: boolean | string | undefined): HttpsAgent | undefined {
  if (verify === false) return new HttpsAgent({ rejectUnauthorized: false, keepAlive: true });
  if (typeof verify === 'string') return new HttpsAgent({ ca: readFileSync(verify), keepAlive: true });
  return undefined;
}

/** Some S3-compatible stores (older Ceph, MinIO) still insist on Content-MD5 for multi-object delete. */
function addContentMd5(client: S3Client): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const req = args.request as { headers?: Record<string, string>; body?: unknown };
      if (req.headers && typeof req.body === 'string') {
        req.headers['content-md5'] = createHash('md5').update(req.body).digest('base64');
      }
      return next(args);
    },
    { step: 'build', name: 'clearmlCleanupContentMd5' },
  );
}

export class S3Clients {
  private readonly clients = new Map<string, S3Client>();

  constructor(private readonly config: S3Config) {}

  /** One client per endpoint and bucket: credentials, region and TLS may differ per bucket. */
  get(loc: S3Location): S3Client {
    const key = `${loc.host ?? ''}/${loc.bucket}`;
    let client = this.clients.get(key);
    if (client) return client;
    const creds = bucketCredentials(this.config, loc.bucket, loc.host);
    // A bucket named only in allowRoots on a configured host speaks that host's scheme and TLS.
    const sameHost = loc.host ? this.config.credentials.find((c) => c.host?.toLowerCase() === loc.host) : undefined;
    const secure = creds?.secure ?? sameHost?.secure;
    const verify = creds?.verify ?? sameHost?.verify;
    const accessKeyId = creds?.key || this.config.key;
    const secretAccessKey = creds?.secret || this.config.secret;
    const sessionToken = creds?.token || this.config.token;
    const opts: S3ClientConfig = {
      region: creds?.region || this.config.region || DEFAULT_REGION,
      maxAttempts: 4,
    };
    // Without a key pair the SDK's own chain applies (environment, profile, instance role).
    if (accessKeyId && secretAccessKey) opts.credentials = { accessKeyId, secretAccessKey, sessionToken };
    if (loc.host) {
      opts.endpoint = `${secure === false ? 'http' : 'https'}://${loc.host}`;
      opts.forcePathStyle = true;
    } else {
      opts.followRegionRedirects = true;
    }
    const agent = tlsAgent(verify);
    if (agent) opts.requestHandler = { httpsAgent: agent };
    client = new S3Client(opts);
    if (loc.host) addContentMd5(client);
    this.clients.set(key, client);
    return client;
  }

  close(): void {
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
  }
}

async function deleteChunk(client: S3Client, bucket: string, targets: Target<S3Location>[]): Promise<FileOutcome[]> {
  const byKey = new Map<string, Target<S3Location>[]>();
  for (const t of targets) byKey.set(t.loc.key, [...(byKey.get(t.loc.key) ?? []), t]);
  let deleted: Set<string>;
  let errors: Map<string, string>;
  try {
    const res = await client.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: [...byKey.keys()].map((Key) => ({ Key })), Quiet: false },
      }),
    );
    deleted = new Set((res.Deleted ?? []).map((d) => d.Key ?? ''));
    errors = new Map((res.Errors ?? []).map((e) => [e.Key ?? '', `${e.Code ?? 'Error'}: ${e.Message ?? ''}`.trim()]));
  } catch (err) {
    const reason = errorText(err);
    return targets.map((t) => outcomeOf(t.loc, 'failed', { reason }));
  }
  return targets.map((t) => {
    const key = t.loc.key;
    // S3 reports a key that did not exist as deleted: either way it is gone.
    if (deleted.has(key)) return outcomeOf(t.loc, 'deleted');
    const error = errors.get(key);
    if (error?.startsWith('NoSuchKey')) return outcomeOf(t.loc, 'missing');
    return outcomeOf(t.loc, 'failed', { reason: error ?? 'not in the DeleteObjects answer' });
  });
}

/** All targets must share one bucket on one endpoint. */
export async function deleteS3Objects(
  clients: S3Clients,
  targets: Target<S3Location>[],
  limit: Limit,
  batchSize = 1000,
): Promise<FileOutcome[]> {
  if (targets.length === 0) return [];
  const client = clients.get(targets[0].loc);
  const parts = await Promise.all(chunks(targets, batchSize).map((c) => limit(() => deleteChunk(client, targets[0].loc.bucket, c))));
  return parts.flat();
}
