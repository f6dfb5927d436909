/**
 * `retail-mlops serve --processes 2` as a user runs it (the real CLI, a child process): two server
 * processes on one port, each answering; /metrics aggregates both; an admin reload reloads both; a
 * process that dies is replaced; SIGTERM drains both and exits 0; each spools its own prediction log;
 * a model that cannot load fails once, with the standalone server's exit code.
 */
import { existsSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADMIN, ADMIN_KEY, API_KEY, AUTHORIZED } from './harness';
import { cli } from '../helpers/cli';
import { serveCli } from '../helpers/cli-serve';
import { temporaryDirectory } from '../helpers/paths';
import { registerServedModel, servedModelFixture, type ServedModelFixture } from '../helpers/served-model';

interface GroupSummary {
  readonly processes: number;
  readonly pids: readonly number[];
  readonly modelVersion: string;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** One prediction on a connection of its own (a new connection goes to the next process in turn). */
async function predictOnNewConnection(url: string, body: string): Promise<{ status: number; modelVersion?: string }> {
  const response = await fetch(`${url}/v1/predict`, { method: 'POST', headers: { ...AUTHORIZED, connection: 'close' }, body });
  const document = (await response.json()) as { modelVersion?: string };
  return { status: response.status, modelVersion: document.modelVersion };
}

/** The value of one metric line in /metrics (undefined when absent). */
async function metric(url: string, pattern: RegExp): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = pattern.exec(text);
  return match ? Number(match[1]) : undefined;
}

describe('retail-mlops serve --processes', () => {
  let fixture: ServedModelFixture;

  beforeAll(async () => {
    fixture = await servedModelFixture();
  });
  afterAll(() => fixture?.remove());

  it('serves from two processes on one port: both answer, /metrics counts both, an admin reload reloads both, a dead process is replaced, SIGTERM stops both', async () => {
    const logDirectory = temporaryDirectory('retail-mlops-group-log-');
    const spool = temporaryDirectory('retail-mlops-group-spool-');
    try {
      const server = await serveCli(
        ['--registry', fixture.registryRoot, '--port', '0', '--host', '127.0.0.1', '--poll-interval', '0', '--processes', '2', '--prediction-log', logDirectory.path],
        { RETAIL_MLOPS_API_KEYS: API_KEY, RETAIL_MLOPS_ADMIN_KEYS: ADMIN_KEY, RETAIL_MLOPS_PREDICTION_SPOOL: spool.path },
      );
      const summary = server.summary as unknown as GroupSummary;
      expect(summary.processes).toBe(2);
      expect(new Set(summary.pids).size).toBe(2);
      expect(summary.pids.every(isAlive)).toBe(true);
      expect(summary.modelVersion).toBe(fixture.versions.production);
      // 40 requests on fresh connections: every one answered; the aggregated count is all of them
      const body = JSON.stringify(fixture.baskets[3]);
      const first = await Promise.all(Array.from({ length: 40 }, () => predictOnNewConnection(server.url, body)));
      expect(first.map((answer) => answer.status)).toEqual(Array(40).fill(200));
      expect(await metric(server.url, /^retail_mlops_http_request_duration_seconds_count\{route="\/v1\/predict",method="POST",status="200"\} (\d+)/m)).toBe(40);
      expect(await metric(server.url, /^retail_mlops_model_ready (\d+)/m)).toBe(1);
      const info = await (await fetch(`${server.url}/metrics`)).text();
      expect(info.match(/^retail_mlops_model_info\{.*\} (\d+)$/gm)).toEqual([expect.stringMatching(new RegExp(`version="${fixture.versions.production}".* 1$`))]);
      // an admin reload, answered by one process, moves both
      await fixture.registry.setAlias('production', fixture.versions.candidate, { actor: 'tests', reason: 'group reload' });
      const reload = await fetch(`${server.url}/admin/reload`, { method: 'POST', headers: ADMIN });
      expect(reload.status).toBe(200);
      expect(((await reload.json()) as { modelVersion: string }).modelVersion).toBe(fixture.versions.candidate);
      const after = await Promise.all(Array.from({ length: 20 }, () => predictOnNewConnection(server.url, body)));
      expect(new Set(after.map((answer) => answer.modelVersion))).toEqual(new Set([fixture.versions.candidate]));
      expect(await metric(server.url, /^retail_mlops_model_reloads_total\{outcome="loaded",trigger="admin"\} (\d+)/m)).toBe(2);
      // a process killed outright is replaced; once the primary saw it go, the port keeps answering meanwhile
      // (a connection handed to a process in the instant it dies is lost with it)
      process.kill(summary.pids[1], 'SIGKILL');
      await vi.waitFor(() => expect(server.stderr()).toMatch(/"event":"server\.process-exited","process":2/), { timeout: 30_000, interval: 50 });
      const during = await Promise.all(Array.from({ length: 10 }, () => predictOnNewConnection(server.url, body)));
      expect(during.map((answer) => answer.status)).toEqual(Array(10).fill(200));
      await vi.waitFor(() => expect(server.stderr()).toMatch(/"event":"server\.process-replaced","process":2/), { timeout: 30_000, interval: 50 });
      const replaced = await Promise.all(Array.from({ length: 10 }, () => predictOnNewConnection(server.url, body)));
      // the replacement serves what the alias names now
      expect(new Set(replaced.map((answer) => `${answer.status} ${answer.modelVersion}`))).toEqual(new Set([`200 ${fixture.versions.candidate}`]));
      const stopped = await server.stop();
      expect(stopped.code).toBe(0);
      expect(summary.pids.filter(isAlive)).toEqual([]);
      expect(stopped.stderr.match(/"event":"server\.stopped"/g)).toHaveLength(2);

      // each process spooled on its own and shipped its segments on the way out
      expect(['process-1', 'process-2'].map((name) => existsSync(`${spool.path}/${name}`))).toEqual([true, true]);
      const segments = readdirSync(logDirectory.path, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.jsonl.gz'));
      const instances = new Set(segments.map((name) => /predictions-\d{8}T\d{6}Z-(.+)-\d{6}\.jsonl\.gz$/.exec(name)?.[1]));
      expect(instances.has(undefined)).toBe(false);
      expect(instances.size).toBeGreaterThanOrEqual(2);
      expect(stopped.stderr).not.toContain('SPOOL_IN_USE');
    } finally {
      logDirectory.remove();
      spool.remove();
    }
  });

  it('a model that cannot load fails once (the first process), with the exit code of a lone server; a bad process count is a usage error', async () => {
    const bad = await registerServedModel(fixture.registry, { model: new Uint8Array([1, 2, 3]), statistics: fixture.statistics, seed: 'group-bad' });
    await fixture.registry.setAlias('broken', bad, { actor: 'tests', reason: 'group refusal' });
    const refused = await cli(['serve', '--registry', fixture.registryRoot, '--model', 'broken', '--port', '0', '--host', '127.0.0.1', '--processes', '2'], { env: { RETAIL_MLOPS_API_KEYS: API_KEY } });
    expect(refused.code).toBe(1);
    expect(refused.stderr.match(/retail-mlops: MODEL_REFUSED/g)).toHaveLength(1);

    const zero = await cli(['serve', '--registry', fixture.registryRoot, '--port', '0'], { env: { RETAIL_MLOPS_API_KEYS: API_KEY, RETAIL_MLOPS_PROCESSES: 'two' } });
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('RETAIL_MLOPS_PROCESSES must be a positive integer, got "two"');
    expect((await cli(['serve', '--processes', '0'], { env: { RETAIL_MLOPS_API_KEYS: API_KEY } })).code).toBe(2);
  });
});
