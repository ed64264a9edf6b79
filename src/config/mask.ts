/**
 * A printable view of a ClearMLConfig: secrets masked (at most their last 2 characters shown), passwords
 * in URLs removed, and each value followed by where it came from.
 */
import type { ClearMLConfig } from './types.js';

/** last path segments whose values are secrets */
const SECRET_FIELDS = new Set(['accessKey', 'secretKey', 'authToken', 'key', 'secret', 'token', 'accountKey', 'sasToken']);
const URL_FIELDS = new Set(['apiServer', 'webServer', 'filesServer', 'host']);

/** `****` plus the last 2 characters, only when the secret is long enough that this gives nothing away. */
export function maskSecret(value: string): string {
  return value.length >= 12 ? `****${value.slice(-2)}` : '****';
}

/** Removes a password written into a URL (https://user:pass@host -> https://user:****@host). */
export function redactUrl(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/, '$1:****@');
}

function maskValue(field: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (SECRET_FIELDS.has(field)) return maskSecret(value);
  if (URL_FIELDS.has(field)) return redactUrl(value);
  // credentials_json is normally a file path, but inline JSON key material is a secret
  if (field === 'credentialsJson' && value.trimStart().startsWith('{')) return maskSecret(value);
  return value;
}

function maskTree(node: unknown, field: string): unknown {
  if (Array.isArray(node)) return node.map((item) => maskTree(item, field));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, maskTree(v, k)]));
  }
  return maskValue(field, node);
}

export type MaskedConfig = Omit<ClearMLConfig, 'sources' | 'origins'> & {
  sources: ClearMLConfig['sources'];
  origins: Record<string, string>;
};

/** A plain, JSON-ready copy of the configuration with every secret masked. */
export function maskedConfig(cfg: Readonly<ClearMLConfig>): MaskedConfig {
  const { sources, origins, files, ...values } = cfg;
  return {
    ...(maskTree(values, '') as Omit<ClearMLConfig, 'sources' | 'origins' | 'files'>),
    files: [...files],
    sources: { ...sources },
    origins: { ...(origins ?? {}) },
  };
}

function flatten(node: unknown, prefix: string, out: [string, string][]): void {
  if (Array.isArray(node)) {
    if (node.length === 0) out.push([prefix, '(none)']);
    node.forEach((item, i) => flatten(item, `${prefix}.${i}`, out));
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (node !== undefined) {
    out.push([prefix, String(node)]);
  }
}

function originText(cfg: Readonly<ClearMLConfig>, path: string): string {
  const source = cfg.sources[path];
  const origin = cfg.origins?.[path];
  if (!source) return '';
  if (!origin || origin === source) return source;
  // "derived from api.apiServer" already says its kind
  return origin.startsWith(source) ? origin : `${source} ${origin}`;
}

/** Human-readable lines: `key  value  source`, secrets masked. */
export function describeConfig(cfg: Readonly<ClearMLConfig>): string {
  const masked = maskedConfig(cfg);
  const { files, sources: _s, origins: _o, warnings, ...values } = masked;
  const rows: [string, string][] = [];
  flatten(values, '', rows);
  const at = rows.findIndex(([k]) => k === 'api.apiServer') + 1;
  if (!cfg.api.webServer) rows.splice(at, 0, ['api.webServer', '(unknown)']);
  if (!cfg.api.filesServer) {
    const after = rows.findIndex(([k]) => k === 'api.webServer') + 1;
    rows.splice(after, 0, ['api.filesServer', '(unknown: no file-server URL will be deleted)']);
  }
  const keyWidth = Math.max(...rows.map(([k]) => k.length));
  const valueWidth = Math.min(60, Math.max(...rows.map(([, v]) => v.length)));
  const lines = [`ClearML configuration (files read: ${files.length ? files.join(', ') : 'none'})`];
  for (const [key, value] of rows) {
    const origin = originText(cfg, key);
    lines.push(`  ${key.padEnd(keyWidth)}  ${origin ? `${value.padEnd(valueWidth)}  [${origin}]` : value}`.trimEnd());
  }
  for (const w of warnings ?? []) lines.push(`warning: ${w}`);
  return lines.join('\n');
}
