/**
 * What an exported model says about itself, in the ONNX model's `metadata_props`: which feature spec
 * it was trained on (the server refuses a model whose spec hash differs from its own), the feature
 * names, the class labels behind the int64 label ids, the algorithm, and free-form properties
 * (model version, training job, data window, …). Netron and `onnx.load(...).metadata_props` show them.
 */
import { onnx } from 'onnx-proto';
import { ProblemCollector, RetailMlopsError } from '../errors';

/** What the caller supplies at export (class labels come from the model itself). */
export interface OnnxModelMetadata {
  /** Version of the feature definition the model was trained with, e.g. `3`. */
  readonly featureSpecVersion: string;
  /** Hash of the feature definition; a server only loads models whose hash equals its own. */
  readonly featureSpecHash: string;
  /** Feature names in column order; as many as the model has features, unique, non-empty. */
  readonly featureNames: readonly string[];
  /** What trained the model, e.g. `lr`, `gbdt`, `sagemaker-xgboost`. */
  readonly algorithm: string;
  /**
   * Free-form string properties (model version, training job id, training weeks, …), stored as
   * metadata_props entries under their own keys. Keys must not start with `retail_mlops.`.
   * @default {}
   */
  readonly properties?: Readonly<Record<string, string>>;
}

/** Everything readOnnxMetadata finds: the export metadata plus the class labels. */
export interface OnnxModelInfo extends OnnxModelMetadata {
  /** Class labels in label-id order: label id `i` in the `label` output means `classLabels[i]`. */
  readonly classLabels: readonly string[];
  /** Version of this metadata layout. */
  readonly metadataVersion: string;
  readonly properties: Readonly<Record<string, string>>;
}

/** The bytes are not an ONNX model, or not one exported by retail-mlops (metadata missing or malformed). */
export class OnnxModelError extends RetailMlopsError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('ONNX_MODEL_INVALID', message, options);
  }
}

/** A model was built for a different feature definition than the one in use. */
export class FeatureSpecMismatchError extends RetailMlopsError {
  constructor(
    readonly expected: { readonly version: string; readonly hash: string },
    readonly actual: { readonly version: string; readonly hash: string },
  ) {
    super(
      'FEATURE_SPEC_MISMATCH',
      `the model was trained on feature spec ${actual.version} (hash ${actual.hash}), ` +
        `but this deployment computes feature spec ${expected.version} (hash ${expected.hash})`,
    );
  }
}

/** Reserved prefix of the keys retail-mlops writes itself. */
export const METADATA_KEY_PREFIX = 'retail_mlops.';
export const METADATA_VERSION = '1';

export const METADATA_KEYS = {
  metadataVersion: `${METADATA_KEY_PREFIX}metadata_version`,
  featureSpecVersion: `${METADATA_KEY_PREFIX}feature_spec_version`,
  featureSpecHash: `${METADATA_KEY_PREFIX}feature_spec_hash`,
  featureNames: `${METADATA_KEY_PREFIX}feature_names`,
  classLabels: `${METADATA_KEY_PREFIX}class_labels`,
  algorithm: `${METADATA_KEY_PREFIX}algorithm`,
} as const;

/** Checks export metadata against the model's shape; throws InvalidOptionsError listing every problem. */
export function validateMetadata(metadata: OnnxModelMetadata, featureCount: number): void {
  const problems = new ProblemCollector('ONNX model metadata');
  problems.check(isNonEmptyString(metadata.featureSpecVersion), 'featureSpecVersion must be a non-empty string');
  problems.check(isNonEmptyString(metadata.featureSpecHash), 'featureSpecHash must be a non-empty string');
  problems.check(isNonEmptyString(metadata.algorithm), 'algorithm must be a non-empty string');
  const names = metadata.featureNames;
  problems.check(
    names.length === featureCount,
    `featureNames has ${names.length} names but the model has ${featureCount} features`,
  );
  problems.check(names.every(isNonEmptyString), 'every feature name must be a non-empty string');
  problems.check(new Set(names).size === names.length, 'feature names must be unique');
  for (const [key, value] of Object.entries(metadata.properties ?? {})) {
    problems.check(key.length > 0, 'a property key is empty');
    problems.check(!key.startsWith(METADATA_KEY_PREFIX), `property key ${JSON.stringify(key)} uses the reserved prefix ${METADATA_KEY_PREFIX}`);
    problems.check(typeof value === 'string', `property ${JSON.stringify(key)} must be a string`);
  }
  problems.throwIfAny();
}

