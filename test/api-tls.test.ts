/** verify_certificate: true refuses a self-signed server, false accepts it, a CA path trusts it. */
import https from 'node:https';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { ApiError, ClearMLClient } from '../src/api/index.js';
import { envelope, fakeJwt } from './support/api-tiny-server.js';

let dir: string;
let server: https.Server;
let url: string;
const clients: ClearMLClient[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'api-tls-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  server = https.createServer(
    { key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) },
    (req, res) => {
      req.resume();
      req.on('end', () => envelope(res, req.url === '/auth.login' ? { token: fakeJwt({ exp: 4102444800 }) } : { ok: true }));
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  clients.forEach((c) => c.close());
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  fs.rmSync(dir, { recursive: true, force: true });
});

function make(verifyCertificate: boolean | string): ClearMLClient {
  const c = new ClearMLClient({ api: { apiServer: url, accessKey: 'k', secretKey: 's', verifyCertificate }, retries: 2, backoffBaseMs: 1 });
  clients.push(c);
  return c;
}

test('verification on: a self-signed certificate fails at once with a hint', async () => {
  const c = make(true);
  const err = (await c.call('tasks.get_all').catch((e) => e)) as ApiError;
  expect(err).toBeInstanceOf(ApiError);
  expect(err.kind).toBe('network');
  expect(err.message).toContain(url);
  expect(err.message).toMatch(/verify_certificate/);
  expect(c.stats.retries).toBe(0);
});

test('verification off works', async () => {
  await expect(make(false).call('tasks.get_all')).resolves.toEqual({ ok: true });
});

test('a CA bundle path trusts the server', async () => {
  await expect(make(path.join(dir, 'cert.pem')).call('tasks.get_all')).resolves.toEqual({ ok: true });
});

test('an unreadable CA path is a clear configuration error', () => {
  expect(() => make(path.join(dir, 'missing.pem'))).toThrow(/cannot read the CA bundle/);
});
