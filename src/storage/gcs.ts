/**
 * Google Cloud Storage: the JSON API has no multi-object delete the Node SDK exposes, so each
 * object is one DELETE, run concurrently under the shared limit.
 */
import { Storage, type StorageOptions } from '@google-cloud/storage';
import type { GcsConfig } from '../config/types.js';
import { errorText, type FileOutcome } from './outcome.js';
import type { GsLocation } from './url.js';
import { outcomeOf, type Limit, type Target } from './target.js';

/** credentials_json in clearml.conf is a file path; an inline JSON document is accepted too. */
function credentialOptions(json: string | undefined): Partial<StorageOptions> {
  if (!json) return {};
  const text = json.trim();
  if (text.startsWith('{')) return { credentials: JSON.parse(text) as StorageOptions['credentials'] };
  return { keyFilename: text };
}

export class GcsClients {
  private readonly clients = new Map<string, Storage>();

  constructor(private readonly config: GcsConfig) {}

  get(bucket: string): Storage {
    const perBucket = this.config.credentials.find((c) => c.bucket.split('/')[0] === bucket);
    const key = perBucket ? `bucket:${bucket}` : 'default';
    let client = this.clients.get(key);
    if (client) return client;
    const opts: StorageOptions = {
      projectId: perBucket?.project || this.config.project,
      ...credentialOptions(perBucket?.credentialsJson || this.config.credentialsJson),
      retryOptions: { autoRetry: true, maxRetries: 3 },
    };
    if (this.config.apiEndpoint) opts.apiEndpoint = this.config.apiEndpoint;
    client = new Storage(opts);
    this.clients.set(key, client);
    return client;
  }
}

async function deleteOne(storage: Storage, t: Target<GsLocation>): Promise<FileOutcome> {
  try {
    await storage.bucket(t.loc.bucket).file(t.loc.key).delete();
    return outcomeOf(t.loc, 'deleted');
  } catch (err) {
    if ((err as { code?: unknown }).code === 404) return outcomeOf(t.loc, 'missing');
    return outcomeOf(t.loc, 'failed', { reason: errorText(err) });
  }
}

export async function deleteGcsObjects(clients: GcsClients, targets: Target<GsLocation>[], limit: Limit): Promise<FileOutcome[]> {
  return Promise.all(targets.map((t) => limit(() => deleteOne(clients.get(t.loc.bucket), t))));
}
