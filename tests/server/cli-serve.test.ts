/**
 * The real CLI: `retail-mlops serve` as a child process. SIGTERM with requests in flight drains them
 * (all complete) and exits 0, and with a drain delay no request sent on a kept-alive connection meets a
 * closed socket; configuration problems exit 2 with a reason; an unusable model exits 1.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, symlinkSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, AUTHORIZED } from './harness';
import { cli } from '../helpers/cli';
import { serveCli, SOURCE_CLI, type ServeProcess } from '../helpers/cli-serve';
import { REPO_ROOT, temporaryDirectory } from '../helpers/paths';
import { registerServedModel, servedModelFixture, type ServedModelFixture } from '../helpers/served-model';

const run = promisify(execFile);

/** Starts `serve --json` and waits for its one JSON document (printed once the model is warm). */
function serve(args: readonly string[], env: NodeJS.ProcessEnv, command: readonly [string, string] = SOURCE_CLI): Promise<ServeProcess> {
  return serveCli(args, env, { command });
}

async function queueDepth(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^retail_mlops_inference_queue_depth (\d+)/m.exec(text)?.[1] ?? 0);
}

describe('retail-mlops serve (the real CLI)', () => {
  let fixture: ServedModelFixture;

  beforeAll(async () => {
    fixture = await servedModelFixture();
  });
  afterAll(() => fixture?.remove());

  it('drains in-flight requests on SIGTERM, then exits 0', async () => {
    // four large batches at once: a latency budget above what they take, so that none is shed
    const server = await serve(['--registry', fixture.registryRoot, '--port', '0', '--host', '127.0.0.1', '--latency-budget', '600000'], { RETAIL_MLOPS_API_KEYS: API_KEY });
    const body = JSON.stringify({ baskets: Array.from({ length: 10_000 }, (_, index) => fixture.baskets[index % fixture.baskets.length]) });
    const inFlight = Array.from({ length: 4 }, () => fetch(`${server.url}/v1/predict/batch`, { method: 'POST', headers: AUTHORIZED, body }));
    const deadline = Date.now() + 30_000;
    while ((await queueDepth(server.url)) < inFlight.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    server.signal('SIGTERM');
    const responses = await Promise.all(inFlight);
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200]);
    for (const response of responses) expect(((await response.json()) as { predictions: unknown[] }).predictions).toHaveLength(10_000);
    expect(await server.exit).toBe(0);
    expect(server.stderr()).toMatch(/"event":"server\.signal","signal":"SIGTERM"/);
    expect(server.stderr()).toMatch(/"event":"server\.stopped"/);
  });

  it('with a drain delay, a SIGTERM under load answers every request sent on kept-alive connections; only new connections are refused', async () => {
    const server = await serve(['--registry', fixture.registryRoot, '--port', '0', '--host', '127.0.0.1'], { RETAIL_MLOPS_API_KEYS: API_KEY, RETAIL_MLOPS_DRAIN_DELAY_MS: '400' });
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const body = JSON.stringify(fixture.baskets[2]);
    const { hostname, port } = new URL(server.url);
    const outcomes = { ok: 0, closing: 0, refused: 0, other: [] as string[] };
    let signalled = false;
    /** One client: requests one after the other on its kept-alive connection until the server is gone. */
    const client = async (): Promise<void> => {
      for (;;) {
        const answer = await new Promise<{ status: number; connection: string | undefined } | NodeJS.ErrnoException>((resolve) => {
          const request = httpRequest({ hostname, port, path: '/v1/predict', method: 'POST', agent, headers: { ...AUTHORIZED, 'content-length': Buffer.byteLength(body) } }, (response) => {
            response.resume();
            response.on('end', () => resolve({ status: response.statusCode ?? 0, connection: response.headers.connection }));
            response.on('error', resolve);
          });
          request.on('error', resolve);
          request.end(body);
        });
        if (answer instanceof Error) {
          if (answer.code === 'ECONNREFUSED' && signalled) outcomes.refused += 1;
          else outcomes.other.push(`${answer.code ?? ''} ${answer.message}`);
          return;
        }
        if (answer.status === 200) outcomes.ok += 1;
        else outcomes.other.push(`status ${answer.status}`);
        if (answer.connection === 'close') outcomes.closing += 1;
      }
    };
    const clients = Array.from({ length: 16 }, () => client());
    while (outcomes.ok < 200 && outcomes.other.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    signalled = true;
    server.signal('SIGTERM');
    await Promise.all(clients);
    agent.destroy();
    // no request that was sent went unanswered: no reset, no hang-up, nothing but 200s, then refused connections
    expect(outcomes.other).toEqual([]);
    expect(outcomes.closing).toBeGreaterThan(0);
    expect(outcomes.refused).toBe(16);
    expect(await server.exit).toBe(0);
    expect(server.stderr()).toMatch(/"event":"server\.draining","url":"[^"]+","drainDelayMs":400/);
  });

  it('takes its configuration from the environment (RETAIL_MLOPS_REGISTRY, RETAIL_MLOPS_MODEL, PORT, key files)', async () => {
    const keysFile = path.join(fixture.registryRoot, '..', `${path.basename(fixture.registryRoot)}-keys`);
    await writeFile(keysFile, `other-key-0123456789\n${API_KEY}\n`);
    const adminKeysFile = `${keysFile}-admin`;
    const adminKey = 'cli-admin-key-0123456789';
    await writeFile(adminKeysFile, `${adminKey}\n`);
    const server = await serve(['--host', '127.0.0.1'], {
      RETAIL_MLOPS_REGISTRY: fixture.registryRoot,
      RETAIL_MLOPS_MODEL: 'candidate',
      PORT: '0',
      RETAIL_MLOPS_API_KEYS_FILE: keysFile,
      RETAIL_MLOPS_ADMIN_KEYS_FILE: adminKeysFile,
    });
    const response = await fetch(`${server.url}/v1/predict`, { method: 'POST', headers: AUTHORIZED, body: JSON.stringify(fixture.baskets[0]) });
    expect(((await response.json()) as { modelVersion: string }).modelVersion).toBe(fixture.versions.candidate);
    expect((await fetch(`${server.url}/admin/reload`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}` } })).status).toBe(200);
    expect((await fetch(`${server.url}/admin/reload`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}` } })).status).toBe(403);
    server.signal('SIGINT');
    expect(await server.exit).toBe(0);
  });

  it('exits 2 with every configuration problem, 1 when the model is refused', async () => {
    const usage = await cli(['serve', '--port', '0', '--registry', 'ftp://example.com/registry', '--model', 'Bad Model'], { env: { RETAIL_MLOPS_API_KEYS: '' } });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(
      /'ftp:\/\/example\.com\/registry' is not a location; use a directory.*s3:\/\/.*blob\.core\.windows\.net.*model "Bad Model".*at least one API key is required/,
    );
    expect((await cli(['serve', '--port', 'http'], { env: { RETAIL_MLOPS_API_KEYS: API_KEY } })).code).toBe(2);

    const otherCloud = await cli(['serve', '--provider', 'local', '--registry', 's3://retail-models/registry', '--port', '0'], { env: { RETAIL_MLOPS_API_KEYS: API_KEY } });
    expect(otherCloud.code).toBe(2);
    expect(otherCloud.stderr).toContain("registry 's3://retail-models/registry' (flag --registry) is an S3 location, but the provider is local (flag --provider)");

    const bad = await registerServedModel(fixture.registry, { model: new Uint8Array([1, 2, 3]), statistics: fixture.statistics, seed: 'cli-bad' });
    await fixture.registry.setAlias('broken', bad, { actor: 'tests', reason: 'cli refusal' });
    const refused = await cli(['serve', '--registry', fixture.registryRoot, '--model', 'broken', '--port', '0', '--host', '127.0.0.1'], { env: { RETAIL_MLOPS_API_KEYS: API_KEY } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`retail-mlops: MODEL_REFUSED: model ${bad} refused (check)`);
  });

  it('runs compiled (tsc → lib/, plain node): the prediction workers start from their .js files', async () => {
    const build = temporaryDirectory('retail-mlops-compiled-');
    try {
      await run(path.join(REPO_ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json', '--outDir', path.join(build.path, 'lib')], { cwd: REPO_ROOT });
      symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(build.path, 'node_modules'), 'dir');
      copyFileSync(path.join(REPO_ROOT, 'package.json'), path.join(build.path, 'package.json'));
      const server = await serve(['--registry', fixture.registryRoot, '--port', '0', '--host', '127.0.0.1'], { RETAIL_MLOPS_API_KEYS: API_KEY }, [
        process.execPath,
        path.join(build.path, 'lib/bin/retail-mlops.js'),
      ]);
      const response = await fetch(`${server.url}/v1/predict/batch`, { method: 'POST', headers: AUTHORIZED, body: JSON.stringify({ baskets: fixture.baskets.slice(0, 10) }) });
      expect(response.status).toBe(200);
      server.signal('SIGTERM');
      expect(await server.exit).toBe(0);
    } finally {
      build.remove();
    }
  });

  it('describes itself in --help', async () => {
    const help = await cli(['serve', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: retail-mlops serve');
    expect(help.stdout).toMatch(
      /--environment <name>[\s\S]*--provider <name>[\s\S]*--registry <location>[\s\S]*RETAIL_MLOPS_REGISTRY[\s\S]*--model <reference>[\s\S]*--port <port>[\s\S]*--host <address>/,
    );
    expect(help.stdout).toMatch(/--drain-delay <ms>[\s\S]*RETAIL_MLOPS_DRAIN_DELAY_MS[\s\S]*--latency-budget <ms>[\s\S]*RETAIL_MLOPS_LATENCY_BUDGET_MS/);
  });
});