/** The metadata_props entries for a model (metadata validated beforehand). */
export function metadataProps(metadata: OnnxModelMetadata, classLabels: readonly string[]): onnx.IStringStringEntryProto[] {
  const entries: onnx.IStringStringEntryProto[] = [
    { key: METADATA_KEYS.metadataVersion, value: METADATA_VERSION },
    { key: METADATA_KEYS.featureSpecVersion, value: metadata.featureSpecVersion },
    { key: METADATA_KEYS.featureSpecHash, value: metadata.featureSpecHash },
    { key: METADATA_KEYS.featureNames, value: JSON.stringify(metadata.featureNames) },
    { key: METADATA_KEYS.classLabels, value: JSON.stringify(classLabels) },
    { key: METADATA_KEYS.algorithm, value: metadata.algorithm },
  ];
  for (const key of Object.keys(metadata.properties ?? {}).sort()) entries.push({ key, value: metadata.properties![key] });
  return entries;
}

/**
 * Reads the retail-mlops metadata of an exported model (only the protobuf is decoded; no runtime
 * is loaded). Throws OnnxModelError when the bytes are not an ONNX model or a key is missing/malformed.
 */
export function readOnnxMetadata(bytes: Uint8Array): OnnxModelInfo {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new OnnxModelError(`not an ONNX model: ${(error as Error).message}`, { cause: error });
  }
  if (model.graph === null || model.graph === undefined) throw new OnnxModelError('not an ONNX model: it has no graph');

  const entries = new Map<string, string>();
  for (const entry of model.metadataProps) entries.set(entry.key ?? '', entry.value ?? '');
  const missing = Object.values(METADATA_KEYS).filter((key) => !entries.has(key));
  if (missing.length > 0) {
    throw new OnnxModelError(`the ONNX model lacks retail-mlops metadata: missing ${missing.join(', ')}`);
  }
  const properties: Record<string, string> = {};
  for (const [key, value] of entries) if (!key.startsWith(METADATA_KEY_PREFIX)) properties[key] = value;

  return {
    metadataVersion: entries.get(METADATA_KEYS.metadataVersion)!,
    featureSpecVersion: entries.get(METADATA_KEYS.featureSpecVersion)!,
    featureSpecHash: entries.get(METADATA_KEYS.featureSpecHash)!,
    featureNames: parseStringArray(entries.get(METADATA_KEYS.featureNames)!, METADATA_KEYS.featureNames),
    classLabels: parseStringArray(entries.get(METADATA_KEYS.classLabels)!, METADATA_KEYS.classLabels),
    algorithm: entries.get(METADATA_KEYS.algorithm)!,
    properties,
  };
}

/**
 * Throws FeatureSpecMismatchError unless the model was trained on the expected feature spec (same hash;
 * the version is reported, the hash decides).
 */
export function assertFeatureSpec(info: OnnxModelInfo, expected: { readonly version: string; readonly hash: string }): void {
  if (info.featureSpecHash !== expected.hash) {
    throw new FeatureSpecMismatchError(expected, { version: info.featureSpecVersion, hash: info.featureSpecHash });
  }
}

function parseStringArray(text: string, key: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new OnnxModelError(`metadata ${key} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) {
    throw new OnnxModelError(`metadata ${key} is not a JSON array of strings`);
  }
  return parsed;
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}
