import type { FeatureMatrix, TreeEnsembleIR, TreeIR } from '../../core/training/model';

/** A small seeded PRNG (mulberry32): uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0; // eslint-disable-line no-bitwise
  /* eslint-disable no-bitwise */
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  /* eslint-enable no-bitwise */
}

/** Standard normal via Box–Muller. */
export function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

export interface SyntheticOptions {
  readonly rows: number;
  readonly columns: number;
  readonly classes: number;
  readonly seed: number;
  /** Scale of the true class weights: larger = easier. */
  readonly signal: number;
  /**
   * Spread of the features' means, in units of their own standard deviation (0: centred features).
   * Large values make the folded raw-feature coefficients cancel in float32 (see the LR bench).
   * @default 0
   */
  readonly offsetSpread?: number;
  /** Spread of log(standard deviation) across features (0: all 1). @default 0 */
  readonly scaleSpread?: number;
}

/**
 * Rows drawn from a true multinomial logistic model with random weights: labels are sampled from the
 * softmax, so the problem is learnable but noisy (use a large `signal` for a nearly separable one).
 */
export function syntheticClassification(options: SyntheticOptions): FeatureMatrix {
  const { rows, columns, classes, seed, signal } = options;
  const random = seededRandom(seed);
  const truth = Float64Array.from({ length: classes * columns }, () => gaussian(random) * signal);
  const scales = Float64Array.from({ length: columns }, () => Math.exp(gaussian(random) * (options.scaleSpread ?? 0)));
  const offsets = Float64Array.from(scales, (scale) => gaussian(random) * (options.offsetSpread ?? 0) * scale);
  const values = new Float32Array(rows * columns);
  const labels = new Int32Array(rows);
  const scores = new Float64Array(classes);
  for (let row = 0; row < rows; row++) {
    for (let j = 0; j < columns; j++) values[row * columns + j] = offsets[j] + gaussian(random) * scales[j];
    let max = -Infinity;
    for (let k = 0; k < classes; k++) {
      let score = 0;
      for (let j = 0; j < columns; j++) score += truth[k * columns + j] * ((values[row * columns + j] - offsets[j]) / scales[j]);
      scores[k] = score;
      max = Math.max(max, score);
    }
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += (scores[k] = Math.exp(scores[k] - max));
    let draw = random() * sum;
    let label = 0;
    while (label < classes - 1 && draw >= scores[label]) draw -= scores[label++];
    labels[row] = label;
  }
  return { rows, columns, values, labels };
}

/**
 * A random tree of up to `depth` levels whose thresholds are feature values of `data`'s rows (so some
 * rows fall exactly on thresholds) and whose leaves hold random values (zeros among them).
 */
export function randomTree(data: FeatureMatrix, classCount: number, depth: number, random: () => number, classOnly?: number): TreeIR {
  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const value: number[] = [];
  const grow = (level: number): number => {
    const node = feature.length;
    feature.push(-1);
    threshold.push(0);
    left.push(0);
    right.push(0);
    for (let k = 0; k < classCount; k++) value.push(0);
    if (level < depth && random() < 0.85) {
      const column = Math.floor(random() * data.columns);
      feature[node] = column;
      threshold[node] = data.values[Math.floor(random() * data.rows) * data.columns + column];
      left[node] = grow(level + 1);
      right[node] = grow(level + 1);
    } else {
      for (let k = 0; k < classCount; k++) {
        if (classOnly !== undefined && k !== classOnly) continue;
        value[node * classCount + k] = random() < 0.1 ? 0 : gaussian(random);
      }
    }
    return node;
  };
  grow(0);
  return {
    feature: Int32Array.from(feature),
    threshold: Float32Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    value: Float32Array.from(value),
  };
}

/** A random ensemble over `data`: 'softmax' trees score one class each (GBDT-style), 'none' trees all classes. */
export function randomEnsemble(
  data: FeatureMatrix,
  options: { readonly trees: number; readonly depth: number; readonly seed: number; readonly postTransform: 'softmax' | 'none' },
): TreeEnsembleIR {
  const random = seededRandom(options.seed);
  const classes = ['LA', 'MM', 'UM'];
  const trees = Array.from({ length: options.trees }, (_, index) =>
    randomTree(data, classes.length, options.depth, random, options.postTransform === 'softmax' ? index % classes.length : undefined),
  );
  return {
    kind: 'trees',
    classes,
    featureCount: data.columns,
    trees,
    baseValues: Float32Array.from(classes, () => gaussian(random)),
    postTransform: options.postTransform,
  };
}
