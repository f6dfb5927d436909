/**
 * Version identity and the shared rules of every registry provider: how a version id is derived
 * from content, what a reference or an alias name looks like, and the validation of a registration
 * (so every provider accepts and rejects exactly the same inputs).
 */
import { createHash } from 'node:crypto';
import { canonicalJson, NotJsonError } from '../canonical-json';
import { InvalidModelReferenceError } from './errors';
import { InvalidOptionsError, ProblemCollector } from '../errors';
import { REGISTRY_SPECIFICATION_VERSION } from './port';
import type { ArtifactDescriptor, ModelLineage, RegisterInput, SetAliasOptions } from './types';
import type { EvaluationMetrics } from '../evaluation/metrics';

/** `v-` and 12 lowercase hex digits. */
export const VERSION_ID_PATTERN = /^v-[0-9a-f]{12}$/;
/** `#` and a positive integer. */
export const SEQUENCE_REFERENCE_PATTERN = /^#([1-9][0-9]{0,14})$/;
/** Lowercase letter first, then lowercase letters, digits, `.`, `_`, `-`; at most 63 characters. */
export const ALIAS_NAME_PATTERN = /^[a-z][a-z0-9._-]{0,62}$/;
/** Letter or digit first, then letters, digits, `.`, `_`, `-`; at most 128 characters (a safe file and object name). */
export const ARTIFACT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const SHA256_PATTERN = /^[0-9a-f]{64}$/;

/** sha256 of bytes (or of a string's UTF-8), lowercase hex. */
export function sha256Hex(content: Uint8Array | string): string {
  return createHash('sha256').update(content).digest('hex');
}

export interface VersionIdentity {
  /** `v-<12 hex>`. */
  readonly id: string;
  /** Full sha256 hex of the canonical identity document. */
  readonly contentHash: string;
  readonly modelSha256: string;
}

/** The content a version id is derived from. */
export interface VersionContent {
  readonly model: Uint8Array;
  readonly metrics: EvaluationMetrics;
  readonly lineage: ModelLineage;
}

/**
 * The identity of a version: sha256 over the canonical JSON of the specification version, the model
 * bytes' sha256, the metrics and the lineage. Artifacts, `createdAt` and `createdBy` are not part of
 * it, so a report can show the version id of the model it describes before it is registered.
 */
export function computeVersionIdentity(input: VersionContent): VersionIdentity {
  const modelSha256 = sha256Hex(input.model);
  const contentHash = sha256Hex(
    canonicalJson({ specificationVersion: REGISTRY_SPECIFICATION_VERSION, modelSha256, metrics: input.metrics, lineage: input.lineage }),
  );
  return { id: `v-${contentHash.slice(0, 12)}`, contentHash, modelSha256 };
}

/** What a reference names. */
export type ParsedReference =
  | { readonly kind: 'version'; readonly id: string }
  | { readonly kind: 'sequence'; readonly sequence: number }
  | { readonly kind: 'alias'; readonly alias: string };

/**
 * Parses a reference: a version id, `#<sequence>`, or an alias name.
 * @throws InvalidModelReferenceError (an InvalidOptionsError) when it is none of them
 */
export function parseReference(reference: string): ParsedReference {
  if (typeof reference === 'string') {
    if (VERSION_ID_PATTERN.test(reference)) return { kind: 'version', id: reference };
    const sequence = SEQUENCE_REFERENCE_PATTERN.exec(reference);
    if (sequence) return { kind: 'sequence', sequence: Number(sequence[1]) };
    if (ALIAS_NAME_PATTERN.test(reference)) return { kind: 'alias', alias: reference };
  }
  throw new InvalidModelReferenceError(
    reference,
    `${JSON.stringify(reference)} is neither a version id (v-<12 hex>), a sequence number (#7) nor an alias name (${ALIAS_NAME_PATTERN.source})`,
  );
}

/**
 * Checks an alias name and the actor and reason of a change; every problem at once.
 * @throws InvalidOptionsError
 */
