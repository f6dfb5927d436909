#!/usr/bin/env node
/**
 * `npm run --silent emulate -- aws|azure [--data DIR] [--port N] [--env-out FILE]`: starts on
 * loopback everything that cloud's flow needs (providers/aws/emulator, providers/azure/emulator)
 * and, once ready, prints exactly one JSON line on stdout:
 *
 *   {"provider":"aws","env":{…variables to export…},"lake":"<lake URI>","registry":"<registry URI>"}
 *
 * Logs go to stderr. SIGTERM or Ctrl-C stops all of it (child processes included) and exits 0.
 * `--data DIR` keeps the state in DIR across runs (default: a temporary directory, removed on
 * exit); `--port N` puts the servers on N, N+1, … (default: free ports); `--env-out FILE` also
 * writes the variables as `export KEY='value'` lines for a shell to `source`.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { announcementLine, shellExports, type RunningEmulator } from '../providers/emulation/running-emulator';

const USAGE = 'usage: emulate aws|azure [--data DIR] [--port N] [--env-out FILE]';

interface EmulateArguments {
  readonly cloud: 'aws' | 'azure';
  readonly dataDirectory?: string;
  readonly port?: number;
  readonly envFile?: string;
}

/** The arguments, or every problem with them. */
function parseEmulateArguments(argv: readonly string[]): EmulateArguments | { readonly problems: readonly string[] } {
  const problems: string[] = [];
  let cloud: string | undefined;
  const values: Record<string, string> = {};
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index];
    if (argument === '--data' || argument === '--port' || argument === '--env-out') {
      const value = argv[index + 1];
      if (value === undefined || value.startsWith('--')) problems.push(`${argument} needs a value`);
      else values[argument] = value;
      index += 1;
    } else if (argument.startsWith('-')) {
      problems.push(`unknown option ${argument}`);
    } else if (cloud === undefined) {
      cloud = argument;
    } else {
      problems.push(`unexpected argument ${argument}`);
    }
  }
  if (cloud !== 'aws' && cloud !== 'azure') problems.push(cloud === undefined ? 'which cloud? aws or azure' : `unknown cloud '${cloud}' (aws or azure)`);
  const port = values['--port'] === undefined ? undefined : Number(values['--port']);
  if (port !== undefined && !(Number.isInteger(port) && port >= 1024 && port <= 65_000)) problems.push(`--port must be an integer from 1024 to 65000, got ${values['--port']}`);
  if (problems.length > 0) return { problems };
  return {
    cloud: cloud as 'aws' | 'azure',
    ...(values['--data'] !== undefined ? { dataDirectory: path.resolve(values['--data']) } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(values['--env-out'] !== undefined ? { envFile: path.resolve(values['--env-out']) } : {}),
  };
}

async function start(parsed: EmulateArguments, log: (line: string) => void): Promise<RunningEmulator> {
  const options = { dataDirectory: parsed.dataDirectory, port: parsed.port, log };
  if (parsed.cloud === 'aws') return (await import('../providers/aws/emulator/emulator.js')).startAwsEmulator(options);
  return (await import('../providers/azure/emulator/emulator.js')).startAzureEmulator(options);
}

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseEmulateArguments(argv);
  if ('problems' in parsed) {
    process.stderr.write(`emulate: ${parsed.problems.join('; ')}\n${USAGE}\n`);
    return 2;
  }
  const log = (line: string): void => {
    process.stderr.write(`emulate ${parsed.cloud}: ${line}\n`);
  };
  let emulator: RunningEmulator | undefined;
  let stopping: Promise<number> | undefined;
  const stop = (reason: string): Promise<number> => {
    stopping ??= (async () => {
      log(`${reason}: stopping`);
      await emulator?.close();
      log('stopped');
      return 0;
    })();
    return stopping;
  };
  const stopped = new Promise<number>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      process.on(signal, () => {
        if (stopping) {
          log(`${signal} again: exiting now`);
          process.exit(1);
        }
        void stop(signal).then(resolve, (error: unknown) => {
          log(`stopping failed: ${String(error)}`);
          resolve(1);
        });
      });
    }
  });
  emulator = await start(parsed, log);
  if (stopping) {
    // a signal came while starting: stop what started
    await emulator.close();
    return stopped;
  }
  if (parsed.envFile) writeFileSync(parsed.envFile, shellExports(emulator.env));
  process.stdout.write(`${announcementLine(emulator)}\n`);
  log(`ready: lake ${emulator.lake}, registry ${emulator.registry}; state in ${emulator.dataDirectory}${parsed.envFile ? `; variables in ${parsed.envFile}` : ''}; Ctrl-C stops it`);
  return stopped;
}

main(process.argv.slice(2)).then(
  // exit now: everything is closed, and an SDK's idle keep-alive socket must not hold the process
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`emulate: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
