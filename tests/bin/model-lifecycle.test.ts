import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli';
import { query } from '../helpers/duckdb';
import { SAMPLE_DIR, SAMPLE_FILES, temporaryDirectory } from '../helpers/paths';

interface Metrics {
  accuracy: number;
  macroF1: number;
  logLoss: number;
  rows: number;
  perClass: Record<string, { precision: number; recall: number; f1: number; support: number }>;
  confusionMatrix: { labels: string[]; matrix: number[][] };
  excluded: { XX: number };
}

describe('train → evaluate → gate → predict on the real sample, through the CLI', () => {
  const scratch = temporaryDirectory();
  const lake = path.join(scratch.path, 'lake');
  const registry = path.join(scratch.path, 'registry');
  let trained: {
    runs: Array<{ algorithm: string; modelVersion: string; trainSeconds: number; metrics: Metrics }>;
    champion: { modelVersion: string };
    split: { testWeeks: number[] };
  };

  beforeAll(async () => {
    expect((await cli(['ingest', SAMPLE_DIR, '--lake', lake, '--quiet'])).code).toBe(0);
    const result = await cli(['train', '--lake', lake, '--registry', registry, '--algorithm', 'lr', '--json']);
    expect(result.code, result.stderr).toBe(0);
    trained = JSON.parse(result.stdout);
  });
  afterAll(() => scratch.remove());

  it('trains on the first three weeks, tests on the fourth, and registers the model', () => {
    expect(trained.split.testWeeks).toEqual([200611]);
    expect(trained.runs.map((run) => run.algorithm)).toEqual(['lr']);
    const { metrics } = trained.runs[0];
    expect(Object.keys(metrics.perClass)).toEqual(['LA', 'MM', 'UM']);
    expect(metrics.confusionMatrix.matrix.flat().reduce((sum, count) => sum + count, 0)).toBe(metrics.rows);
    expect(metrics.excluded.XX).toBeGreaterThan(0);
    // the seed's floor, on real held-out data
    expect(metrics.accuracy).toBeGreaterThanOrEqual(0.75);
    expect(metrics.macroF1).toBeGreaterThanOrEqual(0.7);
    expect(trained.champion.modelVersion).toBe(trained.runs[0].modelVersion);
  });

  it('evaluates the real file as it is, through ONNX Runtime, to the same metrics as training reported', async () => {
    const report = path.join(scratch.path, 'report.html');
    const result = await cli(['evaluate', '--registry', registry, '--model', trained.champion.modelVersion, '--data', SAMPLE_FILES[3], '--report', report, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const evaluation = JSON.parse(result.stdout) as { metrics: Metrics; weeks: number[] };
    expect(evaluation.weeks).toEqual([200611]);
    expect(evaluation.metrics.rows).toBe(trained.runs[0].metrics.rows);
    expect(evaluation.metrics.accuracy).toBeCloseTo(trained.runs[0].metrics.accuracy, 6);
    expect(evaluation.metrics.confusionMatrix).toEqual(trained.runs[0].metrics.confusionMatrix);
    const html = await fs.readFile(report, 'utf8');
    expect(html).toContain(trained.champion.modelVersion);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });

  it('scores only the weeks a lake holds that the model never trained on (files are scored as given)', async () => {
    const result = await cli(['evaluate', '--registry', registry, '--model', trained.champion.modelVersion, '--data', SAMPLE_FILES[0], '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).weeks).toEqual([200607]);
    const onLake = await cli(['evaluate', '--registry', registry, '--model', trained.champion.modelVersion, '--data', lake, '--json']);
    expect(JSON.parse(onLake.stdout).weeks).toEqual([200611]);
  });

  it('gates against the floor, moves the candidate alias, and fails listing every reason when the floor is out of reach', async () => {
    const passed = await cli(['gate', '--registry', registry, '--model', trained.champion.modelVersion, '--alias', 'candidate', '--json']);
    expect(passed.code, passed.stderr).toBe(0);
    expect(JSON.parse(passed.stdout).passed).toBe(true);
    const list = JSON.parse((await cli(['models', 'list', '--registry', registry, '--json'])).stdout) as Array<{ version: string; aliases: string[] }>;
    expect(list.find((row) => row.version === trained.champion.modelVersion)?.aliases).toEqual(['candidate']);

    const strict = path.join(scratch.path, 'strict');
    await fs.mkdir(strict);
    await fs.writeFile(path.join(strict, '.retail-mlops.json'), JSON.stringify({ gate: { minimumAccuracy: 0.999, minimumMacroF1: 0.999, minimumClassPrecision: 0.999 } }));
    const failed = await cli(['gate', '--registry', registry, '--model', 'candidate', '--alias', 'production'], { cwd: strict });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/GATE_FAILED/);
    expect(failed.stdout).toMatch(/accuracy .* is below the floor 0\.999/);
    expect(failed.stdout).toMatch(/precision of UM .* is below the floor/);
    const after = JSON.parse((await cli(['models', 'list', '--registry', registry, '--json'])).stdout) as Array<{ aliases: string[] }>;
    expect(after.flatMap((row) => row.aliases)).not.toContain('production');
  });

  it('scores every basket to CSV and Parquet', async () => {
    const csv = path.join(scratch.path, 'predictions.csv');
    const parquet = path.join(scratch.path, 'predictions.parquet');
    for (const out of [csv, parquet]) {
      const result = await cli(['predict', '--registry', registry, '--model', 'candidate', '--data', lake, '--out', out, '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout).baskets).toBe(16_011);
      expect(existsSync(out)).toBe(true);
    }
    const [summary] = await query<{ n: bigint; ids: bigint; sums: number }>(
      `SELECT count(*) AS n, count(DISTINCT BASKET_ID) AS ids, max(abs(P_LA + P_MM + P_UM - 1)) AS sums FROM '${parquet}'`,
    );
    expect(Number(summary.n)).toBe(16_011);
    expect(Number(summary.ids)).toBe(16_011);
    expect(summary.sums).toBeLessThan(1e-5);
  });

  it('answers usage errors with exit code 2 and one line', async () => {
    const result = await cli(['train', '--lake', lake, '--registry', registry, '--algorithm', 'nope']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('the main job', () => {
  const scratch = temporaryDirectory();
  afterAll(() => scratch.remove());

  it('generates, ingests, trains, gates, registers the candidate and writes the report', async () => {
    const workdir = path.join(scratch.path, 'work');
    const result = await cli(['run', '--workdir', workdir, '--rows', '60000', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as {
      generated: boolean;
      pipeline: { status: string; stages: Array<{ id: string; status: string }> };
      candidate: { version: string; metrics: { accuracy: number } };
      versions: Array<{ algorithm: string }>;
      report: string;
    };
    expect(summary.generated).toBe(true);
    // the main job goes through the same pipeline model and runner as CI
    expect(summary.pipeline.stages.map((stage) => [stage.id, stage.status])).toEqual([
      ['ingest', 'passed'],
      ['train', 'passed'],
      ['evaluate', 'passed'],
      ['gate', 'passed'],
      ['register', 'passed'],
    ]);
    expect(summary.versions.map((version) => version.algorithm)).toEqual(['lr', 'dt', 'rf', 'gbdt']);
    // 60k rows are three weeks of 20k: two weeks of history, where README's quality table gives ≈ 0.87–0.91
    expect(summary.candidate.metrics.accuracy).toBeGreaterThan(0.85);
    expect(existsSync(summary.report)).toBe(true);
    const models = JSON.parse((await cli(['models', 'show', 'candidate', '--registry', path.join(workdir, 'registry'), '--json'])).stdout) as { id: string };
    expect(models.id).toBe(summary.candidate.version);
    expect(result.stderr).toMatch(/\[2\/5\] Train passed/);
    // the main job brings its own data: the CI's data set-up (this repository's lands a seeded sample) does not run
    expect(result.stderr.match(/^\[1\/5\] \$ /gm), result.stderr).toHaveLength(1);
    expect(result.stderr).not.toMatch(/^\[1\/5\] \$ rm -rf/m);
    // four algorithms on generated weeks, beside the other test files: ≈ 1 min alone, twice that on a busy machine
  }, 240_000);
});
