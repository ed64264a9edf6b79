/**
 * Type checks for values read from configuration files, and the record of where each resolved value came
 * from. Error messages name the key and file but never echo the value (it may be a secret).
 */
import type { ValueSource } from './types.js';
import { ConfigError } from './errors.js';

/** Where a raw value sits: `label` is its clearml.conf key (or env var name), `file` the file holding it. */
export interface Where {
  label: string;
  file?: string;
}

function kindOf(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

export function wrongType(where: Where, expected: string, value: unknown): ConfigError {
  const place = where.file ? `${where.label} in ${where.file}` : where.label;
  return new ConfigError(`${place} must be ${expected}, not ${kindOf(value)}. Fix it${where.file ? ' in that file' : ''}.`, {
    file: where.file,
    key: where.label,
  });
}

/** A text value: strings as they are (trimmed), numbers and booleans as their text; empty means unset. */
export function asText(value: unknown, where: Where): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value.trim() || undefined;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw wrongType(where, 'a text value', value);
}

const TRUE_WORDS = new Set(['y', 'yes', 't', 'true', 'on', '1']);
const FALSE_WORDS = new Set(['n', 'no', 'f', 'false', 'off', '0']);

/** The SDK's truth words (yes/no, true/false, on/off, 1/0...), or undefined for any other text. */
export function textToBool(text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  if (TRUE_WORDS.has(t)) return true;
  if (FALSE_WORDS.has(t)) return false;
  return undefined;
}

export function asBool(value: unknown, where: Where): boolean | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const b = textToBool(value);
    if (b !== undefined) return b;
  }
  throw wrongType(where, 'true or false', value);
}

/** true/false, or any other text taken as a path (certificate bundles). */
export function asBoolOrPath(value: unknown, where: Where, expected: string): boolean | string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return textToBool(value) ?? value.trim();
  throw wrongType(where, expected, value);
}

export function asList(value: unknown, where: Where): unknown[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value;
  throw wrongType(where, 'a list [ ... ]', value);
}

export function asObject(value: unknown, where: Where): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  throw wrongType(where, 'an object { ... }', value);
}

/** sources/origins of ClearMLConfig, filled as values are resolved. */
export class Provenance {
  readonly sources: Record<string, ValueSource> = {};
  readonly origins: Record<string, string> = {};

  note(path: string, source: ValueSource, origin: string): void {
    this.sources[path] = source;
    this.origins[path] = origin;
  }

  /** a value read from a file: its origin reads `<file>: <conf key>` */
  fromFile(path: string, where: Where): void {
    this.note(path, 'file', where.file ? `${where.file}: ${where.label}` : where.label);
  }
}
