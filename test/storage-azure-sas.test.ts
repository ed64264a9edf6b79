/**
 * Least privilege on Azure: a container SAS with delete (+ list) permissions instead of the account
 * key (`sas_token` in a sdk.azure.storage.containers entry). Real azurite, real SAS.
 */
import { ContainerSASPermissions, StorageSharedKeyCredential, generateBlobSASQueryParameters, type ContainerClient } from '@azure/storage-blob';
import { deleteFiles, type StorageContext } from '../src/storage/index.js';
import { describeConfig, loadConfig } from '../src/config/index.js';
import { TempHome } from './config-helpers.js';
import { ACCOUNT, KEY, startAzurite, type Azurite } from './support/azurite.js';

const CONTAINER = 'clearml-sas';

let azurite: Azurite;
let url: string;
let container: ContainerClient;
let sas: string;

beforeAll(async () => {
  azurite = await startAzurite();
  url = azurite.url;
  container = azurite.service.getContainerClient(CONTAINER);
  await container.create();
  sas = generateBlobSASQueryParameters(
    { containerName: CONTAINER, permissions: ContainerSASPermissions.parse('dl'), expiresOn: new Date(Date.now() + 3_600_000) },
    new StorageSharedKeyCredential(ACCOUNT, KEY),
  ).toString();
}, 60_000);

afterAll(() => {
  azurite?.stop();
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
