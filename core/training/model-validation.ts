import { RetailMlopsError } from '../errors';
import type { LinearModelIR, ModelIR, TreeEnsembleIR, TreeIR } from './model';

/** A model IR is internally inconsistent (array lengths, child indices, cycles, non-finite numbers). */
export class InvalidModelError extends RetailMlopsError {
  constructor(readonly problems: readonly string[]) {
    super('INVALID_MODEL', `invalid model: ${problems.join('; ')}`);
  }
}

/** More problems than this are summarised, so a badly broken model does not produce a megabyte message. */
const MAX_REPORTED_PROBLEMS = 20;

/**
 * Checks everything the predictor and the ONNX exporter rely on, and throws one `InvalidModelError`
 * listing every problem found (up to 20, then a count). O(nodes + coefficients).
 */
export function validateModel(model: ModelIR): void {
  const problems: string[] = [];
  const classCount = model.classes.length;
  if (classCount < 2) problems.push(`a model needs at least 2 classes, got ${classCount}`);
  if (new Set(model.classes).size !== classCount) problems.push(`class names repeat: ${JSON.stringify(model.classes)}`);
  if (model.classes.some((name) => name.length === 0)) problems.push('a class name is empty');
  if (!Number.isInteger(model.featureCount) || model.featureCount < 1) {
    problems.push(`featureCount must be a positive integer, got ${model.featureCount}`);
  }
  if (model.kind === 'linear') validateLinear(model, problems);
  else if (model.kind === 'trees') validateTrees(model, problems);
  else problems.push(`unknown model kind ${JSON.stringify((model as { kind: unknown }).kind)}`);
  if (problems.length > MAX_REPORTED_PROBLEMS) {
    const hidden = problems.length - MAX_REPORTED_PROBLEMS;
    problems.splice(MAX_REPORTED_PROBLEMS, hidden, `… and ${hidden} more`);
  }
  if (problems.length > 0) throw new InvalidModelError(problems);
}

function validateLinear(model: LinearModelIR, problems: string[]): void {
  const classCount = model.classes.length;
  const expected = classCount * model.featureCount;
  if (model.coefficients.length !== expected) {
    problems.push(`coefficients has ${model.coefficients.length} entries, expected classes × featureCount = ${expected}`);
  }
  if (model.intercepts.length !== classCount) {
    problems.push(`intercepts has ${model.intercepts.length} entries, expected one per class (${classCount})`);
  }
  if (!allFinite(model.coefficients)) problems.push('coefficients contain a non-finite number');
  if (!allFinite(model.intercepts)) problems.push('intercepts contain a non-finite number');
}

function validateTrees(model: TreeEnsembleIR, problems: string[]): void {
  const classCount = model.classes.length;
  if (model.postTransform !== 'softmax' && model.postTransform !== 'none') {
    problems.push(`postTransform must be 'softmax' or 'none', got ${JSON.stringify(model.postTransform)}`);
  }
  if (model.baseValues.length !== classCount) {
    problems.push(`baseValues has ${model.baseValues.length} entries, expected one per class (${classCount})`);
  }
  if (!allFinite(model.baseValues)) problems.push('baseValues contain a non-finite number');
  if (model.trees.length === 0) problems.push('a tree ensemble needs at least one tree');
  model.trees.forEach((tree, index) => validateTree(tree, index, classCount, model.featureCount, problems));
}

function validateTree(tree: TreeIR, treeIndex: number, classCount: number, featureCount: number, problems: string[]): void {
  const where = `tree ${treeIndex}`;
  const nodeCount = tree.feature.length;
  if (nodeCount === 0) {
    problems.push(`${where} has no nodes`);
    return;
  }
  const lengths: [string, number][] = [['threshold', tree.threshold.length], ['left', tree.left.length], ['right', tree.right.length]];
  let consistent = true;
  for (const [name, length] of lengths) {
    if (length !== nodeCount) {
      problems.push(`${where}: ${name} has ${length} entries, feature has ${nodeCount}`);
      consistent = false;
    }
  }
  if (tree.value.length !== nodeCount * classCount) {
    problems.push(`${where}: value has ${tree.value.length} entries, expected nodes × classes = ${nodeCount * classCount}`);
    consistent = false;
  }
  if (!consistent) return;

  for (let node = 0; node < nodeCount; node++) {
    const feature = tree.feature[node];
    if (feature === -1) {
      for (let k = 0; k < classCount; k++) {
        if (!Number.isFinite(tree.value[node * classCount + k])) problems.push(`${where}, leaf ${node}: value for class ${k} is not finite`);
      }
      continue;
    }
    if (feature < 0 || feature >= featureCount) problems.push(`${where}, node ${node}: feature ${feature} is outside 0..${featureCount - 1}`);
    if (Number.isNaN(tree.threshold[node])) problems.push(`${where}, node ${node}: threshold is NaN`);
    for (const [side, child] of [['left', tree.left[node]], ['right', tree.right[node]]] as const) {
      if (child < 0 || child >= nodeCount || child === node) problems.push(`${where}, node ${node}: ${side} child ${child} is not another node of the tree`);
    }
  }

  // Every node reachable from the root must be reached exactly once (a tree: no cycles, no shared subtrees).
  const seen = new Uint8Array(nodeCount);
  const stack = [0];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (seen[node] === 1) {
      problems.push(`${where}: node ${node} is reached twice (a cycle or a shared subtree)`);
      return;
    }
    seen[node] = 1;
    if (tree.feature[node] === -1) continue;
    for (const child of [tree.left[node], tree.right[node]]) {
      if (child >= 0 && child < nodeCount && child !== node) stack.push(child);
    }
  }
}

function allFinite(values: Float32Array): boolean {
  for (const value of values) if (!Number.isFinite(value)) return false;
  return true;
}
