/**
 * The whole flow on each cloud, as README's walkthrough has a user type it: `npm run emulate -- <cloud>`,
 * export what it prints, then the CLI alone — the real sample ingested into the cloud lake (every row
 * accounted for), trained on the cloud's backend (SageMaker running the project's trainer in its image;
 * an Azure ML command job), evaluated, gated, registered in the cloud registry, served from that
 * registry (`/v1/predict`), promoted (a pin the manifests render), and drift read from the predictions
 * the served model shipped to the cloud lake. Nothing here configures a client: the environment does.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGoldBaskets } from '../../core/lake/gold-reader';
import { ingest } from '../../core/lake/ingest';
import { Lake } from '../../core/lake/lake';
import type { Basket } from '../../core/schema/lgsr';
import { parseModelPins } from '../../manifests/model-pins';
import { cli, type CliResult } from '../helpers/cli';
import { serveCli } from '../helpers/cli-serve';
import { neutralEnvironment, startEmulate, type RunningEmulate } from '../helpers/emulate';
import { REPO_ROOT, SAMPLE_DIR, temporaryDirectory } from '../helpers/paths';
import { basketsFromBatch } from '../helpers/served-model';

const API_KEY = 'cloud-flow-api-key-0123456789';
const git = (repository: string, ...args: string[]): string => execFileSync('git', ['-C', repository, ...args], { encoding: 'utf8' }).trim();

/** Real baskets of the sample's test week, with their BASKET_ID (what a storefront sends). */
async function sampleBaskets(count: number): Promise<Basket[]> {
  const scratch = temporaryDirectory('cloud-flow-baskets-');
  try {
    await ingest({ inputs: [path.join(SAMPLE_DIR, 'transactions_200611.csv.gz')], lake: scratch.path });
    const { batch } = await readGoldBaskets(await Lake.openExisting(scratch.path), [200611]);
    return basketsFromBatch(batch, Array.from({ length: Math.min(count, batch.size) }, (_, row) => row));
  } finally {
    scratch.remove();
  }
}

