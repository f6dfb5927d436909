/**
 * The local backend trains each job on a worker thread of its own with the threads it is given; the
 * model (ONNX bytes, metrics) is the one `trainInProcess` makes on this thread with one thread.
 */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_SPEC } from '../../../core/features/spec';
import { Lake } from '../../../core/lake/lake';
import { createInProcessTrainingBackend, trainInProcess } from '../../../core/training/in-process';
import { defaultTimeSplit, TRAINING_SPECIFICATION_VERSION, type TrainingJob } from '../../../core/training/port';
import { cli } from '../../helpers/cli';
import { SAMPLE_DIR, temporaryDirectory } from '../../helpers/paths';

describe('in-process training on threads, on the real sample', () => {
  const scratch = temporaryDirectory();
  const lakeDirectory = path.join(scratch.path, 'lake');
  let job: (algorithm: string, hyperparameters?: TrainingJob['hyperparameters']) => TrainingJob;

  beforeAll(async () => {
    expect((await cli(['ingest', SAMPLE_DIR, '--lake', lakeDirectory, '--quiet'])).code).toBe(0);
    const lake = await Lake.openExisting(lakeDirectory);
    job = (algorithm, hyperparameters = {}) => ({
      specificationVersion: TRAINING_SPECIFICATION_VERSION,
      name: `threads-${algorithm}`,
      dataset: { uri: lakeDirectory, version: lake.manifest.version },
      split: defaultTimeSplit(lake.weeks()),
      featureSpec: { version: FEATURE_SPEC.version, hash: FEATURE_SPEC.hash },
      algorithm,
      hyperparameters,
      seed: 7,
    });
  });
  afterAll(() => scratch.remove());

  const cases: Array<[string, TrainingJob['hyperparameters']]> = [
    ['gbdt', { rounds: 40 }],
    ['rf', { treeCount: 12 }],
    ['dt', {}],
  ];
  for (const [algorithm, hyperparameters] of cases) {
    it(`${algorithm}: the backend's worker with 3 threads makes the same model as this thread alone`, async () => {
      const backend = createInProcessTrainingBackend();
      const [threaded, single] = [await backend.train(job(algorithm, hyperparameters), { threads: 3 }), await trainInProcess(job(algorithm, hyperparameters), { threads: 1 })];
      expect(Buffer.from(threaded.onnx).equals(Buffer.from(single.onnx))).toBe(true);
      expect(threaded.metrics).toEqual(single.metrics);
      expect(threaded.parameters).toEqual(single.parameters);
    });
  }

  it('opens the lake on this side when told how (a cloud lake\'s local copy) and trains its thread on that directory', async () => {
    const asked: string[] = [];
    const backend = createInProcessTrainingBackend({
      openLake: async (uri) => {
        asked.push(uri);
        return Lake.openExisting(lakeDirectory);
      },
    });
    const remote = { ...job('dt'), dataset: { ...job('dt').dataset, uri: 's3://lake-bucket/prefix' } };
    const trained = await backend.train(remote, { threads: 2 });
    expect(asked).toEqual(['s3://lake-bucket/prefix']);
    expect(trained.job.dataset.uri).toBe('s3://lake-bucket/prefix');
    expect(trained.metrics.rows).toBeGreaterThan(0);
  });

  it("a job's error crosses back from its thread with its code", async () => {
    const backend = createInProcessTrainingBackend();
    await expect(backend.train(job('nope'))).rejects.toMatchObject({ code: 'INVALID_OPTIONS', message: expect.stringMatching(/algorithm 'nope'/) });
  });

  it('an aborted signal stops the job', async () => {
    const backend = createInProcessTrainingBackend();
    const controller = new AbortController();
    const training = backend.train(job('gbdt'), { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop now')), 200);
    await expect(training).rejects.toThrow('stop now');
  });
});