export function validateAliasChange(alias: string, options: Pick<SetAliasOptions, 'actor' | 'reason' | 'expectedCurrent'>): void {
  const problems = new ProblemCollector('alias change');
  problems.check(
    typeof alias === 'string' && ALIAS_NAME_PATTERN.test(alias) && !VERSION_ID_PATTERN.test(alias),
    `alias ${JSON.stringify(alias)} must match ${ALIAS_NAME_PATTERN.source} and not look like a version id`,
  );
  problems.check(typeof options?.actor === 'string' && options.actor.trim().length > 0, 'actor must be a non-empty string');
  problems.check(typeof options?.reason === 'string' && options.reason.trim().length > 0, 'reason must be a non-empty string');
  const expected = options?.expectedCurrent;
  problems.check(
    expected === undefined || expected === null || (typeof expected === 'string' && VERSION_ID_PATTERN.test(expected)),
    `expectedCurrent must be a version id or null, got ${JSON.stringify(expected)}`,
  );
  problems.throwIfAny();
}

const MEDIA_TYPES: Readonly<Record<string, string>> = {
  json: 'application/json',
  jsonl: 'application/x-ndjson',
  html: 'text/html; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  onnx: 'application/onnx',
  parquet: 'application/vnd.apache.parquet',
};

/** The media type of an artifact named `name` when none is given. */
export function mediaTypeFor(name: string): string {
  const extension = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : '';
  return MEDIA_TYPES[extension] ?? 'application/octet-stream';
}

/** A validated registration: identity, and the artifacts as bytes with their descriptors. */
export interface PreparedRegistration {
  readonly identity: VersionIdentity;
  readonly model: Uint8Array;
  readonly artifacts: readonly (ArtifactDescriptor & { readonly content: Uint8Array })[];
  readonly metrics: EvaluationMetrics;
  readonly lineage: ModelLineage;
  readonly createdBy: string;
}

function isNumberArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((item) => Number.isInteger(item));
}

/**
 * Validates a registration (reporting every problem at once), copies its bytes (later changes to
 * the caller's buffers cannot reach the registry) and computes its identity. Providers call this
 * first, so all of them accept and reject the same inputs.
 * @throws InvalidOptionsError
 */
