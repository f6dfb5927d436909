/**
 * Runs several training jobs on one backend, side by side when they train on this machine
 * (`TrainingBackend.trainsHere`) and it has the threads for it:
 * `threads` are split into lanes (as many as jobs, at most one per thread), each lane trains one job
 * at a time with its share of the threads, and the longest jobs start first. Models do not depend
 * on how many threads trained them, so the results are the same whatever the schedule; they come
 * back in the jobs' order.
 */
import { availableParallelism } from 'node:os';
import type { TrainedModel, TrainingBackend, TrainingJob } from './port';
import { IN_PROCESS_TRAINERS } from './trainers';
import { ProblemCollector } from '../errors';
import { silentProgress, type ProgressReporter } from '../progress';

export interface TrainJobsOptions {
  /** Threads for all jobs together. @default every core */
  readonly threads?: number;
  /**
   * With one lane, each job's own progress (under a `training <algorithm>` phase); with several,
   * one phase counting finished jobs. @default silent
   */
  readonly progress?: ProgressReporter;
  readonly signal?: AbortSignal;
}

/** One lane of a schedule: it trains one job at a time on this many threads. */
export interface ScheduleLane {
  readonly threads: number;
}

/** How `threads` are split into lanes for `jobCount` jobs: one lane per job up to one per thread, threads shared out evenly. */
export function scheduleLanes(jobCount: number, threads: number): ScheduleLane[] {
  const laneCount = Math.max(1, Math.min(jobCount, threads));
  return Array.from({ length: laneCount }, (_, lane) => ({ threads: Math.floor(threads / laneCount) + (lane < threads % laneCount ? 1 : 0) }));
}

/** Job indices, longest first (by the in-process trainers' relative cost; unknown algorithms count 1), ties in job order. */
export function longestFirst(jobs: readonly TrainingJob[]): number[] {
  const cost = (job: TrainingJob): number => IN_PROCESS_TRAINERS[job.algorithm]?.relativeCost ?? 1;
  return jobs.map((_, index) => index).sort((a, b) => cost(jobs[b]) - cost(jobs[a]) || a - b);
}

/**
 * Trains every job on `backend`; throws `InvalidOptionsError` for a bad thread count, or the first
 * job's error (the other jobs are then aborted).
 */
export async function trainJobs(backend: TrainingBackend, jobs: readonly TrainingJob[], options: TrainJobsOptions = {}): Promise<TrainedModel[]> {
  const threads = options.threads ?? availableParallelism();
  const problems = new ProblemCollector('training schedule');
  problems.check(Number.isInteger(threads) && threads >= 1 && threads <= 256, `threads must be an integer from 1 to 256 (got ${threads})`);
  problems.throwIfAny();
  // a backend training elsewhere gets one job at a time, as it always did
  const lanes = backend.trainsHere === true ? scheduleLanes(jobs.length, threads) : [{ threads }];
  const order = longestFirst(jobs);
  const progress = options.progress ?? silentProgress;
  const aborter = new AbortController();
  const onAbort = (): void => aborter.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const results = new Array<TrainedModel>(jobs.length);
  let next = 0;
  let finished = 0;
  const together = lanes.length > 1;
  if (together) progress.start(`training ${jobs.map((job) => job.algorithm).join(', ')} (${lanes.length} at a time)`, jobs.length, 'models');
  const runLane = async (lane: ScheduleLane): Promise<void> => {
    while (next < order.length && !aborter.signal.aborted) {
      const index = order[next++];
      const job = jobs[index];
      if (!together) progress.start(`training ${job.algorithm}`);
      try {
        results[index] = await backend.train(job, { threads: lane.threads, signal: aborter.signal, progress: together ? undefined : progress });
      } catch (error) {
        aborter.abort(error);
        throw error;
      } finally {
        if (!together) progress.stop();
      }
      finished++;
      if (together) progress.update(finished);
    }
  };
  try {
    const outcomes = await Promise.allSettled(lanes.map(runLane));
    options.signal?.throwIfAborted();
    const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed !== undefined) throw aborter.signal.reason ?? failed.reason;
    return results;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    if (together) progress.stop();
  }
}
