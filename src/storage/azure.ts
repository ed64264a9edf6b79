/**
 * Azure Blob: batch delete (256 sub-requests per batch), falling back to one DELETE per blob when
 * the endpoint has no batch support (older emulators, SAS-only access).
 */
import {
  AnonymousCredential,
  BlobServiceClient,
  StorageSharedKeyCredential,
  type BlobClient,
  type ContainerClient,
} from '@azure/storage-blob';
import type { AzureContainer } from '../config/types.js';
import { errorText, type FileOutcome } from './outcome.js';
import type { AzureLocation } from './url.js';
import { chunks, outcomeOf, type Limit, type Target } from './target.js';

export function containerConfig(containers: AzureContainer[], account: string, container: string): AzureContainer | undefined {
  const sameAccount = containers.filter((c) => c.accountName.toLowerCase() === account);
  return sameAccount.find((c) => c.containerName === container) ?? sameAccount.find((c) => !c.containerName);
}

export class AzureClients {
  private readonly clients = new Map<string, ContainerClient>();

  constructor(private readonly containers: AzureContainer[]) {}

  get(loc: AzureLocation): ContainerClient {
    const key = `${loc.account}/${loc.container}`;
    let client = this.clients.get(key);
    if (client) return client;
    const cfg = containerConfig(this.containers, loc.account, loc.container);
    if (!cfg?.accountKey && !cfg?.sasToken && !cfg?.url) throw new Error(`no credentials configured for azure account ${loc.account}`);
    const credential = cfg.accountKey ? new StorageSharedKeyCredential(cfg.accountName, cfg.accountKey) : new AnonymousCredential();
    let serviceUrl = (cfg.url ?? `https://${cfg.accountName}.blob.core.windows.net`).replace(/\/+$/, '');
    // a SAS rides in the URL's query; the SDK keeps it on every request it derives from this client
    if (!cfg.accountKey && cfg.sasToken) serviceUrl += `?${cfg.sasToken.replace(/^\?/, '')}`;
    const service = new BlobServiceClient(serviceUrl, credential, { retryOptions: { maxTries: 4 } });
    client = service.getContainerClient(loc.container);
    this.clients.set(key, client);
    return client;
  }
}

function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown }).statusCode;
  return typeof s === 'number' ? s : undefined;
}

async function deleteSingle(client: ContainerClient, t: Target<AzureLocation>): Promise<FileOutcome> {
  try {
    await client.getBlobClient(t.loc.blob).delete({ deleteSnapshots: 'include' });
    return outcomeOf(t.loc, 'deleted');
  } catch (err) {
    if (statusOf(err) === 404) return outcomeOf(t.loc, 'missing');
    return outcomeOf(t.loc, 'failed', { reason: errorText(err) });
  }
}

/** undefined: the batch endpoint itself is unusable here, use single deletes. */
async function deleteBatch(client: ContainerClient, targets: Target<AzureLocation>[]): Promise<FileOutcome[] | undefined> {
  const blobs: BlobClient[] = targets.map((t) => client.getBlobClient(t.loc.blob));
  let res;
  try {
    res = await client.getBlobBatchClient().deleteBlobs(blobs, { deleteSnapshots: 'include' });
  } catch {
    return undefined;
  }
  const byUrl = new Map(res.subResponses.map((r) => [r._request.url, r]));
  return targets.map((t, i) => {
    const sub = byUrl.get(blobs[i].url) ?? res.subResponses[i];
    if (!sub) return outcomeOf(t.loc, 'failed', { reason: 'not in the batch answer' });
    if (sub.status >= 200 && sub.status < 300) return outcomeOf(t.loc, 'deleted');
    if (sub.status === 404) return outcomeOf(t.loc, 'missing');
    return outcomeOf(t.loc, 'failed', { reason: `${sub.status} ${sub.errorCode ?? sub.statusMessage}` });
  });
}

/** All targets must share one account and container. */
export async function deleteAzureBlobs(
  clients: AzureClients,
  targets: Target<AzureLocation>[],
  limit: Limit,
  batchSize = 256,
): Promise<FileOutcome[]> {
  if (targets.length === 0) return [];
  let client: ContainerClient;
  try {
    client = clients.get(targets[0].loc);
  } catch (err) {
    const reason = errorText(err);
    return targets.map((t) => outcomeOf(t.loc, 'failed', { reason }));
  }
  let batchWorks = true;
  const parts = await Promise.all(
    chunks(targets, batchSize).map(async (chunk) => {
      const batched = batchWorks ? await limit(() => deleteBatch(client, chunk)) : undefined;
      if (batched) return batched;
      batchWorks = false;
      return Promise.all(chunk.map((t) => limit(() => deleteSingle(client, t))));
    }),
  );
  return parts.flat();
}
