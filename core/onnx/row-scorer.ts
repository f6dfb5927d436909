import * as ort from 'onnxruntime-node';
import { CompiledLinearClassifier } from './compiled-linear';
import { CompiledTreeEnsemble } from './compiled-trees';
import { INPUT_NAME, PROBABILITIES_OUTPUT_NAME } from './graph';

/**
 * Which engine scores batches: `auto` compiles the models it can (tree ensembles: compiled-trees.ts;
 * linear classifiers: compiled-linear.ts) and uses ONNX Runtime for the rest; `onnxruntime` always
 * uses ONNX Runtime.
 */
export const SCORING_ENGINES = ['auto', 'onnxruntime'] as const;
export type ScoringEngine = (typeof SCORING_ENGINES)[number];

/** The engine a scorer actually uses. */
export type ScoringEngineName = 'compiled-trees' | 'compiled-linear' | 'onnxruntime';

/** Largest probability difference tolerated between a compiled engine and ONNX Runtime. */
export const ENGINE_TOLERANCE = 1e-5;

export interface RowScorer {
  /** The engine actually used. */
  readonly engine: ScoringEngineName;
  /** Why no compiled engine was used (with `auto`), for logs. */
  readonly fallbackReason?: string;
  /** Probabilities, rows × classes, of row-major `values` (rows × columns): a new array the caller owns. */
  score(values: Float32Array, rows: number): Promise<Float32Array>;
  release(): Promise<void>;
}

export interface RowScorerOptions {
  readonly engine?: ScoringEngine;
  /** ONNX Runtime intra-op threads (the compiled engines run on the calling thread). @default 1 */
  readonly threads?: number;
}

/** A batch scorer for an ONNX model (`features` float32 [N, columns] → `probabilities`). */
export async function createRowScorer(model: Uint8Array, columns: number, options: RowScorerOptions = {}): Promise<RowScorer> {
  if ((options.engine ?? 'auto') === 'auto') {
    const compiled = compiledScorer(model, columns);
    if ('score' in compiled) return compiled;
    return onnxRuntimeScorer(await onnxRuntimeSession(model, options.threads ?? 1), columns, compiled.reason);
  }
  return onnxRuntimeScorer(await onnxRuntimeSession(model, options.threads ?? 1), columns);
}

/** A compiled engine for the model, or why there is none. */
function compiledScorer(model: Uint8Array, columns: number): RowScorer | { readonly reason: string } {
  const trees = CompiledTreeEnsemble.fromOnnx(model);
  if (trees.compiled) {
    const compiled = trees.compiled;
    return { engine: 'compiled-trees', score: (values, rows) => Promise.resolve(compiled.score(values, rows, columns)), release: () => Promise.resolve() };
  }
  const linear = CompiledLinearClassifier.fromOnnx(model);
  if (linear.compiled) {
    const compiled = linear.compiled;
    if (compiled.featureCount !== columns) return { reason: `the linear classifier takes ${compiled.featureCount} features, not ${columns}` };
    return { engine: 'compiled-linear', score: (values, rows) => Promise.resolve(compiled.score(values, rows, columns)), release: () => Promise.resolve() };
  }
  return { reason: `${trees.reason}; ${linear.reason}` };
}

/** An ONNX Runtime session for batch scoring (sequential execution, `threads` intra-op threads). */
export function onnxRuntimeSession(model: Uint8Array, threads: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
  });
}

