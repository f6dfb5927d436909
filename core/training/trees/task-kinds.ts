/**
 * The kinds of parallel jobs the tree trainers run on a TreeThreadPool, and what a task sees of
 * the thread it runs on. The task functions live beside the code they parallelise (node-search.ts,
 * gradient-boosting.ts, classification-forest.ts); parallel-tasks.ts dispatches to them.
 */

export const TASK_KINDS = {
  /** Histograms and best splits of one or two nodes, a block of features per task. */
  nodeSearch: 1,
  /** The three root histograms of a boosting round, a block of features per task. */
  threeClassRoots: 2,
  /** Softmax gradients and hessians, a block of rows per task. */
  softmaxGradients: 3,
  /** Whole classification trees (a random forest), one tree per task. */
  growTrees: 4,
} as const;
export type TaskKind = (typeof TASK_KINDS)[keyof typeof TASK_KINDS];

/** What a task reads and where it writes, on whichever thread runs it. */
export interface TaskEnvironment {
  /** The job's integer parameters (shared). */
  readonly integers: Int32Array;
  /** The job's float64 parameters (shared). */
  readonly numbers: Float64Array;
  /** Typed views of the shared buffers, by the ids the pool gave them. */
  readonly views: SharedViews;
  /** Scratch values a thread keeps from task to task, by name. */
  readonly local: Map<string, unknown>;
  /** A context value by id (TreeThreadPool.addContext). */
  context(id: number): unknown;
  /** Sends a result to the calling thread (`TreeThreadPool.takeMessages`). */
  send(message: { readonly type: 'result'; readonly task: number; readonly value: unknown }, transfer?: ArrayBuffer[]): void;
}

/** Typed views of shared buffers by id, made once per buffer and thread. */
export class SharedViews {
  private readonly float64Views = new Map<number, Float64Array>();
  private readonly float32Views = new Map<number, Float32Array>();
  private readonly int32Views = new Map<number, Int32Array>();
  private readonly uint8Views = new Map<number, Uint8Array>();

  constructor(private readonly buffer: (id: number) => SharedArrayBuffer) {}

  /** Drops the views of released buffers. */
  forget(id: number): void {
    this.float64Views.delete(id);
    this.float32Views.delete(id);
    this.int32Views.delete(id);
    this.uint8Views.delete(id);
  }

  float64(id: number): Float64Array {
    let view = this.float64Views.get(id);
    if (view === undefined) this.float64Views.set(id, (view = new Float64Array(this.buffer(id))));
    return view;
  }

  float32(id: number): Float32Array {
    let view = this.float32Views.get(id);
    if (view === undefined) this.float32Views.set(id, (view = new Float32Array(this.buffer(id))));
    return view;
  }

  int32(id: number): Int32Array {
    let view = this.int32Views.get(id);
    if (view === undefined) this.int32Views.set(id, (view = new Int32Array(this.buffer(id))));
    return view;
  }

  uint8(id: number): Uint8Array {
    let view = this.uint8Views.get(id);
    if (view === undefined) this.uint8Views.set(id, (view = new Uint8Array(this.buffer(id))));
    return view;
  }
}

/** Task `task` of `taskCount` over `length` items: [start, end), contiguous and in order. */
export function taskRange(task: number, taskCount: number, length: number): readonly [number, number] {
  return [Math.floor((task * length) / taskCount), Math.floor(((task + 1) * length) / taskCount)];
}
