/**
 * Batch scoring of a tree-ensemble ONNX model without per-node branches.
 *
 * ONNX Runtime walks each tree node by node with a data-dependent branch per level; on real feature
 * rows about half of those branches are mispredicted, which is most of its cost (≈ 5 µs per row for
 * the default GBDT: 85 rounds × 3 classes, depth 6). Here every tree is laid out as a perfect binary
 * tree (shallower leaves copied down to the full depth), so a row's path is pure arithmetic,
 * `node = 2·node + 1 + (x > threshold)`, and eight rows walk the same tree at once so their loads
 * overlap. Same model bytes, same comparisons (float32 `x <= threshold` goes left, NaN goes right, as
 * ORT's BRANCH_LEQ), same aggregation and post-transform.
 *
 * Only what this layout handles is compiled: one TreeEnsembleClassifier node, every split
 * BRANCH_LEQ, no missing-value routing, depth ≤ MAX_COMPILED_DEPTH, ≥ 3 classes, post_transform NONE
 * or SOFTMAX. Anything else (and every linear model) is scored by ONNX Runtime. Callers check the
 * result against ONNX Runtime on a sample of rows (see `predict`), so ORT stays the reference.
 */
import { onnx } from 'onnx-proto';
import { INPUT_NAME, ML_DOMAIN, PROBABILITIES_OUTPUT_NAME } from './graph';

/** Deeper trees would need 2^depth slots per tree; they are left to ONNX Runtime. */
export const MAX_COMPILED_DEPTH = 10;

/** Rows that walk a tree together. */
const ROW_BLOCK = 64;

/** Why a model is not compiled, or the compiled model. */
export type CompileResult = { readonly compiled: CompiledTreeEnsemble; readonly reason?: undefined } | { readonly compiled?: undefined; readonly reason: string };

interface TreeAttributes {
  readonly treeIds: number[];
  readonly nodeIds: number[];
  readonly featureIds: number[];
  readonly values: number[];
  readonly modes: string[];
  readonly trueIds: number[];
  readonly falseIds: number[];
  readonly classTreeIds: number[];
  readonly classNodeIds: number[];
  readonly classIds: number[];
  readonly classWeights: number[];
  readonly baseValues: number[];
  readonly classCount: number;
  readonly postTransform: string;
  readonly missingTracksTrue: number[];
}

export class CompiledTreeEnsemble {
  /** Compiles the model when its graph is a tree ensemble this layout handles. */
  static fromOnnx(bytes: Uint8Array): CompileResult {
    const model = onnx.ModelProto.decode(bytes);
    const nodes = model.graph?.node ?? [];
    if (nodes.length !== 1) return { reason: `the graph has ${nodes.length} nodes, not one tree ensemble` };
    const node = nodes[0];
    if (node.opType !== 'TreeEnsembleClassifier' || node.domain !== ML_DOMAIN) return { reason: `${node.domain ?? ''}.${node.opType ?? ''} is not a TreeEnsembleClassifier` };
    if (node.input?.[0] !== INPUT_NAME || !node.output?.includes(PROBABILITIES_OUTPUT_NAME)) return { reason: 'the node does not map features to probabilities' };
    const attributes = readAttributes(node);
    if (attributes.classCount < 3) return { reason: `${attributes.classCount} classes (binary ensembles have ORT-specific score layouts)` };
    if (attributes.postTransform !== 'NONE' && attributes.postTransform !== 'SOFTMAX') return { reason: `post_transform ${attributes.postTransform}` };
    if (attributes.missingTracksTrue.some((value) => value !== 0)) return { reason: 'missing values routed to the true branch' };
    const unsupported = attributes.modes.find((mode) => mode !== 'BRANCH_LEQ' && mode !== 'LEAF');
    if (unsupported) return { reason: `split mode ${unsupported}` };
    return buildLayout(attributes);
  }

  /** Use `fromOnnx`. */
  constructor(
    readonly treeCount: number,
    readonly depth: number,
    readonly classCount: number,
    /** Per tree, 2^depth − 1 split features and thresholds in breadth-first order. */
    private readonly features: Int32Array,
    private readonly thresholds: Float32Array,
    /** Per tree, the single class its leaves score, or -1 when they score several. */
    private readonly treeClass: Int32Array,
    /** Per tree, 2^depth leaves × classCount weights. */
    private readonly leafWeights: Float32Array,
    /** Per tree, 2^depth weights of its single class (trees that score one class only). */
    private readonly singleWeights: Float32Array,
    private readonly baseValues: Float64Array,
    private readonly softmax: boolean,
  ) {}

