import { promises as fs } from 'node:fs';

/**
 * Writes `value` as JSON to `target` so that a reader (or a kill at any moment) sees either the old
 * file or the whole new one: data fsynced into a private temp file (mode 0600), then renamed over.
 * Fsyncing the directory, where the rename itself must be durable, is the caller's choice.
 */
export async function writeJsonAtomic(target: string, value: unknown): Promise<void> {
  const tmp = `${target}.${process.pid}.tmp`;
  const fh = await fs.open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(JSON.stringify(value));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, target);
}