describe.each(['aws', 'azure'] as const)('the flow on %s, through the CLI on its emulators', (cloud) => {
  const scratch = temporaryDirectory(`cloud-flow-${cloud}-`);
  let emulate: RunningEmulate;
  let run: (args: readonly string[], extra?: NodeJS.ProcessEnv) => Promise<CliResult>;
  let candidate: string;

  beforeAll(async () => {
    emulate = await startEmulate(cloud);
    const env = emulate.announcement.env;
    run = (args, extra = {}) => cli(args, { baseEnvironment: neutralEnvironment(), env: { ...env, RETAIL_MLOPS_CACHE_DIR: path.join(scratch.path, 'cache'), ...extra } });
  });
  afterAll(async () => {
    if (emulate && emulate.child.exitCode === null) emulate.child.kill('SIGTERM');
    await emulate?.exited;
    scratch.remove();
  });

  const json = <T>(result: CliResult): T => {
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as T;
  };

  it('ingests the real sample into the cloud lake, every row accounted for', async () => {
    const summary = json<{ lake: string; lakeVersion: number; rowsRead: number; rowsAccepted: number; rowsQuarantined: number; baskets: number; weeks: number[] }>(
      await run(['ingest', SAMPLE_DIR, '--json']),
    );
    expect(summary.lake).toBe(emulate.announcement.lake);
    expect(summary).toMatchObject({ lakeVersion: 1, rowsRead: 105_364, baskets: 16_011, weeks: [200607, 200609, 200610, 200611] });
    expect(summary.rowsAccepted + summary.rowsQuarantined).toBe(summary.rowsRead);
    // the lake's manifest is in the cloud store, not only in this machine's cache
    const config = json<{ settings: Record<string, string> }>(await run(['config', '--json']));
    expect(config.settings).toMatchObject({ provider: cloud, lake: emulate.announcement.lake, backend: cloud === 'aws' ? 'sagemaker' : 'azureml' });
  });

  it("trains on the cloud's backend and registers the model in the cloud registry", async () => {
    const summary = json<{ runs: { algorithm: string; modelVersion: string; metrics: { accuracy: number; macroF1: number } }[]; champion: { modelVersion: string } }>(
      await run(['train', '--algorithm', 'gbdt', '--alias', 'challenger', '--json']),
    );
    expect(summary.runs).toHaveLength(1);
    expect(summary.runs[0].metrics.accuracy).toBeGreaterThan(0.9);
    candidate = summary.champion.modelVersion;
    const listed = json<{ version: string; verified: boolean; aliases: string[] }[]>(await run(['models', 'list', '--json']));
    expect(listed).toEqual([expect.objectContaining({ version: candidate, verified: true, aliases: ['challenger'] })]);
    const shown = json<{ lineage: { lakeVersion: string; inputFiles: unknown[] } }>(await run(['models', 'show', candidate, '--json']));
    expect(shown.lineage.lakeVersion).toBe('1');
    expect(shown.lineage.inputFiles).toHaveLength(4);
  });

  it('evaluates on the held-out week and passes the gate, which names the candidate', async () => {
    const evaluation = json<{ modelVersion: string; weeks: number[]; metrics: { accuracy: number } }>(await run(['evaluate', '--model', 'challenger', '--json']));
    expect(evaluation).toMatchObject({ modelVersion: candidate, weeks: [200611] });
    expect(evaluation.metrics.accuracy).toBeGreaterThan(0.9);
    const gate = json<{ passed: boolean; alias: string }>(await run(['gate', '--model', 'challenger', '--alias', 'candidate', '--json']));
    expect(gate).toMatchObject({ passed: true, alias: 'candidate' });
  });

  it('serves from the cloud registry, ships its predictions to the cloud lake, and drift reads them there', async () => {
    const baskets = await sampleBaskets(40);
    const server = await serveCli(['--model', 'candidate', '--port', '0', '--host', '127.0.0.1'], { ...emulate.announcement.env, RETAIL_MLOPS_API_KEYS: API_KEY, RETAIL_MLOPS_CACHE_DIR: path.join(scratch.path, 'cache') }, {
      baseEnvironment: neutralEnvironment(),
    });
    try {
      for (const basket of baskets) {
        const response = await fetch(`${server.url}/v1/predict`, { method: 'POST', headers: { 'authorization': `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(basket) });
        expect(response.status).toBe(200);
        expect(((await response.json()) as { modelVersion: string }).modelVersion).toBe(candidate);
      }
    } finally {
      const stopped = await server.stop();
      expect(stopped.code, stopped.stderr).toBe(0);
    }
    const drift = json<{ modelVersion: string; predictions: number; referenceWeeks: number[] }>(await run(['drift', '--model', 'candidate', '--json']));
    expect(drift).toMatchObject({ modelVersion: candidate, predictions: baskets.length, referenceWeeks: [200611] });
  });

  it('promotes the candidate: a commit pinning it, whose manifests render it', async () => {
    const repository = path.join(scratch.path, 'team-repo');
    await fs.mkdir(path.join(repository, 'manifests'), { recursive: true });
    await fs.copyFile(path.join(REPO_ROOT, 'manifests', 'pins.json'), path.join(repository, 'manifests', 'pins.json'));
    git(repository, 'init', '--quiet', '--initial-branch', 'main');
    git(repository, 'add', '.');
    git(repository, '-c', 'user.name=test', '-c', 'user.email=test@example.invalid', 'commit', '--quiet', '--message', 'initial');
    const promotion = json<{ model: string; branch: string }>(await run(['promote', '--model', 'candidate', '--env', 'dev', '--repo', repository, '--no-push', '--json']));
    expect(promotion.model).toBe(candidate);
    expect(parseModelPins(git(repository, 'show', 'HEAD:manifests/pins.json'), 'HEAD').dev.model).toBe(candidate);
    expect(git(repository, 'show', `HEAD:manifests/dist/${cloud === 'aws' ? 'eks' : 'aks'}/dev/retail-mlops-api.k8s.yaml`)).toContain(candidate);
    // the registry records the move, naming the commit
    const shown = json<{ id: string }>(await run(['models', 'show', 'dev', '--json']));
    expect(shown.id).toBe(candidate);
  });
});
