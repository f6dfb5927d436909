/**
 * Exports a trained model (ModelIR) as an ONNX model: the bytes the registry stores and the server
 * loads into ONNX Runtime. See graph.ts for the graph and metadata.ts for what the model says about itself.
 */
import { onnx } from 'onnx-proto';
import { RetailMlopsError } from '../errors';
import { buildGraph, DEFAULT_OPSET_VERSION, IR_VERSION, ML_DOMAIN, ML_OPSET_VERSION } from './graph';
import type { OnnxModelMetadata } from './metadata';
import { metadataProps, validateMetadata } from './metadata';
import type { ModelIR } from '../training/model';
import { validateModel } from '../training/model-validation';

/** The model is valid but cannot be expressed faithfully in the ONNX operators we target. */
export class UnsupportedModelError extends RetailMlopsError {
  constructor(message: string) {
    super('UNSUPPORTED_MODEL', message);
  }
}

export const PRODUCER_NAME = 'retail-mlops';

/**
 * Serialises `model` as an ONNX ModelProto (IR 8; default opset 17; ai.onnx.ml opset 3) with one
 * input `features` float32 [N, featureCount] and outputs `label` int64 [N] and `probabilities`
 * float32 [N, classes]. Throws InvalidModelError for an inconsistent model, InvalidOptionsError for
 * bad metadata, UnsupportedModelError for a 2-class tree ensemble (see below).
 */
export function exportOnnx(model: ModelIR, metadata: OnnxModelMetadata): Uint8Array {
  validateModel(model);
  validateMetadata(metadata, model.featureCount);
  if (model.kind === 'trees' && model.classes.length === 2) {
    // ORT's TreeEnsembleClassifier special-cases two classes as binary logistic (score0 := -score1), which
    // is not this IR's per-class scoring. The project's problem has three classes; refuse rather than mispredict.
    throw new UnsupportedModelError(
      'a tree ensemble with exactly 2 classes cannot be exported: ONNX Runtime treats a 2-class TreeEnsembleClassifier as binary logistic',
    );
  }
  const proto: onnx.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: [
      { domain: '', version: DEFAULT_OPSET_VERSION },
      { domain: ML_DOMAIN, version: ML_OPSET_VERSION },
    ],
    producerName: PRODUCER_NAME,
    docString: `retail-mlops ${model.kind === 'linear' ? 'multinomial linear' : 'tree ensemble'} classifier over ` +
      `${model.featureCount} features; classes ${model.classes.join(', ')}`,
    graph: buildGraph(model),
    metadataProps: metadataProps(metadata, model.classes),
  };
  return onnx.ModelProto.encode(proto).finish();
}
