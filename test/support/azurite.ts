/** A real azurite blob service for the Azure tests, on a free port, in memory. */
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';

// Azurite's well-known development account (public, documented by Microsoft).
export const ACCOUNT = 'devstoreaccount1';
export const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface Azurite {
  port: number;
  /** the account's endpoint, http://127.0.0.1:<port>/devstoreaccount1 */
  url: string;
  /** a client with the account key */
  service: BlobServiceClient;
  /** kills the azurite process by its pid (call in afterAll) */
  stop(): void;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** Starts azurite and resolves once it answers (gives up after 30 s). */
export async function startAzurite(): Promise<Azurite> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      'node_modules/azurite/dist/src/blob/main.js',
      '--blobHost', '127.0.0.1',
      '--blobPort', String(port),
      '--inMemoryPersistence',
      '--disableTelemetry',
      '--silent',
      '--skipApiVersionCheck',
      '--loose',
    ],
    { stdio: 'ignore' },
  );
  const stop = () => {
    if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
  };
  const url = `http://127.0.0.1:${port}/${ACCOUNT}`;
  const service = new BlobServiceClient(url, new StorageSharedKeyCredential(ACCOUNT, KEY));
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await service.getProperties();
      return { port, url, service, stop };
    } catch (err) {
      if (Date.now() > deadline) {
        stop();
        throw new Error(`azurite did not start at ${url}: ${String(err)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
