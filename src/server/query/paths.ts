/** Dotted-path helpers with Mongo semantics: a path through an array reaches every element. */

export function valuesAt(doc: unknown, path: string): unknown[] {
  let current: unknown[] = [doc];
  for (const part of path.split('.')) {
    const next: unknown[] = [];
    for (const v of current) {
      if (Array.isArray(v)) {
        for (const item of v) if (item && typeof item === 'object' && part in item) next.push((item as any)[part]);
      } else if (v && typeof v === 'object' && part in (v as object)) {
        next.push((v as any)[part]);
      }
    }
    current = next;
  }
  const flat: unknown[] = [];
  for (const v of current) {
    if (Array.isArray(v)) flat.push(...v);
    else flat.push(v);
  }
  return flat;
}

/** First scalar at a path (for sorting). */
export function valueAt(doc: unknown, path: string): unknown {
  let v: unknown = doc;
  for (const part of path.split('.')) {
    if (v && typeof v === 'object' && !Array.isArray(v)) v = (v as any)[part];
    else return undefined;
  }
  return v;
}

/**
 * only_fields: copies the listed dotted paths (id always) into a new, nested object;
 * "-path" entries are left out instead (the real server's exclusion prefix).
 */
export function project<T extends object>(doc: T, fields: string[] | undefined): Record<string, unknown> {
  const list = (fields ?? []).filter((f): f is string => typeof f === 'string' && f.length > 0);
  const include = list.filter((f) => !f.startsWith('-'));
  const exclude = list.filter((f) => f.startsWith('-')).map((f) => f.slice(1));
  let out: Record<string, unknown>;
  if (!include.length) {
    out = structuredClone(doc) as Record<string, unknown>;
  } else {
    out = {};
    copyPath(doc, out, ['id']);
    for (const f of include) copyPath(doc, out, f.split('.'));
  }
  for (const f of exclude) deletePath(out, f.split('.'));
  return out;
}

function deletePath(obj: unknown, parts: string[]): void {
  if (!obj || typeof obj !== 'object') return;
  if (Array.isArray(obj)) {
    for (const item of obj) deletePath(item, parts);
    return;
  }
  const [head, ...rest] = parts;
  if (!rest.length) delete (obj as Record<string, unknown>)[head];
  else deletePath((obj as Record<string, unknown>)[head], rest);
}

function copyPath(src: unknown, dst: Record<string, unknown>, parts: string[]): void {
  if (!src || typeof src !== 'object') return;
  const [head, ...rest] = parts;
  if (!(head in (src as object))) return;
  const value = (src as any)[head];
  if (rest.length === 0 || value === null || typeof value !== 'object') {
    if (rest.length === 0) dst[head] = structuredClone(value);
    return;
  }
  if (Array.isArray(value)) {
    const existing = Array.isArray(dst[head]) ? (dst[head] as Record<string, unknown>[]) : value.map(() => ({}));
    value.forEach((item, i) => copyPath(item, existing[i] ?? (existing[i] = {}), rest));
    dst[head] = existing;
    return;
  }
  const target = dst[head] && typeof dst[head] === 'object' ? (dst[head] as Record<string, unknown>) : {};
  copyPath(value, target, rest);
  dst[head] = target;
}
