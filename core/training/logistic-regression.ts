/**
 * Multinomial logistic regression, trained full-batch with L-BFGS (hand-written; the problem has
 * classes × (features + 1) parameters, so dense double arrays are tiny).
 *
 * Features are standardised with the training rows' mean and standard deviation; the model is fitted
 * in that space, where the L2 penalty treats features alike, and the scaling is folded into the
 * coefficients at the end, so the LinearModelIR works on raw features. Objective:
 *
 *   L(W, b) = Σᵢ wᵢ · CE(softmax(b + W·zᵢ), yᵢ) / Σᵢ wᵢ  +  λ/2 · ‖W‖²      (intercepts b not penalised)
 *
 * where wᵢ = sample weight × class weight and zᵢ the standardised row. The same input always gives the
 * same model, bit for bit: the start point is fixed (zero coefficients, log-prior intercepts) and every
 * sum runs in row order, so no seed is needed.
 */
import { ProblemCollector } from '../errors';
import type { ProgressReporter } from '../progress';
import { silentProgress } from '../progress';
import type { FeatureMatrix, LinearModelIR } from './model';
import { validateTrainingData } from './training-data';

export interface LogisticRegressionOptions {
  /**
   * L2 penalty λ on the standardised coefficients (intercepts are not penalised). With the loss a
   * weighted mean, scikit-learn's `C` corresponds to 1 / (λ · rows).
   * @default 1e-4
   */
  readonly l2?: number;
  /**
   * Stop when the largest absolute entry of the objective's gradient is at most this.
   * @default 1e-5
   */
  readonly tolerance?: number;
  /**
   * Upper bound on L-BFGS iterations.
   * @default 500
   */
  readonly maxIterations?: number;
  /**
   * Number of correction pairs L-BFGS remembers.
   * @default 10
   */
  readonly historySize?: number;
  /**
   * Per-class weights multiplying the sample weights: one non-negative number per class (in class
   * order), or 'balanced' for rows / (classes × rows of the class), as scikit-learn does.
   * @default every class weighs 1
   */
  readonly classWeights?: 'balanced' | readonly number[];
  /**
   * Standardise features before fitting (mean 0, standard deviation 1; a constant feature gets coefficient 0).
   * @default true
   */
  readonly standardize?: boolean;
  /**
   * Receives one update per iteration.
   * @default silentProgress
   */
  readonly progress?: ProgressReporter;
}

/** Why the optimiser stopped. */
export type LogisticRegressionStopReason =
  /** The gradient reached the tolerance. */
  | 'converged'
  /** No step along the search direction lowers the objective any more (at double precision). */
  | 'stalled'
  /** maxIterations ran out first. */
  | 'max-iterations';

export interface LogisticRegressionResult {
  readonly model: LinearModelIR;
  /** L-BFGS iterations run. */
  readonly iterations: number;
  /** Objective evaluations (each one pass over the data). */
  readonly evaluations: number;
  readonly stopReason: LogisticRegressionStopReason;
  /** The objective (regularised weighted mean cross-entropy) at the solution. */
  readonly loss: number;
  /** Largest absolute gradient entry at the solution. */
  readonly gradientMax: number;
}

const DEFAULTS = {
  l2: 1e-4,
  tolerance: 1e-5,
  maxIterations: 500,
  historySize: 10,
  standardize: true,
} as const;

/** Armijo sufficient-decrease constant, step shrink factor and the number of shrinks before giving up. */
const ARMIJO = 1e-4;
const BACKTRACK = 0.5;
const MAX_BACKTRACKS = 40;

/**
 * Fits a multinomial logistic regression to `data` (labels index into `classes`). Throws
 * InvalidOptionsError (listing every bad option) or InvalidTrainingDataError before any work.
 */
