/**
 * Builds the ONNX graph of a trained model: one ai.onnx.ml node (opset 3) from input `features`
 * (float32 [N, F]) to outputs `label` (int64 [N], the class index) and `probabilities` (float32 [N, K]).
 * No ZipMap: onnxruntime-node cannot return maps, and tensors are what the server wants anyway.
 */
import { onnx } from 'onnx-proto';
import type { LinearModelIR, ModelIR, TreeEnsembleIR } from '../training/model';

export const INPUT_NAME = 'features';
export const LABEL_OUTPUT_NAME = 'label';
export const PROBABILITIES_OUTPUT_NAME = 'probabilities';
/** The symbolic batch dimension of the input and outputs. */
export const BATCH_DIMENSION = 'N';

export const ML_DOMAIN = 'ai.onnx.ml';
/**
 * ai.onnx.ml opset 3: TreeEnsembleClassifier and LinearClassifier. (Opset 5's `TreeEnsemble` is avoided:
 * with a post_transform, ORT silently returns wrong probabilities.)
 */
export const ML_OPSET_VERSION = 3;
/**
 * Default-domain opset and IR version: the newest both ONNX Runtime 1.30 and the onnx 1.12 checker
 * (Debian's python3-onnx; IR 8, opset 17) accept.
 */
export const DEFAULT_OPSET_VERSION = 17;
export const IR_VERSION = 8;

const AttributeType = onnx.AttributeProto.AttributeType;
const DataType = onnx.TensorProto.DataType;
const textEncoder = new TextEncoder();

/** The graph for a model (validated beforehand: see validateModel). */
export function buildGraph(model: ModelIR): onnx.IGraphProto {
  const node = model.kind === 'linear' ? linearClassifierNode(model) : treeEnsembleClassifierNode(model);
  const classCount = model.classes.length;
  return {
    name: model.kind === 'linear' ? 'retail_mlops_linear_classifier' : 'retail_mlops_tree_ensemble_classifier',
    node: [node],
    input: [tensorValueInfo(INPUT_NAME, DataType.FLOAT, [BATCH_DIMENSION, model.featureCount], 'Feature matrix, one row per basket.')],
    output: [
      tensorValueInfo(LABEL_OUTPUT_NAME, DataType.INT64, [BATCH_DIMENSION], 'Index of the predicted class (into the class labels metadata).'),
      tensorValueInfo(PROBABILITIES_OUTPUT_NAME, DataType.FLOAT, [BATCH_DIMENSION, classCount], 'Class probabilities, in class label order.'),
    ],
  };
}

function linearClassifierNode(model: LinearModelIR): onnx.INodeProto {
  return {
    name: 'linear_classifier',
    opType: 'LinearClassifier',
    domain: ML_DOMAIN,
    input: [INPUT_NAME],
    output: [LABEL_OUTPUT_NAME, PROBABILITIES_OUTPUT_NAME],
    attribute: [
      floatsAttribute('coefficients', model.coefficients),
      floatsAttribute('intercepts', model.intercepts),
      intsAttribute('classlabels_ints', classIndices(model.classes.length)),
      intAttribute('multi_class', 0),
      stringAttribute('post_transform', 'SOFTMAX'),
    ],
  };
}

function treeEnsembleClassifierNode(model: TreeEnsembleIR): onnx.INodeProto {
  const classCount = model.classes.length;
  const nodeTreeIds: number[] = [];
  const nodeIds: number[] = [];
  const nodeFeatureIds: number[] = [];
  const nodeValues: number[] = [];
  const nodeModes: string[] = [];
  const trueNodeIds: number[] = [];
  const falseNodeIds: number[] = [];
  const classTreeIds: number[] = [];
  const classNodeIds: number[] = [];
  const classIds: number[] = [];
  const classWeights: number[] = [];

  model.trees.forEach((tree, treeId) => {
    // Node ids are the IR's node indices, so node 0 (the root) comes first in each tree, as ORT expects.
    for (let node = 0; node < tree.feature.length; node++) {
      nodeTreeIds.push(treeId);
      nodeIds.push(node);
      const leaf = tree.feature[node] === -1;
      nodeModes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
      nodeFeatureIds.push(leaf ? 0 : tree.feature[node]);
      nodeValues.push(leaf ? 0 : tree.threshold[node]);
      trueNodeIds.push(leaf ? 0 : tree.left[node]);
      falseNodeIds.push(leaf ? 0 : tree.right[node]);
      if (!leaf) continue;
      // Zero weights are left out (a GBDT tree only scores its own class): adding 0 changes nothing, and
      // ORT accepts a leaf without weights (checked in the tests by an all-zero leaf).
      for (let k = 0; k < classCount; k++) {
        const weight = tree.value[node * classCount + k];
        if (weight === 0) continue;
        classTreeIds.push(treeId);
        classNodeIds.push(node);
        classIds.push(k);
        classWeights.push(weight);
      }
    }
  });

  return {
    name: 'tree_ensemble_classifier',
    opType: 'TreeEnsembleClassifier',
    domain: ML_DOMAIN,
    input: [INPUT_NAME],
    output: [LABEL_OUTPUT_NAME, PROBABILITIES_OUTPUT_NAME],
    attribute: [
      intsAttribute('nodes_treeids', nodeTreeIds),
      intsAttribute('nodes_nodeids', nodeIds),
      intsAttribute('nodes_featureids', nodeFeatureIds),
      floatsAttribute('nodes_values', nodeValues),
      stringsAttribute('nodes_modes', nodeModes),
      intsAttribute('nodes_truenodeids', trueNodeIds),
      intsAttribute('nodes_falsenodeids', falseNodeIds),
      intsAttribute('class_treeids', classTreeIds),
      intsAttribute('class_nodeids', classNodeIds),
      intsAttribute('class_ids', classIds),
      floatsAttribute('class_weights', classWeights),
      // Always one base value per class: ORT's argmax only considers classes that received a score.
      floatsAttribute('base_values', model.baseValues),
      intsAttribute('classlabels_int64s', classIndices(classCount)),
      stringAttribute('post_transform', model.postTransform === 'softmax' ? 'SOFTMAX' : 'NONE'),
    ],
  };
}

function classIndices(classCount: number): number[] {
  return Array.from({ length: classCount }, (_, index) => index);
}

function tensorValueInfo(name: string, elementType: number, dims: readonly (string | number)[], docString: string): onnx.IValueInfoProto {
  return {
    name,
    docString,
    type: {
      tensorType: {
        elemType: elementType,
        shape: { dim: dims.map((dim) => (typeof dim === 'string' ? { dimParam: dim } : { dimValue: dim })) },
      },
    },
  };
}

function intAttribute(name: string, value: number): onnx.IAttributeProto {
  return { name, type: AttributeType.INT, i: value };
}

function intsAttribute(name: string, values: readonly number[]): onnx.IAttributeProto {
  return { name, type: AttributeType.INTS, ints: [...values] };
}

function floatsAttribute(name: string, values: ArrayLike<number>): onnx.IAttributeProto {
  // protobuf `repeated float`: encoded as float32, so float32 thresholds and weights survive exactly.
  return { name, type: AttributeType.FLOATS, floats: Array.from(values) };
}

function stringAttribute(name: string, value: string): onnx.IAttributeProto {
  return { name, type: AttributeType.STRING, s: textEncoder.encode(value) };
}

function stringsAttribute(name: string, values: readonly string[]): onnx.IAttributeProto {
  return { name, type: AttributeType.STRINGS, strings: values.map((value) => textEncoder.encode(value)) };
}
