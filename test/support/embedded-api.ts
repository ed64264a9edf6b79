import { startServer, type RunningServer, type StartServerOptions } from '../../src/server/index.js';

/** Raw HTTP helpers for the embedded server tests (fetch, no client library). */
export interface Answer {
  status: number;
  body: any;
}

export async function rawCall(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* keep text */
  }
  return { status: res.status, body };
}

export async function login(server: RunningServer): Promise<string> {
  const basic = Buffer.from(`${server.accessKey}:${server.secretKey}`).toString('base64');
  const a = await rawCall(`${server.apiUrl}/auth.login`, { method: 'POST', headers: { Authorization: `Basic ${basic}` } });
  if (a.status !== 200) throw new Error(`login failed: ${JSON.stringify(a.body)}`);
  return a.body.data.token;
}

export class Api {
  constructor(
    readonly server: RunningServer,
    readonly token: string,
  ) {}

  static async start(opts: StartServerOptions = {}): Promise<Api> {
    const server = await startServer(opts);
    return new Api(server, await login(server));
  }

  /** Any endpoint; resolves with status and envelope whatever the status. */
  call(endpoint: string, body: Record<string, unknown> = {}, version = '2.23'): Promise<Answer> {
    return rawCall(`${this.server.apiUrl}/v${version}/${endpoint}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${this.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  /** Expects success and returns data. */
  async ok(endpoint: string, body: Record<string, unknown> = {}): Promise<any> {
    const a = await this.call(endpoint, body);
    if (a.status !== 200) throw new Error(`${endpoint} -> ${a.status}: ${JSON.stringify(a.body?.meta ?? a.body)}`);
    return a.body.data;
  }

  /** Expects an error and returns [code, subcode]. */
  async fails(endpoint: string, body: Record<string, unknown> = {}): Promise<[number, number]> {
    const a = await this.call(endpoint, body);
    if (a.status === 200) throw new Error(`${endpoint} unexpectedly succeeded`);
    expectEnvelopeConsistent(a);
    return [a.body.meta.result_code, a.body.meta.result_subcode];
  }

  async createTask(name = 'task one', extra: Record<string, unknown> = {}): Promise<string> {
    return (await this.ok('tasks.create', { name, type: 'training', ...extra })).id;
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

export function expectEnvelopeConsistent(a: Answer): void {
  if (!a.body?.meta || a.body.meta.result_code !== a.status) {
    throw new Error(`envelope mismatch: HTTP ${a.status}, body ${JSON.stringify(a.body)}`);
  }
}