export function trainLogisticRegression(
  data: FeatureMatrix,
  classes: readonly string[],
  options: LogisticRegressionOptions = {},
): LogisticRegressionResult {
  const classCount = classes.length;
  validateOptions(options, classes);
  validateTrainingData(data, classCount);

  const l2 = options.l2 ?? DEFAULTS.l2;
  const tolerance = options.tolerance ?? DEFAULTS.tolerance;
  const maxIterations = options.maxIterations ?? DEFAULTS.maxIterations;
  const historySize = options.historySize ?? DEFAULTS.historySize;
  const progress = options.progress ?? silentProgress;

  const featureCount = data.columns;
  const { mean, scale } = standardisation(data, options.standardize ?? DEFAULTS.standardize);
  const rowWeights = combinedWeights(data, classCount, options.classWeights);
  const objective = new Objective(data, classCount, mean, scale, rowWeights, l2);

  // θ: per class k, featureCount coefficients then the intercept.
  const stride = featureCount + 1;
  const size = classCount * stride;
  const theta = new Float64Array(size);
  const priors = classPriors(data.labels, rowWeights, classCount);
  for (let k = 0; k < classCount; k++) theta[k * stride + featureCount] = priors[k];

  const gradient = new Float64Array(size);
  let loss = objective.evaluate(theta, gradient);
  const history = new LbfgsHistory(size, historySize);
  const direction = new Float64Array(size);
  const candidate = new Float64Array(size);
  const candidateGradient = new Float64Array(size);

  progress.start('train logistic regression', maxIterations, 'iterations');
  let iterations = 0;
  let stopReason: LogisticRegressionStopReason = 'max-iterations';
  let gradientMax = maxAbs(gradient);
  while (iterations < maxIterations) {
    if (gradientMax <= tolerance) {
      stopReason = 'converged';
      break;
    }
    history.direction(gradient, direction);
    let slope = dot(gradient, direction);
    if (!(slope < 0)) {
      // Not a descent direction (curvature information gone bad): restart from steepest descent.
      history.clear();
      history.direction(gradient, direction);
      slope = dot(gradient, direction);
    }
    // The first step (and any after a restart) has no curvature scale: start from a unit-length move.
    let step = history.length === 0 ? Math.min(1, 1 / Math.sqrt(dot(gradient, gradient))) : 1;
    let accepted = false;
    let candidateLoss = loss;
    for (let attempt = 0; attempt < MAX_BACKTRACKS; attempt++) {
      for (let index = 0; index < size; index++) candidate[index] = theta[index] + step * direction[index];
      candidateLoss = objective.evaluate(candidate, candidateGradient);
      if (candidateLoss <= loss + ARMIJO * step * slope) {
        accepted = true;
        break;
      }
      step *= BACKTRACK;
    }
    iterations++;
    progress.update(iterations);
    if (!accepted || !(candidateLoss < loss)) {
      if (history.length > 0) {
        // Retry once from steepest descent before calling it stalled.
        history.clear();
        continue;
      }
      stopReason = 'stalled';
      break;
    }
    history.push(theta, candidate, gradient, candidateGradient);
    theta.set(candidate);
    gradient.set(candidateGradient);
    loss = candidateLoss;
    gradientMax = maxAbs(gradient);
  }
  if (stopReason === 'max-iterations' && gradientMax <= tolerance) stopReason = 'converged';
  progress.stop();

  return {
    model: foldStandardisation(theta, classes, featureCount, mean, scale),
    iterations,
    evaluations: objective.evaluations,
    stopReason,
    loss,
    gradientMax,
  };
}

