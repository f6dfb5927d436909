/**
 * The XGBoost importer: a multi-class XGBoost model (what SageMaker's built-in XGBoost algorithm
 * trains) → the project's TreeEnsembleIR → ONNX. No XGBoost library is needed: both of XGBoost's
 * model files are read directly.
 *
 * - JSON (`save_model('x.json')`, XGBoost ≥ 1.0): `learner.gradient_booster.model.trees[*]` with
 *   `split_indices`, `split_conditions`, `left_children`, `right_children`, `default_left`, and
 *   `tree_info` (the class of each tree).
 * - The legacy binary format (`save_model('xgboost-model')` without a `.json` extension, which is
 *   what SageMaker's 1.7-1 container writes): `binf`, LearnerModelParamLegacy (136 bytes), the
 *   objective and booster names, GBTreeModelParam (160 bytes), per tree a TreeParam (148 bytes),
 *   its nodes (20 bytes each) and node statistics (16 bytes each), then `tree_info` and the
 *   attributes (`best_iteration`, …). Layout as in XGBoost 1.7's learner.cc / gbtree_model.cc /
 *   tree_model.cc, little-endian.
 *
 * Semantics. XGBoost sends a row left when `x < split_condition` (float32); the IR and ONNX's
 * BRANCH_LEQ send it left when `x <= threshold`. For float32 x, `x < t` ⟺ `x <= nextDown(t)`, so
 * every threshold becomes the next float32 below it and routing is identical. A leaf's value (in
 * `split_conditions`) is added to the margin of its tree's class; every class starts at
 * `base_score` (multi:softprob's margin transform is the identity); probabilities are the softmax.
 * Missing values (NaN) would follow `default_left` in XGBoost but go right in the IR: the
 * project's features never produce them, and the importer does not pretend otherwise.
 */
import { ProblemCollector, RetailMlopsError } from '../errors';
import { exportOnnx, UnsupportedModelError } from './export';
import type { OnnxModelMetadata } from './metadata';
import type { TreeEnsembleIR, TreeIR } from '../training/model';

/** The bytes are not an XGBoost model this importer understands. */
export class XGBoostModelError extends RetailMlopsError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('XGBOOST_MODEL_INVALID', message, options);
  }
}

/** One XGBoost tree as stored (node arrays indexed by XGBoost's node id). */
export interface XGBoostTree {
  readonly leftChildren: Int32Array;
  readonly rightChildren: Int32Array;
  readonly splitIndices: Int32Array;
  /** Split threshold of an internal node, leaf value of a leaf (float32). */
  readonly splitConditions: Float32Array;
  readonly defaultLeft: Uint8Array;
}

/** An XGBoost gbtree model, read from either file format. */
export interface XGBoostModel {
  readonly format: 'json' | 'binary';
  readonly objective: string;
  readonly booster: string;
  readonly numClass: number;
  readonly numFeature: number;
  /** The untransformed base score (multi:softprob: the margin every class starts from). */
  readonly baseScore: number;
  /** Trees grown per round for each class (random forests in boosting). */
  readonly numParallelTree: number;
  readonly trees: readonly XGBoostTree[];
  /** The class (output group) of each tree. */
  readonly treeClasses: Int32Array;
  /** The learner's attributes, e.g. `best_iteration` after early stopping. */
  readonly attributes: Readonly<Record<string, string>>;
}

const MULTICLASS_OBJECTIVES = new Set(['multi:softprob', 'multi:softmax']);

