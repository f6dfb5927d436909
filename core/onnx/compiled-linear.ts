/**
 * Batch scoring of a linear-classifier ONNX model in plain JavaScript: `softmax(x·Wᵀ + b)`, the
 * arithmetic of ai.onnx.ml's LinearClassifier with post_transform SOFTMAX (the graph graph.ts builds
 * for logistic regression). For a few rows it is far cheaper than an ONNX Runtime `run`, whose fixed
 * cost per call (tensor wrapping, the native call, output tensors) is many times the multiply-adds
 * of ~100 features × 3 classes.
 *
 * Only that one node shape is compiled (one LinearClassifier, multi_class 0, post_transform SOFTMAX or
 * NONE, ≥ 3 classes); anything else is left to ONNX Runtime. Callers check the result against ONNX
 * Runtime (see core/batch-scoring/ and the server's workers), so ORT stays the reference. Sums are
 * accumulated in double precision and rounded once to float32, so they differ from ORT's float32
 * accumulation by ORT's own rounding (≈ 1e-7 on probabilities).
 */
import { onnx } from 'onnx-proto';
import { INPUT_NAME, ML_DOMAIN, PROBABILITIES_OUTPUT_NAME } from './graph';

/** Why a model is not compiled, or the compiled model. */
export type CompiledLinearResult = { readonly compiled: CompiledLinearClassifier; readonly reason?: undefined } | { readonly compiled?: undefined; readonly reason: string };

export class CompiledLinearClassifier {
  /** Compiles the model when its graph is the linear classifier this engine handles. */
  static fromOnnx(bytes: Uint8Array): CompiledLinearResult {
    const model = onnx.ModelProto.decode(bytes);
    const nodes = model.graph?.node ?? [];
    if (nodes.length !== 1) return { reason: `the graph has ${nodes.length} nodes, not one linear classifier` };
    const node = nodes[0];
    if (node.opType !== 'LinearClassifier' || node.domain !== ML_DOMAIN) return { reason: `${node.domain ?? ''}.${node.opType ?? ''} is not a LinearClassifier` };
    if (node.input?.[0] !== INPUT_NAME || !node.output?.includes(PROBABILITIES_OUTPUT_NAME)) return { reason: 'the node does not map features to probabilities' };
    const byName = new Map((node.attribute ?? []).map((attribute) => [attribute.name ?? '', attribute]));
    const coefficients = Array.from(byName.get('coefficients')?.floats ?? []);
    const intercepts = Array.from(byName.get('intercepts')?.floats ?? []);
    const classCount = Math.max((byName.get('classlabels_ints')?.ints ?? []).length, (byName.get('classlabels_strings')?.strings ?? []).length);
    const postTransformBytes = byName.get('post_transform')?.s;
    const postTransform = postTransformBytes && postTransformBytes.length > 0 ? Buffer.from(postTransformBytes).toString('utf8') : 'NONE';
    const multiClass = Number(byName.get('multi_class')?.i ?? 0);
    if (classCount < 3) return { reason: `${classCount} classes (binary linear classifiers have ORT-specific score layouts)` };
    if (multiClass !== 0) return { reason: `multi_class ${multiClass}` };
    if (postTransform !== 'SOFTMAX' && postTransform !== 'NONE') return { reason: `post_transform ${postTransform}` };
    if (coefficients.length === 0 || coefficients.length % classCount !== 0) return { reason: `${coefficients.length} coefficients for ${classCount} classes` };
    if (intercepts.length !== 0 && intercepts.length !== classCount) return { reason: `${intercepts.length} intercepts for ${classCount} classes` };
    const featureCount = coefficients.length / classCount;
    return {
      compiled: new CompiledLinearClassifier(
        classCount,
        featureCount,
        Float64Array.from(coefficients),
        intercepts.length === 0 ? new Float64Array(classCount) : Float64Array.from(intercepts),
        postTransform === 'SOFTMAX',
      ),
    };
  }

  private readonly scores: Float64Array;

  /** Use `fromOnnx`. */
  constructor(
    readonly classCount: number,
    /** Features per row the coefficients cover. */
    readonly featureCount: number,
    /** classes × features, row-major (class by class). */
    private readonly coefficients: Float64Array,
    private readonly intercepts: Float64Array,
    private readonly softmax: boolean,
  ) {
    this.scores = new Float64Array(classCount);
  }

  /** Probabilities (rows × classes) of row-major `values` (rows × featureCount). */
  score(values: Float32Array, rows: number, featureCount: number): Float32Array {
    const out = new Float32Array(rows * this.classCount);
    this.scoreInto(values, rows, featureCount, out);
    return out;
  }

  /** As `score`, into `out` (rows × classes). */
  scoreInto(values: Float32Array, rows: number, featureCount: number, out: Float32Array): void {
    if (featureCount !== this.featureCount) throw new Error(`the model takes ${this.featureCount} features per row, got ${featureCount}`);
    if (this.classCount === 3) return this.scoreThreeClasses(values, rows, out);
    const classes = this.classCount;
    const width = this.featureCount;
    const coefficients = this.coefficients;
    const scores = this.scores;
    for (let row = 0; row < rows; row++) {
      const base = row * width;
      let top = -Infinity;
      for (let k = 0; k < classes; k++) {
        const weights = k * width;
        let sum = this.intercepts[k];
        for (let feature = 0; feature < width; feature++) sum += values[base + feature] * coefficients[weights + feature];
        // float32 scores, as ORT computes them
        const score = Math.fround(sum);
        scores[k] = score;
        if (score > top) top = score;
      }
      this.finish(scores, top, out, row * classes);
    }
  }

  /** The three-class case (the price-sensitivity classes) with the sums in locals: each feature value is read once. */
  private scoreThreeClasses(values: Float32Array, rows: number, out: Float32Array): void {
    const width = this.featureCount;
    const coefficients = this.coefficients;
    const scores = this.scores;
    const [b0, b1, b2] = this.intercepts;
    for (let row = 0; row < rows; row++) {
      const base = row * width;
      let s0 = b0;
      let s1 = b1;
      let s2 = b2;
      for (let feature = 0; feature < width; feature++) {
        const value = values[base + feature];
        s0 += value * coefficients[feature];
        s1 += value * coefficients[width + feature];
        s2 += value * coefficients[2 * width + feature];
      }
      scores[0] = Math.fround(s0);
      scores[1] = Math.fround(s1);
      scores[2] = Math.fround(s2);
      this.finish(scores, Math.max(scores[0], scores[1], scores[2]), out, row * 3);
    }
  }

  /** One row's probabilities from its float32 scores (softmax, or the scores as they are). */
  private finish(scores: Float64Array, top: number, out: Float32Array, offset: number): void {
    const classes = this.classCount;
    if (!this.softmax) {
      for (let k = 0; k < classes; k++) out[offset + k] = scores[k];
      return;
    }
    let total = 0;
    for (let k = 0; k < classes; k++) {
      scores[k] = Math.exp(scores[k] - top);
      total += scores[k];
    }
    for (let k = 0; k < classes; k++) out[offset + k] = scores[k] / total;
  }
}
