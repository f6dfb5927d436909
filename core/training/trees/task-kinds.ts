/**
 * The kinds of parallel jobs the tree trainers run on a TreeThreadPool, and what a task sees of
 * the thread it runs on. The task functions live beside the code they parallelise (node-search.ts,
 * boosting-tasks.ts, classification-forest.ts); parallel-tasks.ts dispatches to them.
 */
import type { TrainingMemory } from './training-memory';

export const TASK_KINDS = {
  /** Histograms and best splits of a batch of nodes, a block of one search's features per task. */
  nodeSearch: 1,
  /** The three root histograms of a boosting round, a block of features per task. */
  threeClassRoots: 2,
  /** Softmax gradients and hessians, a block of rows per task. */
  softmaxGradients: 3,
  /** Whole classification trees (a random forest), one tree per task. */
  growTrees: 4,
  /** The rows of a batch of nodes partitioned by their splits, one node per task. */
  partitionRows: 5,
  /** A boosted tree's leaf values added to its class's scores, by leaves or by rows. */
  addLeafValues: 6,
  /** The bin cuts of a training matrix, a block of features per task. */
  fitBinCuts: 7,
  /** A training matrix's bin codes, a block of rows per task. */
  binRows: 8,
} as const;
export type TaskKind = (typeof TASK_KINDS)[keyof typeof TASK_KINDS];

/** What a task reads and where it writes, on whichever thread runs it. */
export interface TaskEnvironment {
  /** The job's integer parameters (shared). */
  readonly integers: Int32Array;
  /** The job's float64 parameters (shared). */
  readonly numbers: Float64Array;
  /** The training memory, as this thread sees it (arrays by byte offset, its WebAssembly kernels). */
  readonly memory: TrainingMemory;
  /** Scratch values a thread keeps from task to task, by name. */
  readonly local: Map<string, unknown>;
  /** A context value by id (TreeThreadPool.addContext). */
  context(id: number): unknown;
  /** Sends a result to the calling thread (`TreeThreadPool.takeMessages`). */
  send(message: { readonly type: 'result'; readonly task: number; readonly value: unknown }, transfer?: ArrayBuffer[]): void;
}

/** The array a job names at `integers[at]` (byte offset) and `integers[at + 1]` (length). */
export function float64At(environment: TaskEnvironment, at: number): Float64Array {
  return environment.memory.view(Float64Array, environment.integers[at], environment.integers[at + 1]);
}

export function float32At(environment: TaskEnvironment, at: number): Float32Array {
  return environment.memory.view(Float32Array, environment.integers[at], environment.integers[at + 1]);
}

export function int32At(environment: TaskEnvironment, at: number): Int32Array {
  return environment.memory.view(Int32Array, environment.integers[at], environment.integers[at + 1]);
}

export function uint8At(environment: TaskEnvironment, at: number): Uint8Array {
  return environment.memory.view(Uint8Array, environment.integers[at], environment.integers[at + 1]);
}

/** Task `task` of `taskCount` over `length` items: [start, end), contiguous and in order. */
export function taskRange(task: number, taskCount: number, length: number): readonly [number, number] {
  return [Math.floor((task * length) / taskCount), Math.floor(((task + 1) * length) / taskCount)];
}