function validateOptions(options: LogisticRegressionOptions, classes: readonly string[]): void {
  const problems = new ProblemCollector('logistic regression options');
  problems.check(classes.length >= 2, `at least 2 classes are needed, got ${classes.length}`);
  problems.check(new Set(classes).size === classes.length, 'class names must be unique');
  const { l2, tolerance, maxIterations, historySize, classWeights } = options;
  problems.check(l2 === undefined || (Number.isFinite(l2) && l2 >= 0), `l2 must be a finite number ≥ 0, got ${l2}`);
  problems.check(tolerance === undefined || (Number.isFinite(tolerance) && tolerance > 0), `tolerance must be a finite number > 0, got ${tolerance}`);
  problems.check(
    maxIterations === undefined || (Number.isInteger(maxIterations) && maxIterations >= 1),
    `maxIterations must be an integer ≥ 1, got ${maxIterations}`,
  );
  problems.check(
    historySize === undefined || (Number.isInteger(historySize) && historySize >= 1 && historySize <= 100),
    `historySize must be an integer in 1..100, got ${historySize}`,
  );
  if (classWeights !== undefined && classWeights !== 'balanced') {
    if (!Array.isArray(classWeights)) {
      problems.check(false, `classWeights must be 'balanced' or an array of numbers, got ${JSON.stringify(classWeights)}`);
    } else {
      problems.check(classWeights.length === classes.length, `classWeights has ${classWeights.length} entries, expected one per class (${classes.length})`);
      problems.check(classWeights.every((weight) => Number.isFinite(weight) && weight >= 0), 'classWeights must be finite numbers ≥ 0');
      problems.check(classWeights.some((weight) => weight > 0), 'at least one class weight must be > 0');
    }
  }
  problems.throwIfAny();
}

/** Column means and 1/std (population std over the training rows); a constant column gets scale 0. */
function standardisation(data: FeatureMatrix, enabled: boolean): { mean: Float64Array; scale: Float64Array } {
  const { rows, columns, values } = data;
  const mean = new Float64Array(columns);
  const scale = new Float64Array(columns).fill(1);
  if (!enabled) return { mean, scale };
  for (let row = 0; row < rows; row++) {
    const offset = row * columns;
    for (let j = 0; j < columns; j++) mean[j] += values[offset + j];
  }
  for (let j = 0; j < columns; j++) mean[j] /= rows;
  const squares = new Float64Array(columns);
  for (let row = 0; row < rows; row++) {
    const offset = row * columns;
    for (let j = 0; j < columns; j++) {
      const deviation = values[offset + j] - mean[j];
      squares[j] += deviation * deviation;
    }
  }
  for (let j = 0; j < columns; j++) {
    const std = Math.sqrt(squares[j] / rows);
    // Relative test: a column whose spread is rounding noise of its mean is constant.
    scale[j] = std > 1e-12 * Math.max(1, Math.abs(mean[j])) ? 1 / std : 0;
  }
  return { mean, scale };
}

/** Sample weight × class weight per row. */
function combinedWeights(data: FeatureMatrix, classCount: number, classWeights: LogisticRegressionOptions['classWeights']): Float64Array {
  const { rows, labels, weights } = data;
  let perClass: readonly number[];
  if (classWeights === 'balanced') {
    const counts = new Float64Array(classCount);
    for (const label of labels) counts[label]++;
    perClass = Array.from(counts, (count) => (count > 0 ? rows / (classCount * count) : 0));
  } else {
    perClass = classWeights ?? new Array<number>(classCount).fill(1);
  }
  const combined = new Float64Array(rows);
  for (let row = 0; row < rows; row++) combined[row] = (weights === undefined ? 1 : weights[row]) * perClass[labels[row]];
  return combined;
}

/** Centred log class priors (weighted): the best intercepts when the coefficients are 0. */
function classPriors(labels: Int32Array, rowWeights: Float64Array, classCount: number): Float64Array {
  const totals = new Float64Array(classCount);
  let all = 0;
  for (let row = 0; row < labels.length; row++) {
    totals[labels[row]] += rowWeights[row];
    all += rowWeights[row];
  }
  const logs = Array.from(totals, (total) => Math.log(Math.max(total / all, 1e-12)));
  const centre = logs.reduce((sum, value) => sum + value, 0) / classCount;
  return Float64Array.from(logs, (value) => value - centre);
}

/**
 * The regularised objective and its gradient, one pass over the rows per evaluation. The rows are not
 * standardised one by one: θ (standardised space) is mapped to raw-feature coefficients once per
 * evaluation, scores and gradient sums run on the raw float32 rows, and the gradient is mapped back:
 * ∂/∂w_kj = scale_j · (Σᵢ rᵢₖ xᵢⱼ − mean_j · Σᵢ rᵢₖ), with rᵢₖ = wᵢ (pᵢₖ − [yᵢ = k]). All sums in double.
 */
