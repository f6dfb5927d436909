/**
 * The records of the model registry: immutable model versions (the ONNX bytes, named artifacts,
 * metrics and lineage) and aliases with their append-only history. Storage-agnostic: the local
 * provider keeps them on disk, cloud providers in S3 / SageMaker or Blob / Azure ML.
 */
import type { JsonValue } from '../canonical-json';
import type { EvaluationMetrics } from '../evaluation/metrics';

/** One input file of the training data, by content. */
export interface InputFileLineage {
  /** Path as recorded by the lake (relative to the lake root where possible). */
  readonly path: string;
  /** sha256 of the file's bytes, 64 lowercase hex digits. */
  readonly sha256: string;
}

/** Where a model version came from: data, features, code, algorithm and parameters. */
export interface ModelLineage {
  /** Version of the lake manifest (`_lake.json`) trained from. */
  readonly lakeVersion: string;
  /** The raw input files behind that lake version. */
  readonly inputFiles: readonly InputFileLineage[];
  /** Version of the feature definition. */
  readonly featureSpecVersion: string;
  /** Hash of the feature definition (its canonical JSON). */
  readonly featureSpecHash: string;
  /** Git commit of the code that trained the model. */
  readonly codeCommit: string;
  /** e.g. `gbdt`, `lr`, `sagemaker-xgboost`. */
  readonly algorithm: string;
  /** Training parameters (rounds, depth, learning rate, seed, …). */
  readonly parameters: Readonly<Record<string, JsonValue>>;
  /** SHOP_WEEK values (YYYYWW) trained on. */
  readonly trainingWeeks: readonly number[];
  /** SHOP_WEEK values (YYYYWW) the metrics were computed on. */
  readonly evaluationWeeks: readonly number[];
}

/** A named blob stored with a version (fitted feature statistics, the HTML report, …). */
export interface ArtifactInput {
  /** File-name-like: letters, digits, `.`, `_`, `-`; at most 128 characters; e.g. `feature-statistics.json`. */
  readonly name: string;
  readonly content: Uint8Array | string;
  /** @default - from the name's extension (`.json` → application/json, `.html` → text/html, …), else application/octet-stream */
  readonly mediaType?: string;
}

/** The artifacts `train` registers with every version, so every reader finds the same blob. */
export const ARTIFACT_NAMES = {
  /** Fitted feature statistics (JSON), needed to compute features at serving time. */
  featureStatistics: 'feature-statistics.json',
  /** The trainer's feature importance (JSON), shown in the evaluation report. */
  featureImportance: 'feature-importance.json',
} as const;

/** What `register` stores. */
export interface RegisterInput {
  /** The ONNX model. */
  readonly model: Uint8Array;
  readonly metrics: EvaluationMetrics;
  readonly lineage: ModelLineage;
  /** @default - none */
  readonly artifacts?: readonly ArtifactInput[];
  /** Who registers (a user or a pipeline identity), e.g. `alice` or `ci:jenkins#412`. */
  readonly createdBy: string;
}

/** A stored artifact, described. */
export interface ArtifactDescriptor {
  readonly name: string;
  readonly sha256: string;
  readonly size: number;
  readonly mediaType: string;
}

/**
 * An immutable model version. Its `id` is derived from its content (model bytes, metrics, lineage);
 * `sequence` is a number for humans, increasing with each new version of the registry.
 */
export interface ModelVersion {
  /** `v-` + the first 12 hex digits of `contentHash`. */
  readonly id: string;
  /** 1, 2, 3, … in registration order (numbers may be skipped, never reused). */
  readonly sequence: number;
  /** sha256 (hex) of the canonical JSON of {specificationVersion, modelSha256, metrics, lineage}. */
  readonly contentHash: string;
  readonly modelSha256: string;
  readonly modelSize: number;
  /** Sorted by name. */
  readonly artifacts: readonly ArtifactDescriptor[];
  readonly metrics: EvaluationMetrics;
  readonly lineage: ModelLineage;
  /** When the version was first registered (ISO 8601, UTC); not part of the content hash. */
  readonly createdAt: string;
  /** Who first registered it; not part of the content hash. */
  readonly createdBy: string;
}

export interface RegisterResult {
  readonly version: ModelVersion;
  /** False when identical content was already registered (then `version` is the existing one). */
  readonly created: boolean;
}

/** The aliases every deployment flow uses; any other name matching the alias pattern works too. */
export const STANDARD_ALIASES = ['candidate', 'staging', 'production'] as const;

/** One change of an alias: who moved it from which version to which, when and why. */
export interface AliasChange {
  readonly alias: string;
  /** The version the alias pointed at before, or null when it was created. */
  readonly from: string | null;
  readonly to: string;
  readonly actor: string;
  readonly reason: string;
  /** ISO 8601, UTC. */
  readonly at: string;
  /** 1, 2, 3, … per alias. */
  readonly sequence: number;
}

/** Where an alias points now. */
export interface AliasState {
  readonly alias: string;
  readonly version: string;
  /** The change that set it. */
  readonly change: AliasChange;
}

export interface SetAliasOptions {
  /** Who moves the alias. */
  readonly actor: string;
  /** Why (shown in the history; e.g. `gate passed`, `promoted after review #42`). */
  readonly reason: string;
  /**
   * Compare-and-set: the version the alias must point at now (null: the alias must not exist yet);
   * otherwise the call fails with AliasConflictError and changes nothing.
   * @default - no precondition
   */
  readonly expectedCurrent?: string | null;
}

export interface SetAliasResult {
  /** False when the alias already pointed at the version (nothing was recorded). */
  readonly changed: boolean;
  /** The alias's latest change (the new one when `changed`). */
  readonly change: AliasChange;
}