  /** Probabilities (rows × classes) of row-major `values` (rows × featureCount). */
  score(values: Float32Array, rows: number, featureCount: number): Float32Array {
    const classes = this.classCount;
    const sums = new Float32Array(rows * classes);
    for (let start = 0; start < rows; start += ROW_BLOCK) this.scoreBlock(values, featureCount, start, Math.min(rows, start + ROW_BLOCK), sums);
    const out = new Float32Array(rows * classes);
    const scores = new Float64Array(classes);
    for (let row = 0; row < rows; row++) {
      let top = -Infinity;
      for (let k = 0; k < classes; k++) {
        scores[k] = sums[row * classes + k] + this.baseValues[k];
        if (scores[k] > top) top = scores[k];
      }
      if (!this.softmax) {
        for (let k = 0; k < classes; k++) out[row * classes + k] = scores[k];
        continue;
      }
      let total = 0;
      for (let k = 0; k < classes; k++) {
        scores[k] = Math.exp(scores[k] - top);
        total += scores[k];
      }
      for (let k = 0; k < classes; k++) out[row * classes + k] = scores[k] / total;
    }
    return out;
  }

  /** Adds every tree's leaf weights for rows start … end - 1 into `sums` (float32, as ORT sums). */
  private scoreBlock(x: Float32Array, width: number, start: number, end: number, sums: Float32Array): void {
    const depth = this.depth;
    const inner = (1 << depth) - 1;
    const leaves = 1 << depth;
    const classes = this.classCount;
    const features = this.features;
    const thresholds = this.thresholds;
    const weights = this.leafWeights;
    const singles = this.singleWeights;
    const unrolledEnd = start + ((end - start) & ~7);
    for (let tree = 0; tree < this.treeCount; tree++) {
      const nodeBase = tree * inner;
      const leafBase = tree * leaves * classes - inner * classes;
      const single = this.treeClass[tree];
      const singleBase = tree * leaves - inner;
      let row = start;
      // Eight rows at a time: independent walks, so the CPU overlaps their loads.
      for (; row < unrolledEnd; row += 8) {
        const r0 = row * width;
        const r1 = r0 + width;
        const r2 = r1 + width;
        const r3 = r2 + width;
        const r4 = r3 + width;
        const r5 = r4 + width;
        const r6 = r5 + width;
        const r7 = r6 + width;
        let n0 = 0;
        let n1 = 0;
        let n2 = 0;
        let n3 = 0;
        let n4 = 0;
        let n5 = 0;
        let n6 = 0;
        let n7 = 0;
        for (let level = 0; level < depth; level++) {
          n0 = 2 * n0 + 2 - +(x[r0 + features[nodeBase + n0]] <= thresholds[nodeBase + n0]);
          n1 = 2 * n1 + 2 - +(x[r1 + features[nodeBase + n1]] <= thresholds[nodeBase + n1]);
          n2 = 2 * n2 + 2 - +(x[r2 + features[nodeBase + n2]] <= thresholds[nodeBase + n2]);
          n3 = 2 * n3 + 2 - +(x[r3 + features[nodeBase + n3]] <= thresholds[nodeBase + n3]);
          n4 = 2 * n4 + 2 - +(x[r4 + features[nodeBase + n4]] <= thresholds[nodeBase + n4]);
          n5 = 2 * n5 + 2 - +(x[r5 + features[nodeBase + n5]] <= thresholds[nodeBase + n5]);
          n6 = 2 * n6 + 2 - +(x[r6 + features[nodeBase + n6]] <= thresholds[nodeBase + n6]);
          n7 = 2 * n7 + 2 - +(x[r7 + features[nodeBase + n7]] <= thresholds[nodeBase + n7]);
        }
        if (single >= 0) {
          const out = row * classes + single;
          sums[out] += singles[singleBase + n0];
          sums[out + classes] += singles[singleBase + n1];
          sums[out + 2 * classes] += singles[singleBase + n2];
          sums[out + 3 * classes] += singles[singleBase + n3];
          sums[out + 4 * classes] += singles[singleBase + n4];
          sums[out + 5 * classes] += singles[singleBase + n5];
          sums[out + 6 * classes] += singles[singleBase + n6];
          sums[out + 7 * classes] += singles[singleBase + n7];
        } else {
          const reached = [n0, n1, n2, n3, n4, n5, n6, n7];
          for (let offset = 0; offset < 8; offset++) {
            const leaf = leafBase + reached[offset] * classes;
            const out = (row + offset) * classes;
            for (let k = 0; k < classes; k++) sums[out + k] += weights[leaf + k];
          }
        }
      }
      for (; row < end; row++) {
        const base = row * width;
        let node = 0;
        for (let level = 0; level < depth; level++) node = 2 * node + 2 - +(x[base + features[nodeBase + node]] <= thresholds[nodeBase + node]);
        const leaf = leafBase + node * classes;
        const out = row * classes;
        if (single >= 0) sums[out + single] += weights[leaf + single];
        else for (let k = 0; k < classes; k++) sums[out + k] += weights[leaf + k];
      }
    }
  }
}

