/**
 * Which configuration files are read, and their merged content with the file each value came from.
 * Like the SDK: the file named by CLEARML_CONFIG_FILE (or an explicit path) is read alone; otherwise
 * ~/trains.conf then ~/clearml.conf, the later one winning key by key.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from './errors.js';
import { readEnv } from './env.js';
import { parseConfigText, type ConfObject } from './hocon.js';

export interface FileSet {
  /** files actually read, in merge order */
  files: string[];
  /** every file considered, for "looked in" messages */
  candidates: string[];
  /** what named the single file, when one was named (env var name or option) */
  namedBy?: string;
  /** the merged tree */
  tree: ConfObject;
  /** dotted conf path of each leaf or list -> file it came from */
  fileOf: Map<string, string>;
}

/** `~` and `$VAR` / `${VAR}` expansion, as the SDK applies to CLEARML_CONFIG_FILE. */
export function expandPath(path: string, env: NodeJS.ProcessEnv, homeDir: string): string {
  const vars = path.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (whole, a, b) => {
    const v = env[(a ?? b) as string];
    return v === undefined ? whole : v;
  });
  return vars === '~' ? homeDir : vars.startsWith('~/') ? join(homeDir, vars.slice(2)) : vars;
}

function isPlainObject(v: unknown): v is ConfObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mergeInto(target: ConfObject, source: ConfObject, file: string, fileOf: Map<string, string>, prefix: string): void {
  for (const [key, value] of Object.entries(source)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const current = target[key];
    if (isPlainObject(value) && isPlainObject(current)) {
      mergeInto(current, value, file, fileOf, path);
    } else if (isPlainObject(value)) {
      for (const k of [...fileOf.keys()]) if (k === path || k.startsWith(`${path}.`)) fileOf.delete(k);
      target[key] = {};
      mergeInto(target[key] as ConfObject, value, file, fileOf, path);
    } else {
      for (const k of [...fileOf.keys()]) if (k.startsWith(`${path}.`)) fileOf.delete(k);
      target[key] = value;
      fileOf.set(path, file);
    }
  }
}

async function readOne(path: string, namedBy: string | undefined): Promise<ConfObject | undefined> {
  let text: string;
  try {
    const info = await stat(path);
    if (info.isDirectory()) {
      throw new ConfigError(`${namedBy ? `${namedBy} names ` : ''}${path}, which is a directory, not a ClearML configuration file.`, {
        file: path,
        key: namedBy,
      });
    }
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      if (!namedBy) return undefined;
      throw new ConfigError(
        `${namedBy} names ${path}, which does not exist. Point ${namedBy} at your clearml.conf ` +
          `(or the agent's JSON configuration) or unset it to use ~/clearml.conf.`,
        { file: path, key: namedBy },
      );
    }
    throw new ConfigError(`cannot read ClearML configuration file ${path}: ${code ?? 'read error'}. Check its permissions.`, {
      file: path,
    });
  }
  return parseConfigText(text, path);
}

export async function loadFiles(env: NodeJS.ProcessEnv, homeDir: string, configFile?: string): Promise<FileSet> {
  const fromEnv = readEnv(env, 'configFile');
  let namedBy: string | undefined;
  let candidates: string[];
  if (configFile) {
    namedBy = '--config-file';
    candidates = [expandPath(configFile, env, homeDir)];
  } else if (fromEnv) {
    namedBy = fromEnv.name;
    candidates = [expandPath(fromEnv.value, env, homeDir)];
  } else {
    candidates = [join(homeDir, 'trains.conf'), join(homeDir, 'clearml.conf')];
  }
  const set: FileSet = { files: [], candidates, namedBy, tree: {}, fileOf: new Map() };
  for (const path of candidates) {
    const data = await readOne(path, namedBy);
    if (!data) continue;
    set.files.push(path);
    mergeInto(set.tree, data, path, set.fileOf, '');
  }
  return set;
}

/** The value at a dotted conf path and the file that set it (undefined when absent). */
export function lookup(set: FileSet, path: string): { value: unknown; file?: string } | undefined {
  let node: unknown = set.tree;
  for (const part of path.split('.')) {
    if (!isPlainObject(node) || !(part in node)) return undefined;
    node = node[part];
  }
  let file = set.fileOf.get(path);
  for (let p = path; file === undefined && p.includes('.'); ) {
    p = p.slice(0, p.lastIndexOf('.'));
    file = set.fileOf.get(p);
  }
  // an object value was assembled from one or more files: name the last one read that touched it
  if (file === undefined) {
    let last = -1;
    for (const [k, f] of set.fileOf) if (k.startsWith(`${path}.`)) last = Math.max(last, set.files.indexOf(f));
    if (last >= 0) file = set.files[last];
  }
  return { value: node, file };
}
