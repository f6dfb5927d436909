import { SingleBar, Presets } from 'cli-progress';
import { RetailMlopsError } from '../core/errors';
import type { ProgressReporter } from '../core/progress';
import { silentProgress } from '../core/progress';
import { InvalidModelReferenceError } from '../core/registry/errors';

/** Flags every command shares. */
export interface GlobalFlags {
  readonly json?: boolean;
  readonly quiet?: boolean;
}

/** Exit codes: 0 ok, 1 failure, 2 usage error. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Progress bars on stderr, only when stderr is a TTY and not `--quiet`. */
export function progressFor(flags: GlobalFlags, stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  if (flags.quiet || !stream.isTTY) return silentProgress;
  let bar: SingleBar | undefined;
  return {
    start(phase, total, unit = 'items') {
      bar?.stop();
      bar = new SingleBar(
        {
          stream,
          format: total === undefined ? `${phase} {value} ${unit}` : `${phase} [{bar}] {percentage}% {value}/{total} ${unit} eta {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: false,
        },
        Presets.shades_classic,
      );
      bar.start(total ?? 0, 0);
    },
    update(done) {
      bar?.update(done);
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}

/** A line of human output: stdout normally, stderr under `--json` (stdout then holds only the JSON). */
export function say(flags: GlobalFlags, text: string): void {
  if (flags.quiet) return;
  (flags.json ? process.stderr : process.stdout).write(`${text}\n`);
}

/**
 * Runs a command body: prints its result as one JSON document under `--json`, or lets `human`
 * format it; any error becomes a one-line reason on stderr and exit code 1 (2 for a usage error, and
 * for a model reference that cannot name anything).
 */
export async function runCommand<T>(flags: GlobalFlags, body: () => Promise<T>, human: (result: T) => string): Promise<void> {
  try {
    const result = await body();
    if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else if (!flags.quiet) process.stdout.write(`${human(result)}\n`);
  } catch (error) {
    const code = RetailMlopsError.isInstance(error) ? `${error.code}: ` : '';
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`retail-mlops: ${code}${message.split('\n')[0]}\n`);
    if (process.env.RETAIL_MLOPS_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exitCode = error instanceof UsageError || error instanceof InvalidModelReferenceError ? EXIT_USAGE : EXIT_FAILURE;
  }
}

/** Parses a positive integer flag or throws a usage error. */
export function positiveInteger(name: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value.replace(/_/g, ''));
    if (!Number.isInteger(parsed) || parsed <= 0) throw new UsageError(`${name} must be a positive integer, got '${value}'`);
    return parsed;
  };
}

/** Wrong flags or arguments: exit code 2. */
export class UsageError extends RetailMlopsError {
  constructor(message: string) {
    super('USAGE', message);
  }
}