class Objective {
  evaluations = 0;
  private readonly rawCoefficients: Float64Array;
  private readonly rawIntercepts: Float64Array;
  private readonly scores: Float64Array;
  private readonly residualSums: Float64Array;
  private readonly totalWeight: number;

  constructor(
    private readonly data: FeatureMatrix,
    private readonly classCount: number,
    private readonly mean: Float64Array,
    private readonly scale: Float64Array,
    private readonly rowWeights: Float64Array,
    private readonly l2: number,
  ) {
    this.rawCoefficients = new Float64Array(classCount * data.columns);
    this.rawIntercepts = new Float64Array(classCount);
    this.scores = new Float64Array(classCount);
    this.residualSums = new Float64Array(classCount);
    this.totalWeight = rowWeights.reduce((sum, weight) => sum + weight, 0);
  }

  /** Returns the objective at θ and writes its gradient into `gradient`. */
  evaluate(theta: Float64Array, gradient: Float64Array): number {
    this.evaluations++;
    const { rows, columns, values, labels } = this.data;
    const { classCount, mean, scale, rowWeights, scores, rawCoefficients: coefficients, rawIntercepts: intercepts, residualSums } = this;
    const stride = columns + 1;
    for (let k = 0; k < classCount; k++) {
      let intercept = theta[k * stride + columns];
      for (let j = 0; j < columns; j++) {
        const coefficient = theta[k * stride + j] * scale[j];
        coefficients[k * columns + j] = coefficient;
        intercept -= coefficient * mean[j];
      }
      intercepts[k] = intercept;
    }
    // Raw sums Σᵢ rᵢₖ xᵢⱼ go into the coefficient slots of `gradient` (layout k·stride + j).
    gradient.fill(0);
    residualSums.fill(0);
    let loss = 0;
    for (let row = 0; row < rows; row++) {
      const weight = rowWeights[row];
      if (weight === 0) continue;
      const offset = row * columns;
      let max = -Infinity;
      for (let k = 0; k < classCount; k++) {
        const base = k * columns;
        let score = intercepts[k];
        for (let j = 0; j < columns; j++) score += coefficients[base + j] * values[offset + j];
        scores[k] = score;
        if (score > max) max = score;
      }
      const label = labels[row];
      const labelScore = scores[label] - max;
      let sum = 0;
      for (let k = 0; k < classCount; k++) {
        const exponential = Math.exp(scores[k] - max);
        scores[k] = exponential;
        sum += exponential;
      }
      // -log p_label = log Σ exp(s − max) − (s_label − max): no underflow for confidently wrong rows.
      loss += weight * (Math.log(sum) - labelScore);
      for (let k = 0; k < classCount; k++) {
        const residual = weight * (scores[k] / sum - (k === label ? 1 : 0));
        const base = k * stride;
        for (let j = 0; j < columns; j++) gradient[base + j] += residual * values[offset + j];
        residualSums[k] += residual;
      }
    }
    const inverseTotal = 1 / this.totalWeight;
    let penalty = 0;
    for (let k = 0; k < classCount; k++) {
      const base = k * stride;
      for (let j = 0; j < columns; j++) {
        const coefficient = theta[base + j];
        penalty += coefficient * coefficient;
        gradient[base + j] = scale[j] * (gradient[base + j] - mean[j] * residualSums[k]) * inverseTotal + this.l2 * coefficient;
      }
      gradient[base + columns] = residualSums[k] * inverseTotal;
    }
    return loss * inverseTotal + 0.5 * this.l2 * penalty;
  }
}

/** L-BFGS correction pairs (s = Δθ, y = Δgradient) in a ring, and the two-loop recursion. */
class LbfgsHistory {
  length = 0;
  private readonly steps: Float64Array[];
  private readonly changes: Float64Array[];
  private readonly inverseCurvatures: Float64Array;
  private readonly alphas: Float64Array;
  private newest = -1;

