/**
 * The two load generators `npm run bench:serve` drives the prediction API with, behind one call:
 * autocannon (npm; runs in this Node process) and wrk (Debian's `wrk`, a C program: it costs the
 * machine less per request, so it leaves more of the cores to the server under test). Both keep
 * `connections` keep-alive connections busy for `durationSeconds`, cycling through the request bodies,
 * and report the same numbers.
 */
import { execFile, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';

export type LoadGeneratorName = 'autocannon' | 'wrk';

export interface LoadSettings {
  readonly url: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Request bodies, sent in turn. */
  readonly bodies: readonly string[];
  readonly connections: number;
  readonly durationSeconds: number;
  /** A directory for wrk's script and bodies. */
  readonly scratchDirectory: string;
}

export interface LoadResult {
  readonly generator: LoadGeneratorName;
  readonly requestsPerSecond: number;
  /** Milliseconds. */
  readonly p50: number;
  readonly p99: number;
  /** Connection errors and timeouts. */
  readonly errors: number;
  readonly non2xx: number;
  readonly total: number;
}

/** Why wrk cannot run here (with how to install it), or undefined when it can. */
export function wrkUnavailableReason(): string | undefined {
  const probe = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (probe.error === undefined) return undefined;
  return 'wrk is not installed: it is a Debian package (apt-get update && apt-get install -y wrk); autocannon alone is used';
}

export function runLoad(generator: LoadGeneratorName, settings: LoadSettings): Promise<LoadResult> {
  return generator === 'wrk' ? runWrk(settings) : runAutocannon(settings);
}

async function runAutocannon(settings: LoadSettings): Promise<LoadResult> {
  const result = await autocannon({
    url: settings.url,
    connections: settings.connections,
    duration: settings.durationSeconds,
    timeout: 10,
    requests: settings.bodies.map((body) => ({ method: 'POST' as const, path: settings.path, headers: { ...settings.headers }, body })),
  });
  return {
    generator: 'autocannon',
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    total: result.requests.total,
  };
}

/** A Lua string literal of any bytes. */
function luaString(text: string): string {
  return `"${text.replace(/[\\"]/g, (character) => `\\${character}`).replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
}

/** wrk with two threads and a script that pre-formats one request per body and sends them in turn. */
async function runWrk(settings: LoadSettings): Promise<LoadResult> {
  const script = path.join(settings.scratchDirectory, `wrk-${process.pid}-${Date.now()}.lua`);
  const headers = Object.entries(settings.headers)
    .map(([name, value]) => `[${luaString(name)}] = ${luaString(value)}`)
    .join(', ');
  writeFileSync(
    script,
    [
      `local bodies = { ${settings.bodies.map(luaString).join(',\n')} }`,
      'local requests = {}',
      'local next_request = 0',
      'init = function(args)',
      `  for index, body in ipairs(bodies) do requests[index] = wrk.format("POST", ${luaString(settings.path)}, { ${headers} }, body) end`,
      'end',
      'request = function()',
      '  next_request = next_request % #requests + 1',
      '  return requests[next_request]',
      'end',
      '',
    ].join('\n'),
  );
  const { stdout } = await promisify(execFile)(
    'wrk',
    ['-t2', `-c${settings.connections}`, `-d${settings.durationSeconds}s`, '--timeout', '10s', '--latency', '-s', script, settings.url],
    { maxBuffer: 1 << 20 },
  );
  return { generator: 'wrk', ...parseWrkOutput(stdout) };
}

/** Milliseconds of a wrk duration (`812.00us`, `2.50ms`, `1.02s`). */
function milliseconds(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!match) return Number.NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 'ms' ? value : match[2] === 's' ? value * 1000 : value * 60_000;
}

/** The numbers of wrk's `--latency` report. */
export function parseWrkOutput(output: string): Omit<LoadResult, 'generator'> {
  const number = (pattern: RegExp): number => Number(pattern.exec(output)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    requestsPerSecond: number(/Requests\/sec:\s+([\d.]+)/),
    p50: milliseconds(/^\s+50%\s+(\S+)/m.exec(output)?.[1] ?? ''),
    p99: milliseconds(/^\s+99%\s+(\S+)/m.exec(output)?.[1] ?? ''),
    errors: socketErrors ? socketErrors.slice(1).reduce((sum, value) => sum + Number(value), 0) : 0,
    non2xx: number(/Non-2xx or 3xx responses:\s+(\d+)/),
    total: number(/^\s+(\d+) requests in/m),
  };
}
