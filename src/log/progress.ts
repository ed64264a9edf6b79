/**
 * Progress of long work, fed by the engine's onProgress events: a bar (cli-progress) on an
 * interactive terminal, plain periodic lines (counts, rate, ETA) otherwise, e.g. under clearml-agent,
 * where the lines land in the task's CONSOLE. The engine never knows which.
 */
import { createRequire } from 'node:module';
import type cliProgress from 'cli-progress';
import type { ProgressEvent } from '../cleanup/ports.js';

export interface ProgressStream {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** where the bar is drawn (default process.stderr) */
  stream?: ProgressStream;
  /** where plain lines go (e.g. the logger's info); default: written to the stream */
  line?: (text: string) => void;
  /** force a mode; default: bar when the stream is a TTY */
  mode?: 'bar' | 'lines' | 'off';
  /** minimum time between two plain lines (default 10 s) */
  intervalMs?: number;
  /** clock, for tests */
  now?: () => number;
}

export interface Progress {
  onProgress: (e: ProgressEvent) => void;
  /** ends the bar (a final line in plain mode) */
  stop(): void;
}

function fmtDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** "references: 1500/5000 tasks (30%), 250/s, ETA 14 s" */
export function progressLine(e: ProgressEvent, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? e.done / (elapsedMs / 1000) : 0;
  const rateText = `${rate >= 10 ? Math.round(rate) : rate.toFixed(1)}/s`;
  if (e.total === undefined) return `progress: ${e.phase}: ${e.done} ${e.unit}, ${rateText}`;
  const pct = e.total > 0 ? Math.floor((e.done / e.total) * 100) : 100;
  const eta = rate > 0 ? fmtDuration((e.total - e.done) / rate) : '?';
  return `progress: ${e.phase}: ${e.done}/${e.total} ${e.unit} (${pct}%), ${rateText}, ETA ${e.done >= e.total ? '0 s' : eta}`;
}

export function createProgress(o: ProgressOptions = {}): Progress {
  const stream = o.stream ?? process.stderr;
  const mode = o.mode ?? (stream.isTTY ? 'bar' : 'lines');
  const now = o.now ?? Date.now;
  if (mode === 'off') return { onProgress: () => {}, stop: () => {} };
  if (mode === 'lines') return linesProgress(o.line ?? ((t) => void stream.write(`${t}\n`)), o.intervalMs ?? 10_000, now);
  return barProgress(stream);
}

function linesProgress(line: (t: string) => void, intervalMs: number, now: () => number): Progress {
  let phase = '';
  let started = 0;
  let lastAt = -Infinity;
  let last: ProgressEvent | undefined;
  let lastPrinted: ProgressEvent | undefined;
  const print = (e: ProgressEvent) => {
    line(progressLine(e, now() - started));
    lastAt = now();
    lastPrinted = e;
  };
  return {
    onProgress(e) {
      if (e.phase !== phase) {
        if (last && last !== lastPrinted) print(last);
        phase = e.phase;
        started = now();
        lastAt = -Infinity;
        last = e;
        // the start of a phase says nothing yet (and a first count has no rate): wait an interval
        lastAt = now();
        if (e.total === undefined || e.done < e.total) return;
      }
      last = e;
      const finished = e.total !== undefined && e.done >= e.total;
      if (finished || now() - lastAt >= intervalMs) print(e);
    },
    stop() {
      if (last && last !== lastPrinted) print(last);
    },
  };
}

/** cli-progress only for a bar on a terminal: a run under an agent or in a pipe never loads it (start-up). */
function loadCliProgress(): typeof cliProgress {
  return createRequire(import.meta.url)('cli-progress') as typeof cliProgress;
}

function barProgress(stream: ProgressStream): Progress {
  let bar: cliProgress.SingleBar | undefined;
  let phase = '';
  let counting = false;
  const end = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    onProgress(e) {
      const known = e.total !== undefined;
      if (!bar || e.phase !== phase || counting === known) {
        end();
        phase = e.phase;
        counting = !known;
        const cp = loadCliProgress();
        bar = new cp.SingleBar(
          {
            stream: stream as unknown as NodeJS.WritableStream,
            format: known
              ? `${e.phase} [{bar}] {percentage}% | {value}/{total} ${e.unit} | ETA {eta_formatted}`
              : `${e.phase} {value} ${e.unit}`,
            hideCursor: false,
            clearOnComplete: false,
            etaBuffer: 50,
            fps: 10,
            noTTYOutput: false,
          },
          cp.Presets.shades_classic,
        );
        bar.start(e.total ?? 0, e.done);
        return;
      }
      if (known && e.total !== bar.getTotal()) bar.setTotal(e.total!);
      bar.update(e.done);
    },
    stop: end,
  };
}