function onnxRuntimeScorer(session: ort.InferenceSession, columns: number, fallbackReason?: string): RowScorer {
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

export interface CheckedRowScorerOptions extends RowScorerOptions {
  /** Rows scored by both engines before the compiled one scores alone (0: no check). @default 1024 */
  readonly verifyRows?: number;
  /** @default ENGINE_TOLERANCE */
  readonly tolerance?: number;
  /** Told once when the compiled engine disagreed and ONNX Runtime took over. */
  readonly onFallback?: (reason: string) => void;
  /**
   * The model's ONNX Runtime session, made by the caller with its own settings (the scorer owns it
   * from now on and releases it). @default one made with `onnxRuntimeSession(model, threads)`
   */
  readonly session?: ort.InferenceSession;
}

/** A RowScorer whose compiled engine is checked against ONNX Runtime on the first rows it scores. */
export interface CheckedRowScorer extends RowScorer {
  /** Rows scored by both engines so far. */
  readonly verifiedRows: number;
  /** Their largest probability difference. */
  readonly maxDifference: number;
}

/**
 * A scorer that uses a compiled engine when the model has one (with `auto`) and holds it to ONNX
 * Runtime: the first `verifyRows` rows are scored by both, and where they differ by more than the
 * tolerance ONNX Runtime's probabilities are returned and ONNX Runtime scores everything from then
 * on (`onFallback` says why). So no answer ever departs from the reference engine by more than the
 * tolerance. The ONNX Runtime session is released once the check has passed.
 * @throws what ONNX Runtime throws for a model it cannot load (also with a compiled engine: the
 *   reference must exist)
 */
export async function createCheckedRowScorer(model: Uint8Array, columns: number, options: CheckedRowScorerOptions = {}): Promise<CheckedRowScorer> {
  const threads = options.threads ?? 1;
  const reference = onnxRuntimeScorer(options.session ?? (await onnxRuntimeSession(model, threads)), columns);
  const compiled = (options.engine ?? 'auto') === 'auto' ? compiledScorer(model, columns) : { reason: undefined };
  if (!('score' in compiled)) {
    const fallbackReason = compiled.reason;
    return { engine: 'onnxruntime', fallbackReason, score: reference.score, release: reference.release, verifiedRows: 0, maxDifference: 0 };
  }
  const verifyRows = options.verifyRows ?? 1024;
  const tolerance = options.tolerance ?? ENGINE_TOLERANCE;
  let engine: ScoringEngineName = compiled.engine;
  let fallbackReason: string | undefined;
  let verifiedRows = 0;
  let maxDifference = 0;
  let checking = verifyRows > 0;
  let referenceReleased = false;
  const releaseReference = async (): Promise<void> => {
    if (referenceReleased) return;
    referenceReleased = true;
    await reference.release();
  };
  if (!checking) await releaseReference();
  return {
    get engine() {
      return engine;
    },
    get fallbackReason() {
      return fallbackReason;
    },
    get verifiedRows() {
      return verifiedRows;
    },
    get maxDifference() {
      return maxDifference;
    },
    async score(values, rows) {
      if (engine === 'onnxruntime') return reference.score(values, rows);
      const probabilities = await compiled.score(values, rows);
      if (!checking || rows === 0) return probabilities;
      // the rows still to check, at the start of this batch
      const checkRows = Math.min(rows, verifyRows - verifiedRows);
      const expected = await reference.score(values, checkRows);
      const difference = maxAbsoluteDifference(probabilities.subarray(0, expected.length), expected);
      verifiedRows += checkRows;
      maxDifference = Math.max(maxDifference, difference);
      if (!(difference <= tolerance)) {
        engine = 'onnxruntime';
        fallbackReason = `the ${compiled.engine} engine differs from ONNX Runtime by ${difference} on ${checkRows} rows (tolerance ${tolerance})`;
        checking = false;
        options.onFallback?.(fallbackReason);
        return checkRows === rows ? expected : reference.score(values, rows);
      }
      if (verifiedRows >= verifyRows) {
        checking = false;
        await releaseReference();
      }
      return probabilities;
    },
    async release() {
      await Promise.all([compiled.release(), releaseReference()]);
    },
  };
}

/** The largest difference between two probability arrays (NaN in both at one place counts as equal, in one only as Infinity). */
export function maxAbsoluteDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let largest = 0;
  for (let index = 0; index < a.length; index++) {
    if (Number.isNaN(a[index]) && Number.isNaN(b[index])) continue;
    const difference = Math.abs(a[index] - b[index]);
    if (!(difference <= largest)) largest = Number.isNaN(difference) ? Infinity : difference;
  }
  return largest;
}
