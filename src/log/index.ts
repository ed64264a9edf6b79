/**
 * The console logger of the commands (winston): `text` prints the message alone, like the official
 * cleanup script does (`Starting cleanup`, `Deleting 100 tasks`), with any details after it;
 * `json` prints one JSON object per line for log collectors.
 */
import winston from 'winston';

export type LogFormat = 'text' | 'json';

export interface LoggerOptions {
  format?: LogFormat;
  level?: string;
  /** default process.stdout; tests pass a collecting stream */
  stream?: NodeJS.WritableStream;
  /** prefix lines with an ISO time (text format) */
  timestamps?: boolean;
}

export interface Log {
  debug(msg: string, meta?: Record<string, unknown>): void;
  info(msg: string, meta?: Record<string, unknown>): void;
  warn(msg: string, meta?: Record<string, unknown>): void;
  error(msg: string, meta?: Record<string, unknown>): void;
  close(): Promise<void>;
}

/** CLEARML_LOG_LEVEL uses Python names; winston's are lower-case and lack "critical". */
export function normalizeLevel(level?: string): string {
  const l = (level ?? 'info').toLowerCase();
  if (l === 'warning') return 'warn';
  if (l === 'critical' || l === 'fatal') return 'error';
  return ['error', 'warn', 'info', 'debug'].includes(l) ? l : 'info';
}

function textFormat(timestamps: boolean) {
  return winston.format.printf((info) => {
    const { level, message, timestamp, ...rest } = info as Record<string, unknown> & { level: string; message: unknown };
    const meta = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
    const prefix = timestamps ? `${String(timestamp)} ` : '';
    const lvl = level === 'info' ? '' : `${level.toUpperCase()}: `;
    return `${prefix}${lvl}${String(message)}${meta}`;
  });
}

export function createLogger(opts: LoggerOptions = {}): Log {
  const format = opts.format ?? 'text';
  const transport = new winston.transports.Stream({ stream: opts.stream ?? process.stdout });
  const logger = winston.createLogger({
    level: normalizeLevel(opts.level),
    format:
      format === 'json'
        ? winston.format.combine(winston.format.timestamp(), winston.format.json())
        : winston.format.combine(winston.format.timestamp(), textFormat(opts.timestamps ?? false)),
    transports: [transport],
  });
  const emit = (level: string) => (msg: string, meta?: Record<string, unknown>) => logger.log(level, msg, meta ?? {});
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    close: () =>
      new Promise<void>((resolve) => {
        logger.on('finish', () => resolve());
        logger.end();
        setTimeout(resolve, 200).unref();
      }),
  };
}