  constructor(private readonly size: number, private readonly capacity: number) {
    this.steps = Array.from({ length: capacity }, () => new Float64Array(size));
    this.changes = Array.from({ length: capacity }, () => new Float64Array(size));
    this.inverseCurvatures = new Float64Array(capacity);
    this.alphas = new Float64Array(capacity);
  }

  clear(): void {
    this.length = 0;
    this.newest = -1;
  }

  /** Records a step from θ to θ' unless its curvature sᵀy is not clearly positive. */
  push(theta: Float64Array, nextTheta: Float64Array, gradient: Float64Array, nextGradient: Float64Array): void {
    const slot = (this.newest + 1) % this.capacity;
    const step = this.steps[slot];
    const change = this.changes[slot];
    let curvature = 0;
    let stepNorm = 0;
    let changeNorm = 0;
    for (let index = 0; index < this.size; index++) {
      step[index] = nextTheta[index] - theta[index];
      change[index] = nextGradient[index] - gradient[index];
      curvature += step[index] * change[index];
      stepNorm += step[index] * step[index];
      changeNorm += change[index] * change[index];
    }
    if (!(curvature > 1e-10 * Math.sqrt(stepNorm * changeNorm))) return;
    this.inverseCurvatures[slot] = 1 / curvature;
    this.newest = slot;
    this.length = Math.min(this.length + 1, this.capacity);
  }

  /** direction = -H·gradient, H the L-BFGS inverse-Hessian approximation (the identity when empty). */
  direction(gradient: Float64Array, direction: Float64Array): void {
    const { size, capacity } = this;
    for (let index = 0; index < size; index++) direction[index] = -gradient[index];
    let slot = this.newest;
    for (let count = 0; count < this.length; count++) {
      const alpha = this.inverseCurvatures[slot] * dot(this.steps[slot], direction);
      this.alphas[slot] = alpha;
      const change = this.changes[slot];
      for (let index = 0; index < size; index++) direction[index] -= alpha * change[index];
      slot = (slot - 1 + capacity) % capacity;
    }
    if (this.length > 0) {
      // Initial inverse Hessian γI with γ = sᵀy / yᵀy of the newest pair.
      const newestChange = this.changes[this.newest];
      const gamma = 1 / (this.inverseCurvatures[this.newest] * dot(newestChange, newestChange));
      for (let index = 0; index < size; index++) direction[index] *= gamma;
    }
    slot = (this.newest - this.length + 1 + capacity) % capacity;
    for (let count = 0; count < this.length; count++) {
      const beta = this.inverseCurvatures[slot] * dot(this.changes[slot], direction);
      const step = this.steps[slot];
      const alpha = this.alphas[slot];
      for (let index = 0; index < size; index++) direction[index] += (alpha - beta) * step[index];
      slot = (slot + 1) % capacity;
    }
  }
}

/** Raw-feature coefficients: c_kj = w_kj · scale_j, intercept_k = b_k − Σ_j c_kj · mean_j. */
function foldStandardisation(
  theta: Float64Array,
  classes: readonly string[],
  featureCount: number,
  mean: Float64Array,
  scale: Float64Array,
): LinearModelIR {
  const classCount = classes.length;
  const stride = featureCount + 1;
  const coefficients = new Float32Array(classCount * featureCount);
  const intercepts = new Float32Array(classCount);
  for (let k = 0; k < classCount; k++) {
    let intercept = theta[k * stride + featureCount];
    for (let j = 0; j < featureCount; j++) {
      coefficients[k * featureCount + j] = theta[k * stride + j] * scale[j];
      // The float32 coefficient, so that intercept + Σ c·x reproduces the fitted scores as closely as float32 allows.
      intercept -= coefficients[k * featureCount + j] * mean[j];
    }
    intercepts[k] = intercept;
  }
  return { kind: 'linear', classes: [...classes], featureCount, coefficients, intercepts };
}

function dot(left: Float64Array, right: Float64Array): number {
  let sum = 0;
  for (let index = 0; index < left.length; index++) sum += left[index] * right[index];
  return sum;
}

function maxAbs(values: Float64Array): number {
  let max = 0;
  for (const value of values) max = Math.max(max, Math.abs(value));
  return max;
}
