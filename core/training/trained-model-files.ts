/**
 * How a training run that happens elsewhere (a container on a cloud's compute) hands its result back:
 * an output folder holding the ONNX model and one JSON document with everything else of the
 * TrainedModel. `retail-mlops train-job` writes the folder; cloud backends read it.
 *
 * ```
 * <out>/model.onnx            the ONNX bytes
 * <out>/trained-model.json    TrainedModel without `onnx`, plus the model's file name and sha256
 * ```
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { TRAINING_SPECIFICATION_VERSION, type TrainedModel, type TrainingJob } from './port';
import { InvalidOptionsError } from '../errors';
import { writeFileAtomically } from '../files/write-atomically';

export const TRAINED_MODEL_FILE = 'trained-model.json';
export const ONNX_MODEL_FILE = 'model.onnx';
export const TRAINED_MODEL_FORMAT = 'retail-mlops-trained-model';

/** The JSON document beside the model. */
export type TrainedModelDocument = Omit<TrainedModel, 'onnx'> & {
  readonly format: typeof TRAINED_MODEL_FORMAT;
  readonly specificationVersion: typeof TRAINING_SPECIFICATION_VERSION;
  readonly onnxFile: string;
  readonly onnxSha256: string;
};

export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The document for a trained model. */
export function toTrainedModelDocument(model: TrainedModel): TrainedModelDocument {
  const { onnx, ...rest } = model;
  return {
    format: TRAINED_MODEL_FORMAT,
    specificationVersion: TRAINING_SPECIFICATION_VERSION,
    ...rest,
    onnxFile: ONNX_MODEL_FILE,
    onnxSha256: sha256Of(onnx),
  };
}

/**
 * The trained model from its document and model bytes (checked against the recorded sha256).
 * @throws InvalidOptionsError when they do not belong together or the document is of another format
 */
export function fromTrainedModelDocument(document: TrainedModelDocument, onnx: Uint8Array): TrainedModel {
  const problems: string[] = [];
  if (document?.format !== TRAINED_MODEL_FORMAT) problems.push(`format must be ${TRAINED_MODEL_FORMAT}, got ${JSON.stringify(document?.format)}`);
  if (document?.specificationVersion !== TRAINING_SPECIFICATION_VERSION) problems.push(`specificationVersion must be ${TRAINING_SPECIFICATION_VERSION}`);
  if (document?.onnxSha256 !== sha256Of(onnx)) problems.push(`the model bytes' sha256 ${sha256Of(onnx)} is not the recorded ${document?.onnxSha256}`);
  if (problems.length > 0) throw new InvalidOptionsError('trained model document', problems);
  const { format: _format, specificationVersion: _specificationVersion, onnxFile: _onnxFile, onnxSha256: _onnxSha256, ...model } = document;
  return { ...model, onnx };
}

/** Writes the output folder (each file atomically; the document last). */
export async function writeTrainedModelFiles(directory: string, model: TrainedModel): Promise<void> {
  await fs.mkdir(directory, { recursive: true });
  await writeFileAtomically(path.join(directory, ONNX_MODEL_FILE), model.onnx, { createDirectory: true });
  await writeFileAtomically(path.join(directory, TRAINED_MODEL_FILE), `${JSON.stringify(toTrainedModelDocument(model), null, 2)}\n`, { createDirectory: true });
}

/**
 * Checks the shape of a job document read from a file (the parts a run depends on); every problem at once.
 * @throws InvalidOptionsError
 */
export function parseTrainingJob(text: string, source: string): TrainingJob {
  let document: Partial<TrainingJob>;
  try {
    document = JSON.parse(text) as Partial<TrainingJob>;
  } catch (error) {
    throw new InvalidOptionsError(`training job ${source}`, [`not JSON: ${(error as Error).message}`]);
  }
  const problems: string[] = [];
  const weeks = (value: unknown): boolean => Array.isArray(value) && value.every((week) => Number.isInteger(week));
  if (document?.specificationVersion !== TRAINING_SPECIFICATION_VERSION) problems.push(`specificationVersion must be ${TRAINING_SPECIFICATION_VERSION}`);
  if (typeof document?.name !== 'string' || document.name.length === 0) problems.push('name must be a non-empty string');
  if (typeof document?.dataset?.uri !== 'string' || !Number.isInteger(document?.dataset?.version)) problems.push('dataset must be {uri, version}');
  if (!weeks(document?.split?.trainWeeks) || !weeks(document?.split?.validationWeeks) || !weeks(document?.split?.testWeeks)) {
    problems.push('split must hold trainWeeks, validationWeeks and testWeeks as lists of YYYYWW integers');
  }
  if (typeof document?.featureSpec?.version !== 'string' || typeof document?.featureSpec?.hash !== 'string') problems.push('featureSpec must be {version, hash}');
  if (typeof document?.algorithm !== 'string') problems.push('algorithm must be a string');
  if (typeof document?.hyperparameters !== 'object' || document.hyperparameters === null) problems.push('hyperparameters must be an object');
  if (!Number.isInteger(document?.seed)) problems.push('seed must be an integer');
  if (problems.length > 0) throw new InvalidOptionsError(`training job ${source}`, problems);
  return document as TrainingJob;
}
