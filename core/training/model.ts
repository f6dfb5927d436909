/**
 * The trained-model intermediate representation (IR): what every local trainer produces, what the
 * in-process predictor evaluates, and what core/onnx exports. Classes are always in the order of
 * `classes` (for price sensitivity: LA, MM, UM); label ids in ONNX are their indices (int64).
 */

/** A row-major float32 feature matrix with class-index labels (what trainers consume). */
export interface FeatureMatrix {
  readonly rows: number;
  readonly columns: number;
  /** rows × columns, row-major. */
  readonly values: Float32Array;
  /** Class index per row (index into the model's `classes`). */
  readonly labels: Int32Array;
  /** Optional sample weights per row (1 when absent). */
  readonly weights?: Float32Array;
}

/**
 * Multinomial linear model over the raw features: score_k = intercepts[k] + Σ_j coefficients[k·F + j]·x_j,
 * probabilities = softmax(scores). Any standardisation is folded into the coefficients.
 */
export interface LinearModelIR {
  readonly kind: 'linear';
  readonly classes: readonly string[];
  readonly featureCount: number;
  /** classes × featureCount, row-major. */
  readonly coefficients: Float32Array;
  /** One per class. */
  readonly intercepts: Float32Array;
}

/**
 * One binary tree in flat arrays; node 0 is the root. An internal node sends a row to `left` when
 * `x[feature] <= threshold` (both compared as float32, ONNX BRANCH_LEQ), else to `right`.
 * A leaf has feature = -1 and adds `value[node·classes + k]` to class k's score.
 */
export interface TreeIR {
  readonly feature: Int32Array;
  readonly threshold: Float32Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** nodes × classes; only leaves' entries are used. */
  readonly value: Float32Array;
}

/**
 * A sum of trees: score_k = baseValues[k] + Σ_trees leafValue_k; probabilities = softmax(score) when
 * postTransform is 'softmax', the scores themselves when 'none' (a random forest stores leaf class
 * frequencies already divided by the number of trees, so the sum is the average).
 */
export interface TreeEnsembleIR {
  readonly kind: 'trees';
  readonly classes: readonly string[];
  readonly featureCount: number;
  readonly trees: readonly TreeIR[];
  readonly baseValues: Float32Array;
  readonly postTransform: 'softmax' | 'none';
}

export type ModelIR = LinearModelIR | TreeEnsembleIR;

/** Local algorithms. */
export const ALGORITHMS = ['lr', 'dt', 'rf', 'gbdt'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];
