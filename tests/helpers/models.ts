/** Hand-built model IRs (small enough to compute by hand) and rows that sit on their thresholds. */
import type { TreeEnsembleIR, TreeIR } from '../../core/training/model';

export const CLASSES = ['LA', 'MM', 'UM'];

/** One node: an internal split `x[feature] <= threshold ? left : right`, or a leaf with one value per class. */
export type NodeSpec =
  | { readonly split: readonly [feature: number, threshold: number, left: number, right: number] }
  | { readonly leaf: readonly number[] };

export function buildTree(nodes: readonly NodeSpec[], classCount = CLASSES.length): TreeIR {
  const tree = {
    feature: new Int32Array(nodes.length),
    threshold: new Float32Array(nodes.length),
    left: new Int32Array(nodes.length),
    right: new Int32Array(nodes.length),
    value: new Float32Array(nodes.length * classCount),
  };
  nodes.forEach((node, index) => {
    if ('leaf' in node) {
      tree.feature[index] = -1;
      tree.value.set(node.leaf, index * classCount);
    } else {
      [tree.feature[index], tree.threshold[index], tree.left[index], tree.right[index]] = node.split;
    }
  });
  return tree;
}

/** The next float32 above `value` (value finite, ≥ 0 handled via the bit pattern). */
export function float32After(value: number): number {
  const buffer = Float32Array.of(value);
  const bits = new Int32Array(buffer.buffer);
  if (value === 0) return 1.401298464324817e-45;
  bits[0] += value > 0 ? 1 : -1;
  return buffer[0];
}

/** The next float32 below a positive `value`. */
export function float32Before(value: number): number {
  const buffer = Float32Array.of(value);
  const bits = new Int32Array(buffer.buffer);
  bits[0] += value > 0 ? -1 : 1;
  return buffer[0];
}

/** The float32 nearest 0.1: a threshold that is not a "round" double. */
export const TENTH = Math.fround(0.1);

/** Leaf values of the single tree, by node. */
export const SINGLE_TREE_LEAVES = { 2: [0.1, 0.2, 0.7], 3: [0.8, 0.1, 0.1], 4: [0.2, 0.6, 0.2] } as const;

/** x0 <= 0.5 ? (x1 <= float32(0.1) ? leaf 3 : leaf 4) : leaf 2 */
export function singleTree(scale = 1): TreeIR {
  const leaf = (node: 2 | 3 | 4) => ({ leaf: SINGLE_TREE_LEAVES[node].map((value) => value * scale) });
  return buildTree([{ split: [0, 0.5, 1, 2] }, { split: [1, TENTH, 3, 4] }, leaf(2), leaf(3), leaf(4)]);
}

export function singleTreeEnsemble(): TreeEnsembleIR {
  return { kind: 'trees', classes: CLASSES, featureCount: 2, trees: [singleTree()], baseValues: new Float32Array(3), postTransform: 'none' };
}

/** Three trees holding class frequencies already divided by 3 (so their sum is the average), one a lone leaf. */
export function randomForestEnsemble(): TreeEnsembleIR {
  const third = 1 / 3;
  return {
    kind: 'trees',
    classes: CLASSES,
    featureCount: 2,
    trees: [
      singleTree(third),
      buildTree([{ split: [1, 0, 1, 2] }, { leaf: [third, 0, 0] }, { leaf: [0, 0.5 * third, 0.5 * third] }]),
      buildTree([{ leaf: [0.2 * third, 0.3 * third, 0.5 * third] }]),
    ],
    baseValues: new Float32Array(3),
    postTransform: 'none',
  };
}

/** Two boosting rounds × one tree per class (values only in the tree's own class, one leaf exactly 0), softmax. */
export function gbdtEnsemble(): TreeEnsembleIR {
  const only = (classIndex: number, value: number): number[] => CLASSES.map((_, k) => (k === classIndex ? value : 0));
  const trees: TreeIR[] = [];
  for (let round = 0; round < 2; round++) {
    for (let k = 0; k < CLASSES.length; k++) {
      const sign = k % 2 === 0 ? 1 : -1;
      trees.push(
        buildTree([
          { split: [round, round === 0 ? 0.5 : TENTH, 1, 2] },
          { split: [1 - round, 0, 3, 4] },
          { leaf: only(k, 0.4 * sign - 0.1 * round) },
          { leaf: only(k, round === 1 && k === 1 ? 0 : -0.3 * sign) },
          { leaf: only(k, 0.25 + 0.05 * k) },
        ]),
      );
    }
  }
  return { kind: 'trees', classes: CLASSES, featureCount: 2, trees, baseValues: Float32Array.of(-1.2, 0.3, -0.5), postTransform: 'softmax' };
}

/**
 * Two-feature rows on, just above and just below the thresholds 0.5 and float32(0.1) (and 0), plus -0,
 * NaN, ±Infinity and huge values.
 */
export function thresholdRows(): { values: Float32Array; rows: number } {
  const rows: [number, number][] = [
    [0.5, TENTH],
    [float32After(0.5), 0],
    [0.5, float32After(TENTH)],
    [-0, TENTH],
    [Number.NaN, 0],
    [0.4, Number.NaN],
    [-1e30, -Infinity],
    [Infinity, 0],
    [float32Before(0.5), float32Before(TENTH)],
    [0, -0],
    [TENTH, 0.5],
    [float32After(TENTH), float32After(0)],
  ];
  return { values: Float32Array.from(rows.flat()), rows: rows.length };
}
