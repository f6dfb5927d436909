import * as ort from 'onnxruntime-node';
import { CompiledTreeEnsemble } from './compiled-trees';
import { INPUT_NAME, PROBABILITIES_OUTPUT_NAME } from './graph';

/**
 * Which engine scores batches: `auto` compiles tree ensembles it can (see compiled-trees.ts) and
 * uses ONNX Runtime for the rest; `onnxruntime` always uses ONNX Runtime.
 */
export const SCORING_ENGINES = ['auto', 'onnxruntime'] as const;
export type ScoringEngine = (typeof SCORING_ENGINES)[number];

export interface RowScorer {
  /** The engine actually used. */
  readonly engine: 'compiled-trees' | 'onnxruntime';
  /** Why the compiled engine was not used (with `auto`), for logs. */
  readonly fallbackReason?: string;
  /** Probabilities, rows × classes, of row-major `values` (rows × columns). */
  score(values: Float32Array, rows: number): Promise<Float32Array>;
  release(): Promise<void>;
}

export interface RowScorerOptions {
  readonly engine?: ScoringEngine;
  /** ONNX Runtime intra-op threads (the compiled engine runs on the calling thread). @default 1 */
  readonly threads?: number;
}

/** A batch scorer for an ONNX model (`features` float32 [N, columns] → `probabilities`). */
export async function createRowScorer(model: Uint8Array, columns: number, options: RowScorerOptions = {}): Promise<RowScorer> {
  if ((options.engine ?? 'auto') === 'auto') {
    const result = CompiledTreeEnsemble.fromOnnx(model);
    if (result.compiled) {
      const compiled = result.compiled;
      return {
        engine: 'compiled-trees',
        score: (values, rows) => Promise.resolve(compiled.score(values, rows, columns)),
        release: () => Promise.resolve(),
      };
    }
    return onnxRuntimeScorer(model, columns, options.threads ?? 1, result.reason);
  }
  return onnxRuntimeScorer(model, columns, options.threads ?? 1);
}

async function onnxRuntimeScorer(model: Uint8Array, columns: number, threads: number, fallbackReason?: string): Promise<RowScorer> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  return {
    engine: 'onnxruntime',
    fallbackReason,
    async score(values, rows) {
      const input = new ort.Tensor('float32', values.subarray(0, rows * columns), [rows, columns]);
      const result = await session.run({ [INPUT_NAME]: input }, [PROBABILITIES_OUTPUT_NAME]);
      // a copy the caller owns (and may transfer to another thread): ORT's output buffer is its own
      return (result[PROBABILITIES_OUTPUT_NAME].data as Float32Array).slice();
    },
    release: () => session.release(),
  };
}

/** The largest difference between two probability arrays. */
export function maxAbsoluteDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let largest = 0;
  for (let index = 0; index < a.length; index++) {
    const difference = Math.abs(a[index] - b[index]);
    if (!(difference <= largest)) largest = Number.isNaN(difference) ? Infinity : difference;
  }
  return largest;
}