function readAttributes(node: onnx.INodeProto): TreeAttributes {
  const byName = new Map((node.attribute ?? []).map((attribute) => [attribute.name ?? '', attribute]));
  const ints = (name: string): number[] => (byName.get(name)?.ints ?? []).map(Number);
  const floats = (name: string): number[] => Array.from(byName.get(name)?.floats ?? []);
  const strings = (name: string): string[] => (byName.get(name)?.strings ?? []).map((value) => Buffer.from(value).toString('utf8'));
  const text = (name: string, fallback: string): string => {
    const value = byName.get(name)?.s;
    return value && value.length > 0 ? Buffer.from(value).toString('utf8') : fallback;
  };
  const labels = Math.max(ints('classlabels_int64s').length, strings('classlabels_strings').length);
  return {
    treeIds: ints('nodes_treeids'),
    nodeIds: ints('nodes_nodeids'),
    featureIds: ints('nodes_featureids'),
    values: floats('nodes_values'),
    modes: strings('nodes_modes'),
    trueIds: ints('nodes_truenodeids'),
    falseIds: ints('nodes_falsenodeids'),
    classTreeIds: ints('class_treeids'),
    classNodeIds: ints('class_nodeids'),
    classIds: ints('class_ids'),
    classWeights: floats('class_weights'),
    baseValues: floats('base_values'),
    classCount: labels,
    postTransform: text('post_transform', 'NONE'),
    missingTracksTrue: ints('nodes_missing_value_tracks_true'),
  };
}

function buildLayout(attributes: TreeAttributes): CompileResult {
  const classes = attributes.classCount;
  // node index by (tree, node id)
  const index = new Map<number, Map<number, number>>();
  attributes.treeIds.forEach((tree, position) => {
    let nodes = index.get(tree);
    if (!nodes) index.set(tree, (nodes = new Map()));
    nodes.set(attributes.nodeIds[position], position);
  });
  const trees = [...index.keys()].sort((a, b) => a - b);
  if (trees.some((tree, position) => tree !== position)) return { reason: 'tree ids are not 0 … n-1' };
  const leafWeights = new Map<string, Float64Array>();
  attributes.classTreeIds.forEach((tree, position) => {
    const key = `${tree}:${attributes.classNodeIds[position]}`;
    let weights = leafWeights.get(key);
    if (!weights) leafWeights.set(key, (weights = new Float64Array(classes)));
    weights[attributes.classIds[position]] += attributes.classWeights[position];
  });
  const depthOf = (tree: number, nodeId: number, seen: number): number => {
    const position = index.get(tree)?.get(nodeId);
    if (position === undefined || seen > MAX_COMPILED_DEPTH) return Infinity;
    if (attributes.modes[position] === 'LEAF') return 0;
    return 1 + Math.max(depthOf(tree, attributes.trueIds[position], seen + 1), depthOf(tree, attributes.falseIds[position], seen + 1));
  };
  const depth = Math.max(1, ...trees.map((tree) => depthOf(tree, 0, 0)));
  if (depth > MAX_COMPILED_DEPTH) return { reason: `trees deeper than ${MAX_COMPILED_DEPTH} levels (or malformed)` };

  const inner = (1 << depth) - 1;
  const leaves = 1 << depth;
  const features = new Int32Array(trees.length * inner);
  const thresholds = new Float32Array(trees.length * inner).fill(Infinity);
  const weights = new Float32Array(trees.length * leaves * classes);
  const treeClass = new Int32Array(trees.length).fill(-1);
  const singleWeights = new Float32Array(trees.length * leaves);
  for (const tree of trees) {
    const scored = new Set<number>();
    const place = (nodeId: number, slot: number, level: number): void => {
      const position = index.get(tree)!.get(nodeId)!;
      if (attributes.modes[position] !== 'LEAF') {
        features[tree * inner + slot] = attributes.featureIds[position];
        thresholds[tree * inner + slot] = attributes.values[position];
        place(attributes.trueIds[position], 2 * slot + 1, level + 1);
        place(attributes.falseIds[position], 2 * slot + 2, level + 1);
        return;
      }
      // A leaf above the full depth fills every slot beneath it (the padding splits never matter).
      const leafWeight = leafWeights.get(`${tree}:${nodeId}`);
      const span = 1 << (depth - level);
      const firstLeaf = (slot + 1) * span - 1 - inner;
      for (let offset = 0; offset < span; offset++) {
        for (let k = 0; k < classes; k++) {
          const value = leafWeight?.[k] ?? 0;
          weights[(tree * leaves + firstLeaf + offset) * classes + k] = value;
          if (value !== 0) scored.add(k);
        }
      }
    };
    place(0, 0, 0);
    if (scored.size <= 1) {
      const single = scored.size === 1 ? [...scored][0] : 0;
      treeClass[tree] = single;
      for (let leaf = 0; leaf < leaves; leaf++) singleWeights[tree * leaves + leaf] = weights[(tree * leaves + leaf) * classes + single];
    }
  }
  const baseValues = new Float64Array(classes);
  attributes.baseValues.forEach((value, position) => {
    if (position < classes) baseValues[position] = value;
  });
  return {
    compiled: new CompiledTreeEnsemble(trees.length, depth, classes, features, thresholds, treeClass, weights, singleWeights, baseValues, attributes.postTransform === 'SOFTMAX'),
  };
}
