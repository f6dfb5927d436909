/**
 * The server's structured log: one JSON object per line (time, level, event, fields), on stderr by
 * default, so stdout stays free for `--json` output. Injected into createApp and the model service.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFields = Readonly<Record<string, unknown>>;

export interface ServerLogger {
  log(level: LogLevel, event: string, fields?: LogFields): void;
}

const LEVEL_ORDER: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface JsonLoggerOptions {
  /** Where lines go. @default process.stderr */
  readonly stream?: { write(text: string): unknown };
  /** The least severe level written. @default 'info' */
  readonly level?: LogLevel;
  /** Wall-clock time for the `time` field. @default Date.now */
  readonly now?: () => number;
}

/** JSON lines: `{"time":"…","level":"info","event":"model.loaded",…}`. */
export function createJsonLogger(options: JsonLoggerOptions = {}): ServerLogger {
  const stream = options.stream ?? process.stderr;
  const threshold = LEVEL_ORDER[options.level ?? 'info'];
  const now = options.now ?? Date.now;
  return {
    log(level, event, fields = {}) {
      if (LEVEL_ORDER[level] < threshold) return;
      stream.write(`${JSON.stringify({ time: new Date(now()).toISOString(), level, event, ...fields }, errorReplacer)}\n`);
    },
  };
}

/** Drops everything (tests). */
export const silentLogger: ServerLogger = { log() {} };

/**
 * Errors as {name, code, message}; unexpected errors (no stable code) also with their stack, for the
 * operator (clients never see either).
 */
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return typeof code === 'string' ? { name: value.name, code, message: value.message } : { name: value.name, message: value.message, stack: value.stack };
  }
  return value;
}
