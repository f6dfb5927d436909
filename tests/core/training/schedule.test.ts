import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../../core/errors';
import { TRAINING_SPECIFICATION_VERSION, type TrainedModel, type TrainingBackend, type TrainingJob, type TrainingRunOptions } from '../../../core/training/port';
import { longestFirst, scheduleLanes, trainJobs } from '../../../core/training/schedule';

const job = (algorithm: string): TrainingJob => ({
  specificationVersion: TRAINING_SPECIFICATION_VERSION,
  name: `job-${algorithm}`,
  dataset: { uri: '/lake', version: 1 },
  split: { trainWeeks: [1], validationWeeks: [2], testWeeks: [3] },
  featureSpec: { version: 'v', hash: 'h' },
  algorithm,
  hyperparameters: {},
  seed: 1,
});

/** A backend whose jobs take `milliseconds[algorithm]` and record how they were run. */
function timedBackend(milliseconds: Record<string, number>, failing?: string) {
  const calls: Array<{ algorithm: string; threads?: number; startedWith: number }> = [];
  const aborted: string[] = [];
  let running = 0;
  let mostAtOnce = 0;
  const backend: TrainingBackend = {
    specificationVersion: TRAINING_SPECIFICATION_VERSION,
    provider: 'test',
    algorithms: Object.keys(milliseconds),
    trainsHere: true,
    async train(trainingJob: TrainingJob, options: TrainingRunOptions = {}): Promise<TrainedModel> {
      calls.push({ algorithm: trainingJob.algorithm, threads: options.threads, startedWith: running });
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      try {
        await new Promise<void>((resolve, reject) => {
          const onAbort = (): void => {
            clearTimeout(timer);
            aborted.push(trainingJob.algorithm);
            reject(options.signal!.reason);
          };
          const timer = setTimeout(() => {
            options.signal?.removeEventListener('abort', onAbort);
            resolve();
          }, milliseconds[trainingJob.algorithm]);
          options.signal?.addEventListener('abort', onAbort);
        });
        if (trainingJob.algorithm === failing) throw new Error(`${failing} failed`);
        return { job: trainingJob, engine: 'test' } as unknown as TrainedModel;
      } finally {
        running--;
      }
    },
  };
  return { backend, calls, aborted, mostAtOnce: () => mostAtOnce };
}

describe('trainJobs', () => {
  it('splits the threads into one lane per job, at most one per thread', () => {
    expect(scheduleLanes(4, 2)).toEqual([{ threads: 1 }, { threads: 1 }]);
    expect(scheduleLanes(1, 2)).toEqual([{ threads: 2 }]);
    expect(scheduleLanes(2, 5)).toEqual([{ threads: 3 }, { threads: 2 }]);
    expect(scheduleLanes(3, 1)).toEqual([{ threads: 1 }]);
  });

  it('starts the longest jobs first, ties in the given order', () => {
    expect(longestFirst(['lr', 'dt', 'rf', 'gbdt', 'unknown'].map(job))).toEqual([3, 0, 2, 1, 4]);
  });

  it('runs jobs side by side, each lane with its threads, and returns the models in job order', async () => {
    const { backend, calls, mostAtOnce } = timedBackend({ lr: 40, dt: 10, rf: 30, gbdt: 60 });
    const jobs = ['lr', 'dt', 'rf', 'gbdt'].map(job);
    const models = await trainJobs(backend, jobs, { threads: 2 });
    expect(models.map((model) => model.job.algorithm)).toEqual(['lr', 'dt', 'rf', 'gbdt']);
    expect(calls.map((call) => call.algorithm)).toEqual(['gbdt', 'lr', 'rf', 'dt']);
    expect(calls.every((call) => call.threads === 1)).toBe(true);
    expect(mostAtOnce()).toBe(2);
  });

  it('gives a single lane every thread and the job its progress', async () => {
    const { backend, calls, mostAtOnce } = timedBackend({ lr: 5, gbdt: 5 });
    const phases: string[] = [];
    await trainJobs(backend, ['lr', 'gbdt'].map(job), {
      threads: 1,
      progress: { start: (phase) => phases.push(phase), update: () => undefined, stop: () => phases.push('stop') },
    });
    expect(mostAtOnce()).toBe(1);
    expect(calls.map((call) => call.threads)).toEqual([1, 1]);
    expect(phases).toEqual(['training gbdt', 'stop', 'training lr', 'stop']);
  });

  it("fails with the first job's error and aborts the jobs still running", async () => {
    const { backend, aborted } = timedBackend({ gbdt: 5_000, dt: 10 }, 'dt');
    await expect(trainJobs(backend, ['gbdt', 'dt'].map(job), { threads: 2 })).rejects.toThrow('dt failed');
    expect(aborted).toEqual(['gbdt']);
  });

  it('gives a backend that trains elsewhere one job at a time', async () => {
    const { backend, mostAtOnce } = timedBackend({ lr: 5, gbdt: 5, rf: 5 });
    await trainJobs({ ...backend, trainsHere: false }, ['lr', 'gbdt', 'rf'].map(job), { threads: 4 });
    expect(mostAtOnce()).toBe(1);
  });

  it('refuses a bad thread count, naming it', async () => {
    const { backend } = timedBackend({ lr: 1 });
    await expect(trainJobs(backend, [job('lr')], { threads: 0 })).rejects.toThrow(InvalidOptionsError);
    await expect(trainJobs(backend, [job('lr')], { threads: 1.5 })).rejects.toThrow(/threads must be an integer/);
  });
});