export function prepareRegistration(input: RegisterInput): PreparedRegistration {
  const problems = new ProblemCollector('model registration');
  problems.check(input?.model instanceof Uint8Array && input.model.byteLength > 0, 'model must be non-empty bytes (a Uint8Array)');
  problems.check(typeof input?.createdBy === 'string' && input.createdBy.trim().length > 0, 'createdBy must be a non-empty string');

  const metrics = input?.metrics;
  problems.check(typeof metrics === 'object' && metrics !== null, 'metrics must be an object');
  if (typeof metrics === 'object' && metrics !== null) {
    for (const name of ['accuracy', 'macroF1', 'logLoss', 'rows'] as const) {
      problems.check(typeof metrics[name] === 'number' && Number.isFinite(metrics[name]), `metrics.${name} must be a finite number`);
    }
    problems.check(typeof metrics.perClass === 'object' && metrics.perClass !== null, 'metrics.perClass must be an object');
    problems.check(Array.isArray(metrics.confusionMatrix?.labels) && Array.isArray(metrics.confusionMatrix?.matrix), 'metrics.confusionMatrix must have labels and matrix');
  }

  const lineage = input?.lineage;
  problems.check(typeof lineage === 'object' && lineage !== null, 'lineage must be an object');
  if (typeof lineage === 'object' && lineage !== null) {
    for (const name of ['lakeVersion', 'featureSpecVersion', 'featureSpecHash', 'codeCommit', 'algorithm'] as const) {
      problems.check(typeof lineage[name] === 'string' && lineage[name].length > 0, `lineage.${name} must be a non-empty string`);
    }
    problems.check(
      Array.isArray(lineage.inputFiles) &&
        lineage.inputFiles.every((file) => typeof file?.path === 'string' && file.path.length > 0 && typeof file.sha256 === 'string' && SHA256_PATTERN.test(file.sha256)),
      'lineage.inputFiles must be a list of {path, sha256} with sha256 as 64 lowercase hex digits',
    );
    problems.check(typeof lineage.parameters === 'object' && lineage.parameters !== null && !Array.isArray(lineage.parameters), 'lineage.parameters must be an object');
    problems.check(isNumberArray(lineage.trainingWeeks) && lineage.trainingWeeks.length > 0, 'lineage.trainingWeeks must be a non-empty list of YYYYWW integers');
    problems.check(isNumberArray(lineage.evaluationWeeks), 'lineage.evaluationWeeks must be a list of YYYYWW integers');
  }

  const artifacts: (ArtifactDescriptor & { content: Uint8Array })[] = [];
  const seen = new Set<string>();
  const artifactInputs = input?.artifacts ?? [];
  problems.check(Array.isArray(artifactInputs), 'artifacts must be a list');
  for (const artifact of Array.isArray(artifactInputs) ? artifactInputs : []) {
    const name = artifact?.name;
    const validName = typeof name === 'string' && ARTIFACT_NAME_PATTERN.test(name);
    problems.check(validName, `artifact name ${JSON.stringify(name)} must match ${ARTIFACT_NAME_PATTERN.source}`);
    problems.check(!validName || !seen.has(name), `artifact name '${name}' is given more than once`);
    const validContent = typeof artifact?.content === 'string' || artifact?.content instanceof Uint8Array;
    problems.check(validContent, `artifact '${name}' content must be a string or a Uint8Array`);
    problems.check(artifact?.mediaType === undefined || typeof artifact.mediaType === 'string', `artifact '${name}' mediaType must be a string`);
    if (!validName || !validContent || seen.has(name)) continue;
    seen.add(name);
    const content = typeof artifact.content === 'string' ? new Uint8Array(Buffer.from(artifact.content, 'utf8')) : new Uint8Array(artifact.content);
    artifacts.push({ name, content, sha256: sha256Hex(content), size: content.byteLength, mediaType: artifact.mediaType ?? mediaTypeFor(name) });
  }
  problems.throwIfAny();

  let identity: VersionIdentity;
  let metricsCopy: EvaluationMetrics;
  let lineageCopy: ModelLineage;
  try {
    identity = computeVersionIdentity(input);
    // deep copies through JSON: the registry keeps what was given, not a reference to the caller's objects
    metricsCopy = JSON.parse(canonicalJson(input.metrics)) as EvaluationMetrics;
    lineageCopy = JSON.parse(canonicalJson(input.lineage)) as ModelLineage;
  } catch (error) {
    if (error instanceof NotJsonError) throw new InvalidOptionsError('model registration', [`metrics and lineage must be plain JSON: ${error.message}`]);
    throw error;
  }
  artifacts.sort((a, b) => (a.name < b.name ? -1 : 1));
  return { identity, model: new Uint8Array(input.model), artifacts, metrics: metricsCopy, lineage: lineageCopy, createdBy: input.createdBy };
}

/** The differences between stored artifacts and those of a new registration of the same content. */
export function artifactDifferences(stored: readonly ArtifactDescriptor[], given: readonly ArtifactDescriptor[]): string[] {
  const differences: string[] = [];
  const storedByName = new Map(stored.map((artifact) => [artifact.name, artifact]));
  const givenByName = new Map(given.map((artifact) => [artifact.name, artifact]));
  for (const [name, artifact] of givenByName) {
    const existing = storedByName.get(name);
    if (!existing) differences.push(`artifact '${name}' is new`);
    else if (existing.sha256 !== artifact.sha256) differences.push(`artifact '${name}' has other content`);
  }
  for (const name of storedByName.keys()) if (!givenByName.has(name)) differences.push(`artifact '${name}' is missing`);
  return differences;
}
