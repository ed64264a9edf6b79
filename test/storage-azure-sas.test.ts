/**
 * Least privilege on Azure: a container SAS with delete (+ list) permissions instead of the account
 * key (`sas_token` in a sdk.azure.storage.containers entry). Real azurite, real SAS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  BlobServiceClient, ContainerSASPermissions, StorageSharedKeyCredential, generateBlobSASQueryParameters, type ContainerClient,
} from '@azure/storage-blob';
import { deleteFiles, type StorageContext } from '../src/storage/index.js';
import { describeConfig, loadConfig } from '../src/config/index.js';
import { TempHome } from './config-helpers.js';

// Azurite's well-known development account (public, documented by Microsoft).
const ACCOUNT = 'devstoreaccount1';
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const CONTAINER = 'clearml-sas';

let azurite: ChildProcess;
let url: string;
let container: ContainerClient;
let sas: string;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

beforeAll(async () => {
  const port = await freePort();
  azurite = spawn(
    process.execPath,
    ['node_modules/azurite/dist/src/blob/main.js', '--blobHost', '127.0.0.1', '--blobPort', String(port), '--inMemoryPersistence', '--disableTelemetry', '--silent', '--skipApiVersionCheck', '--loose'],
    { stdio: 'ignore' },
  );
  url = `http://127.0.0.1:${port}/${ACCOUNT}`;
  const service = new BlobServiceClient(url, new StorageSharedKeyCredential(ACCOUNT, KEY));
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await service.getProperties();
      break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`azurite did not start: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  container = service.getContainerClient(CONTAINER);
  await container.create();
  sas = generateBlobSASQueryParameters(
    { containerName: CONTAINER, permissions: ContainerSASPermissions.parse('dl'), expiresOn: new Date(Date.now() + 3_600_000) },
    new StorageSharedKeyCredential(ACCOUNT, KEY),
  ).toString();
}, 60_000);

afterAll(() => {
  if (azurite?.pid) process.kill(azurite.pid, 'SIGTERM');
});

test('a delete+list SAS for the container deletes its blobs; no account key needed', async () => {
  for (const n of ['proj/t.1/artifacts/a/x.bin', 'proj/t.1/metrics/m/v/img.png', 'proj/keep.bin']) await container.getBlockBlobClient(n).upload('data', 4);
  const ctx: StorageContext = {
    storage: { s3: { credentials: [] }, gcs: { credentials: [] }, azure: { containers: [{ accountName: ACCOUNT, containerName: CONTAINER, sasToken: `?${sas}`, url }] } },
  };
  const targets = ['proj/t.1/artifacts/a/x.bin', 'proj/t.1/metrics/m/v/img.png'].map((b) => `azure://${ACCOUNT}.blob.core.windows.net/${CONTAINER}/${b}`);
  const out = await deleteFiles(targets, ctx);
  expect(out.map((o) => o.status)).toEqual(['deleted', 'deleted']);
  const left: string[] = [];
  for await (const b of container.listBlobsFlat()) left.push(b.name);
  expect(left).toEqual(['proj/keep.bin']);
});

test('sas_token is read from clearml.conf and masked like any secret', async () => {
  const home = new TempHome();
  try {
    home.write(
      'clearml.conf',
      `api { api_server: "http://h:8008", credentials { access_key: a, secret_key: b } }\n` +
        `sdk.azure.storage.containers: [ { account_name: acct, container_name: models, sas_token: "${sas}" } ]\n`,
    );
    const cfg = await loadConfig({ env: {}, homeDir: home.dir });
    expect(cfg.storage.azure.containers[0].sasToken).toBe(sas);
    const text = describeConfig(cfg);
    expect(text).toMatch(/storage\.azure\.containers\.0\.sasToken\s+\*\*\*\*/);
    expect(text).not.toContain(sas);
  } finally {
    home.remove();
  }
});