/** Reads an XGBoost model file (JSON or the legacy binary format), detected from its first bytes. */
export function parseXGBoostModel(bytes: Uint8Array): XGBoostModel {
  let first = 0;
  while (first < bytes.length && (bytes[first] === 0x20 || bytes[first] === 0x0a || bytes[first] === 0x0d || bytes[first] === 0x09)) first += 1;
  if (bytes[first] === 0x7b /* { */) {
    // UBJSON also starts with '{' but is followed by a length marker, not whitespace or '"'
    let next = first + 1;
    while (next < bytes.length && (bytes[next] === 0x20 || bytes[next] === 0x0a || bytes[next] === 0x0d || bytes[next] === 0x09)) next += 1;
    if (bytes[next] !== 0x22 /* " */ && bytes[next] !== 0x7d /* } */) {
      throw new XGBoostModelError('the model is in UBJSON format; save it as JSON (a .json file name) or in the legacy binary format');
    }
    return parseJsonModel(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  }
  return parseBinaryModel(bytes);
}

// ---------------------------------------------------------------------------------------------
// JSON

interface JsonTree {
  readonly left_children: number[];
  readonly right_children: number[];
  readonly split_indices: number[];
  readonly split_conditions: number[];
  readonly default_left: (number | boolean)[];
  readonly split_type?: number[];
}

function parseJsonModel(text: string): XGBoostModel {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new XGBoostModelError(`the model is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const learner = (document as { learner?: Record<string, unknown> })?.learner;
  if (!learner || typeof learner !== 'object') throw new XGBoostModelError('the JSON model has no `learner`');
  const parameters = learner.learner_model_param as Record<string, string> | undefined;
  const objective = (learner.objective as { name?: string } | undefined)?.name ?? '';
  const boosterDocument = learner.gradient_booster as { name?: string; model?: Record<string, unknown> } | undefined;
  const booster = boosterDocument?.name ?? '';
  if (booster !== 'gbtree') throw new UnsupportedModelError(`booster '${booster}' is not supported (only gbtree)`);
  const model = boosterDocument?.model;
  if (!parameters || !model) throw new XGBoostModelError('the JSON model lacks learner_model_param or gradient_booster.model');
  const trees = (model.trees as JsonTree[] | undefined) ?? [];
  const treeInfo = (model.tree_info as number[] | undefined) ?? [];
  const gbtreeParameters = (model.gbtree_model_param as Record<string, string> | undefined) ?? {};
  trees.forEach((tree, index) => {
    if ((tree.split_type ?? []).some((type) => type !== 0)) throw new UnsupportedModelError(`tree ${index} has categorical splits, which are not supported`);
  });
  return {
    format: 'json',
    objective,
    booster,
    numClass: Number(parameters.num_class),
    numFeature: Number(parameters.num_feature),
    baseScore: parseBaseScore(parameters.base_score),
    numParallelTree: Number(gbtreeParameters.num_parallel_tree ?? 1),
    trees: trees.map((tree) => ({
      leftChildren: Int32Array.from(tree.left_children),
      rightChildren: Int32Array.from(tree.right_children),
      splitIndices: Int32Array.from(tree.split_indices),
      splitConditions: Float32Array.from(tree.split_conditions),
      defaultLeft: Uint8Array.from(tree.default_left, (value) => (value ? 1 : 0)),
    })),
    treeClasses: Int32Array.from(treeInfo),
    attributes: { ...((learner.attributes as Record<string, string> | undefined) ?? {}) },
  };
}

/** base_score is a string: '5E-1', or (XGBoost ≥ 2) a bracketed vector '[5E-1,5E-1,5E-1]' of equal values. */
function parseBaseScore(text: string | undefined): number {
  const values = String(text ?? '').replace(/^\[|\]$/g, '').split(',').map(Number);
  if (values.length === 0 || values.some((value) => !Number.isFinite(value))) throw new XGBoostModelError(`base_score ${JSON.stringify(text)} is not a number`);
  if (values.some((value) => value !== values[0])) throw new UnsupportedModelError('a base_score per class is not supported');
  return values[0];
}

// ---------------------------------------------------------------------------------------------
// The legacy binary format (XGBoost 1.x `save_model` without a .json extension)

const LEARNER_PARAMETERS_BYTES = 136;
const GBTREE_PARAMETERS_BYTES = 160;
const TREE_PARAMETERS_BYTES = 148;
const NODE_BYTES = 20;
const NODE_STATISTICS_BYTES = 16;
const DELETED_NODE = 0xffffffff;
const DEFAULT_LEFT_BIT = 0x80000000;

class BinaryReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get position(): number {
    return this.offset;
  }

  skip(count: number, what: string): void {
    this.need(count, what);
    this.offset += count;
  }

  int32(what: string): number {
    this.need(4, what);
    const value = this.view.getInt32(this.offset, true);
    this.offset += 4;
    return value;
  }

  uint32(what: string): number {
    this.need(4, what);
    const value = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  float32(what: string): number {
    this.need(4, what);
    const value = this.view.getFloat32(this.offset, true);
    this.offset += 4;
    return value;
  }

  /** dmlc's std::string: a uint64 length, then the bytes. */
  string(what: string): string {
    const length = this.uint64(what);
    this.need(length, what);
    const text = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.offset, length).toString('utf8');
    this.offset += length;
    return text;
  }

  uint64(what: string): number {
    this.need(8, what);
    const value = this.view.getBigUint64(this.offset, true);
    this.offset += 8;
    if (value > BigInt(this.bytes.length)) throw new XGBoostModelError(`${what}: length ${value} exceeds the file (${this.bytes.length} bytes)`);
    return Number(value);
  }

  /** A little-endian view of the next `count` bytes (copied: the buffer may be unaligned). */
  take(count: number, what: string): DataView {
    this.need(count, what);
    const copy = this.bytes.slice(this.offset, this.offset + count);
    this.offset += count;
    return new DataView(copy.buffer);
  }

  private need(count: number, what: string): void {
    if (this.offset + count > this.bytes.length) {
      throw new XGBoostModelError(`the binary model ends early while reading ${what} (offset ${this.offset}, ${count} bytes needed, ${this.bytes.length} in the file)`);
    }
  }
}

function parseBinaryModel(bytes: Uint8Array): XGBoostModel {
  const reader = new BinaryReader(bytes);
  const header = Buffer.from(bytes.subarray(0, 4)).toString('latin1');
  if (header === 'bs64') throw new XGBoostModelError('base64 XGBoost models are not supported');
  if (header === 'binf') reader.skip(4, 'the header');
  else if (bytes.length < LEARNER_PARAMETERS_BYTES) throw new XGBoostModelError('the bytes are neither a JSON nor a binary XGBoost model');

  const learnerStart = reader.position;
  const baseScore = reader.float32('base_score');
  const numFeature = reader.uint32('num_feature');
  const numClass = reader.int32('num_class');
  const containsAttributes = reader.int32('contain_extra_attrs');
  reader.skip(4 + 4 + 4, 'contain_eval_metrics, major_version, minor_version');
  const numTarget = reader.uint32('num_target');
  reader.skip(LEARNER_PARAMETERS_BYTES - (reader.position - learnerStart), 'the learner parameters');
  if (numTarget > 1) throw new UnsupportedModelError(`num_target ${numTarget}: multi-target models are not supported`);

  const objective = reader.string('the objective name');
  const booster = reader.string('the booster name');
  if (booster !== 'gbtree') throw new UnsupportedModelError(`booster '${booster}' is not supported (only gbtree)`);
  if (objective.length > 64 || !/^[a-z:_]+$/.test(objective)) throw new XGBoostModelError(`unreadable objective name ${JSON.stringify(objective.slice(0, 64))}`);

  const gbtreeStart = reader.position;
  const numTrees = reader.int32('num_trees');
  const numParallelTree = reader.int32('num_parallel_tree');
  reader.skip(GBTREE_PARAMETERS_BYTES - (reader.position - gbtreeStart), 'the gbtree parameters');
  if (numTrees < 0 || numTrees * (TREE_PARAMETERS_BYTES + NODE_BYTES) > bytes.length) {
    throw new XGBoostModelError(`num_trees ${numTrees} does not fit the file`);
  }

  const trees: XGBoostTree[] = [];
  for (let treeIndex = 0; treeIndex < numTrees; treeIndex++) {
    const treeStart = reader.position;
    reader.skip(4, `tree ${treeIndex} parameters`);
    const numNodes = reader.int32(`tree ${treeIndex} num_nodes`);
    reader.skip(TREE_PARAMETERS_BYTES - (reader.position - treeStart), `tree ${treeIndex} parameters`);
    if (numNodes < 1 || numNodes * NODE_BYTES > bytes.length) throw new XGBoostModelError(`tree ${treeIndex}: num_nodes ${numNodes} does not fit the file`);
    const nodes = reader.take(numNodes * NODE_BYTES, `tree ${treeIndex} nodes`);
    reader.skip(numNodes * NODE_STATISTICS_BYTES, `tree ${treeIndex} node statistics`);
    const tree = {
      leftChildren: new Int32Array(numNodes),
      rightChildren: new Int32Array(numNodes),
      splitIndices: new Int32Array(numNodes),
      splitConditions: new Float32Array(numNodes),
      defaultLeft: new Uint8Array(numNodes),
    };
    for (let node = 0; node < numNodes; node++) {
      const at = node * NODE_BYTES;
      // parent (int32) at +0 is not needed
      tree.leftChildren[node] = nodes.getInt32(at + 4, true);
      tree.rightChildren[node] = nodes.getInt32(at + 8, true);
      const splitIndex = nodes.getUint32(at + 12, true);
      tree.splitIndices[node] = splitIndex === DELETED_NODE ? -1 : splitIndex & ~DEFAULT_LEFT_BIT;
      tree.defaultLeft[node] = splitIndex !== DELETED_NODE && (splitIndex & DEFAULT_LEFT_BIT) !== 0 ? 1 : 0;
      tree.splitConditions[node] = nodes.getFloat32(at + 16, true);
    }
    trees.push(tree);
  }
  const treeClasses = new Int32Array(numTrees);
  for (let index = 0; index < numTrees; index++) treeClasses[index] = reader.int32('tree_info');

  const attributes: Record<string, string> = {};
  if (containsAttributes !== 0) {
    const count = reader.uint64('the attribute count');
    for (let index = 0; index < count; index++) {
      const key = reader.string('an attribute name');
      attributes[key] = reader.string(`attribute ${key}`);
    }
  }
  return { format: 'binary', objective, booster, numClass, numFeature, baseScore, numParallelTree: Math.max(1, numParallelTree), trees, treeClasses, attributes };
}

// ---------------------------------------------------------------------------------------------
// Conversion

const conversionBuffer = new DataView(new ArrayBuffer(4));
const SMALLEST_NEGATIVE_FLOAT32 = -1.401298464324817e-45;

/** The largest float32 strictly below `value` (nextafterf(value, -∞)); NaN and -∞ stay as they are. */
export function nextFloat32Down(value: number): number {
  const rounded = Math.fround(value);
  if (Number.isNaN(rounded) || rounded === -Infinity) return rounded;
  if (rounded === 0) return SMALLEST_NEGATIVE_FLOAT32;
  conversionBuffer.setFloat32(0, rounded);
  const bits = conversionBuffer.getUint32(0);
  conversionBuffer.setUint32(0, rounded > 0 ? bits - 1 : bits + 1);
  return conversionBuffer.getFloat32(0);
}

export interface XGBoostConversionOptions {
  /** Class names in XGBoost's label order (label 0, 1, 2, …). */
  readonly classes: readonly string[];
  /**
   * Width of the feature vector the ONNX model takes; at least the model's num_feature.
   * @default - the model's num_feature
   */
  readonly featureCount?: number;
  /**
   * Boosting rounds to keep (from the first). `'best'` keeps the rounds up to the early-stopping
   * `best_iteration` attribute when the model has one, else all.
   * @default 'best'
   */
  readonly rounds?: number | 'best';
}

/** The rounds a model keeps under `rounds`, and the rounds it has. */
export function roundsOf(model: XGBoostModel, rounds: number | 'best' = 'best'): { readonly kept: number; readonly available: number } {
  const treesPerRound = Math.max(1, model.numClass) * model.numParallelTree;
  const available = Math.floor(model.trees.length / treesPerRound);
  if (rounds === 'best') {
    const best = model.attributes.best_iteration;
    return { kept: best !== undefined && Number.isInteger(Number(best)) ? Math.min(available, Number(best) + 1) : available, available };
  }
  return { kept: Math.min(available, rounds), available };
}

/**
 * Converts a multi-class XGBoost model to the project's TreeEnsembleIR (softmax over the class
 * margins). @throws UnsupportedModelError (objective, class count) · XGBoostModelError · InvalidOptionsError
 */
export function xgboostToTreeEnsemble(model: XGBoostModel, options: XGBoostConversionOptions): TreeEnsembleIR {
  const classCount = options.classes.length;
  const featureCount = options.featureCount ?? model.numFeature;
  const unsupported: string[] = [];
  if (!MULTICLASS_OBJECTIVES.has(model.objective)) unsupported.push(`objective '${model.objective}' is not supported (multi:softprob or multi:softmax)`);
  if (model.numClass !== classCount) unsupported.push(`the model has ${model.numClass} classes, the options name ${classCount}`);
  if (unsupported.length > 0) throw new UnsupportedModelError(unsupported.join('; '));
  if (model.trees.length !== model.treeClasses.length) throw new XGBoostModelError(`${model.trees.length} trees but ${model.treeClasses.length} tree_info entries`);
  const problems = new ProblemCollector('XGBoost conversion options');
  problems.check(Number.isInteger(featureCount) && featureCount >= model.numFeature, `featureCount ${featureCount} is below the model's num_feature ${model.numFeature}`);
  problems.check(
    options.rounds === undefined || options.rounds === 'best' || (Number.isInteger(options.rounds) && options.rounds >= 1),
    `rounds must be 'best' or a positive integer, got ${JSON.stringify(options.rounds)}`,
  );
  problems.throwIfAny();
  const { kept } = roundsOf(model, options.rounds);
  const treeCount = kept * classCount * model.numParallelTree;
  const trees: TreeIR[] = [];
  for (let index = 0; index < treeCount; index++) {
    const treeClass = model.treeClasses[index];
    if (treeClass < 0 || treeClass >= classCount) throw new XGBoostModelError(`tree ${index} belongs to class ${treeClass}, outside 0..${classCount - 1}`);
    trees.push(convertTree(model.trees[index], index, treeClass, classCount, featureCount));
  }
  return {
    kind: 'trees',
    classes: [...options.classes],
    featureCount,
    trees,
    baseValues: new Float32Array(classCount).fill(model.baseScore),
    postTransform: 'softmax',
  };
}

/** One tree, nodes renumbered in visiting order from the root (deleted and unreachable nodes dropped). */
function convertTree(tree: XGBoostTree, treeIndex: number, treeClass: number, classCount: number, featureCount: number): TreeIR {
  const nodeCount = tree.leftChildren.length;
  const order: number[] = [];
  const renumbered = new Int32Array(nodeCount).fill(-1);
  const queue = [0];
  while (queue.length > 0) {
    const node = queue.shift()!;
    if (node < 0 || node >= nodeCount) throw new XGBoostModelError(`tree ${treeIndex}: child ${node} is outside 0..${nodeCount - 1}`);
    if (renumbered[node] !== -1) throw new XGBoostModelError(`tree ${treeIndex}: node ${node} is reached twice`);
    renumbered[node] = order.length;
    order.push(node);
    if (tree.leftChildren[node] !== -1) queue.push(tree.leftChildren[node], tree.rightChildren[node]);
  }
  const size = order.length;
  const result = {
    feature: new Int32Array(size),
    threshold: new Float32Array(size),
    left: new Int32Array(size),
    right: new Int32Array(size),
    value: new Float32Array(size * classCount),
  };
  order.forEach((node, index) => {
    if (tree.leftChildren[node] === -1) {
      result.feature[index] = -1;
      result.value[index * classCount + treeClass] = tree.splitConditions[node];
      return;
    }
    const feature = tree.splitIndices[node];
    if (feature < 0 || feature >= featureCount) throw new XGBoostModelError(`tree ${treeIndex}, node ${node}: feature ${feature} is outside 0..${featureCount - 1}`);
    result.feature[index] = feature;
    result.threshold[index] = nextFloat32Down(tree.splitConditions[node]);
    result.left[index] = renumbered[tree.leftChildren[node]];
    result.right[index] = renumbered[tree.rightChildren[node]];
  });
  return result;
}

export interface XGBoostImportOptions extends XGBoostConversionOptions {
  /** What the ONNX model says about itself (feature spec, names, algorithm, properties). */
  readonly metadata: OnnxModelMetadata;
}

export interface ImportedXGBoostModel {
  readonly model: TreeEnsembleIR;
  readonly onnx: Uint8Array;
  /** Rounds kept and rounds the file holds. */
  readonly rounds: { readonly kept: number; readonly available: number };
  readonly source: XGBoostModel;
}

/** Reads an XGBoost model file and exports it as the project's ONNX classifier. */
export function importXGBoostModel(bytes: Uint8Array, options: XGBoostImportOptions): ImportedXGBoostModel {
  const source = parseXGBoostModel(bytes);
  const model = xgboostToTreeEnsemble(source, options);
  return { model, onnx: exportOnnx(model, options.metadata), rounds: roundsOf(source, options.rounds), source };
}
