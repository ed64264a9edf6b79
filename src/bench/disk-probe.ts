/**
 * How long one file delete takes on the disk the bench's servers use. The embedded file server
 * deletes with unlink, as the real one does, so on a disk where unlink is slow (e.g. ext4 mounted
 * with online `discard` on a virtual disk: ~0.5 ms each, against ~0.02 ms on tmpfs) both sides'
 * passes are bound by the disk, not by their requests. The figure goes into the report so a reader
 * can tell which one was measured.
 */
import { closeSync, openSync, promises as fsp, fsyncSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';

export async function unlinkMicros(dir: string, files = 1000): Promise<number> {
  const probe = await fsp.mkdtemp(path.join(dir, 'unlink-probe-'));
  try {
    const names: string[] = [];
    for (let i = 0; i < files; i++) {
      const f = path.join(probe, `f${i}.bin`);
      const fd = openSync(f, 'w');
      writeSync(fd, Buffer.alloc(200, 1));
      // written back, as the seeded files are by the time a pass deletes them
      fsyncSync(fd);
      closeSync(fd);
      names.push(f);
    }
    const t0 = process.hrtime.bigint();
    for (const f of names) unlinkSync(f);
    return Number(process.hrtime.bigint() - t0) / 1000 / files;
  } finally {
    await fsp.rm(probe, { recursive: true, force: true });
  }
}
