/**
 * Parses clearml.conf text (HOCON, or the agent's JSON, which is HOCON too) with @pushcorn/hocon-parser.
 *
 * clearml-init writes `api_server: http://localhost:8008` without quotes. ClearML's own (pyhocon) grammar
 * accepts that, but the HOCON spec does not (`:` is not allowed in an unquoted string and `//` starts a
 * comment), so a spec-compliant parser rejects the very file every ClearML user has. Before parsing we
 * therefore quote such single-token values (URLs, host:port, C:\ paths) when they stand right after
 * `key:` / `key =` at the start of a line or after `{` or `,`, outside quoted strings and comments.
 * Nothing else is rewritten and line numbers stay the same.
 */
import { ConfigError } from './errors.js';

export type ConfObject = Record<string, unknown>;

// at a line start, or after `{` or `,`: a key (bare or quoted), its separator, then an unquoted first token
const PYHOCON_VALUE = /(\s*(?:"[^"\n]*"|[A-Za-z0-9_.-]+)\s*[:=]\s*)([^\s"'{}[\],#$]+)/y;

/** One line: quote `key: value` tokens with `:` or `//`, outside quoted strings and comments. */
function quoteLine(line: string): string {
  let out = '';
  let i = 0;
  let atBoundary = true;
  while (i < line.length) {
    if (atBoundary) {
      PYHOCON_VALUE.lastIndex = i;
      const m = PYHOCON_VALUE.exec(line);
      if (m && (m[2].includes(':') || m[2].includes('//'))) {
        out += m[1] + JSON.stringify(m[2]);
        i = PYHOCON_VALUE.lastIndex;
        atBoundary = false;
        continue;
      }
      atBoundary = false;
    }
    const ch = line[i];
    if (ch === '#' || line.startsWith('//', i)) return out + line.slice(i);
    if (ch === '"') {
      // copy a quoted string whole, escapes included
      let j = i + 1;
      while (j < line.length && line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      out += line.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (ch === '{' || ch === ',') atBoundary = true;
    out += ch;
    i += 1;
  }
  return out;
}

/** Quotes pyhocon-style unquoted values that contain `:` or `//`; see the module comment. */
export function quotePyhoconValues(text: string): string {
  let inMultiline = false;
  return text
    .split('\n')
    .map((line) => {
      const wasInside = inMultiline;
      if ((line.split('"""').length - 1) % 2 === 1) inMultiline = !inMultiline;
      if (wasInside || line.includes('"""')) return line;
      return quoteLine(line);
    })
    .join('\n');
}

/**
 * The parser's reason without anything it quoted from the file (that could be part of a secret),
 * except one-character punctuation and substitution names.
 */
function safeReason(message: string): string {
  const reason = message.split(/\s+\(|\s+Token:/)[0].trim();
  if (reason.startsWith('Unable to resolve')) return reason.replace(/\.$/, '') + ' (an undefined ${...} substitution)';
  return reason.replace(/'[^']*'/g, (q) => (q.length === 3 && !/[A-Za-z0-9]/.test(q) ? q : "'…'")).replace(/[.!]+$/, '');
}

function position(message: string): string {
  const m = /line: (\d+), col: (\d+)/.exec(message);
  return m ? ` (line ${m[1]}, column ${m[2]})` : '';
}

/** Parses one configuration file's text; `file` is used in error messages only. */
export async function parseConfigText(text: string, file: string): Promise<ConfObject> {
  let parsed: unknown;
  // loaded with the first config file only: ~8% of the CLI's module loading, and many runs (under
  // an agent's environment variables, the bench) read no file at all
  const { default: parseHocon } = await import('@pushcorn/hocon-parser');
  try {
    // strict: no `|` transforms, no `@file` shorthand, no guessing of types beyond the HOCON spec
    parsed = await parseHocon({ text: quotePyhoconValues(text.replace(/^\uFEFF/, '')), strict: true });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new ConfigError(
      `cannot parse ClearML configuration file ${file}${position(message)}: ${safeReason(message)}. ` +
        'Fix the HOCON/JSON syntax there (compare with templates/clearml.conf).',
      { file },
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(
      `ClearML configuration file ${file} must hold an object ({ api { ... } sdk { ... } }), not a list or a single value.`,
      { file },
    );
  }
  return parsed as ConfObject;
}
