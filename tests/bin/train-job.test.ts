import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FEATURE_SPEC } from '../../core/features/spec';
import { defaultTimeSplit, TRAINING_SPECIFICATION_VERSION, type TrainingJob } from '../../core/training/port';
import { fromTrainedModelDocument, type TrainedModelDocument } from '../../core/training/trained-model-files';
import { cli } from '../helpers/cli';

const directory = mkdtempSync(path.join(tmpdir(), 'train-job-cli-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('retail-mlops train-job', () => {
  it('trains the job on a local copy of its lake and writes model.onnx and trained-model.json', async () => {
    const raw = path.join(directory, 'raw.csv');
    const lake = path.join(directory, 'lake');
    expect((await cli(['generate', '--rows', '20000', '--seed', '3', '--weeks', '3', '--start-week', '200607', '--out', raw, '--quiet'])).code).toBe(0);
    const ingested = await cli(['ingest', raw, '--lake', lake, '--json']);
    expect(ingested.code).toBe(0);
    const weeks = (JSON.parse(ingested.stdout) as { weeks: number[] }).weeks;
    const job: TrainingJob = {
      specificationVersion: TRAINING_SPECIFICATION_VERSION,
      name: 'cli-train-job',
      // where the lake lives in the cloud; --lake is the copy the platform downloaded
      dataset: { uri: 'https://stretailmlopsdev.blob.core.windows.net/lake', version: 1 },
      split: defaultTimeSplit(weeks),
      featureSpec: { version: FEATURE_SPEC.version, hash: FEATURE_SPEC.hash },
      algorithm: 'lr',
      hyperparameters: { maxIterations: 30 },
      seed: 1,
    };
    const jobFile = path.join(directory, 'job.json');
    writeFileSync(jobFile, JSON.stringify(job));
    const out = path.join(directory, 'out');
    const result = await cli(['train-job', '--job', jobFile, '--lake', lake, '--out', out, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ job: 'cli-train-job', algorithm: 'lr', lakeVersion: 1, files: ['model.onnx', 'trained-model.json'] });
    const document = JSON.parse(readFileSync(path.join(out, 'trained-model.json'), 'utf8')) as TrainedModelDocument;
    const model = fromTrainedModelDocument(document, new Uint8Array(readFileSync(path.join(out, 'model.onnx'))));
    expect(model.job).toEqual(job);
    expect(model.metrics.accuracy).toBe(summary.accuracy);
  });

  it('refuses a job document that is not a TrainingJob (exit 1, every problem)', async () => {
    const jobFile = path.join(directory, 'bad-job.json');
    writeFileSync(jobFile, JSON.stringify({ specificationVersion: 'v0', name: '' }));
    const result = await cli(['train-job', '--job', jobFile, '--lake', directory, '--out', path.join(directory, 'never')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/INVALID_OPTIONS: invalid training job .*specificationVersion.*name.*dataset.*split.*featureSpec.*algorithm.*hyperparameters.*seed/);
  });

  it('is a usage error without its required flags (exit 2)', async () => {
    expect((await cli(['train-job', '--job', 'x.json'])).code).toBe(2);
  });
});
