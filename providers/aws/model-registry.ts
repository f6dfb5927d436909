/**
 * The model registry port on SageMaker Model Registry + S3.
 *
 * A registry is a Model Package Group; a version is a model package in it (its ModelPackageVersion is
 * the version's sequence number, handed out by SageMaker, so concurrent writers never share one).
 * The bytes live in S3 under the registry's storage:
 *
 * ```
 * versions/<id>/<registration>/model.onnx             the ONNX model
 * versions/<id>/<registration>/artifacts/<name>       feature-statistics.json, report.html, …
 * versions/<id>/<registration>/metrics.json           the metrics document (ModelMetrics.ModelQuality points here)
 * versions/<id>/<registration>/record.json            the version record: metrics, lineage, artifact descriptors, createdBy
 * versions/<id>/package.json                          index: the model package of the version id
 * aliases/<alias>.jsonl                               the alias's changes, one JSON line each (append-only, see below)
 * ```
 *
 * Each registration writes under its own `<registration>` folder (a random id), so racing writers
 * never overwrite each other's objects; the package's InferenceSpecification points at that folder
 * (ModelDataSource, S3Prefix, uncompressed: the server loads model.onnx and
 * artifacts/feature-statistics.json from it). CustomerMetadataProperties carry the version id,
 * content hash, model sha256, where the record is and its sha256, and a metrics/lineage summary
 * (values ≤ 1024 characters; the full documents are the S3 objects). Identical content registered
 * concurrently becomes one package: CreateModelPackage's ClientToken is derived from the group and
 * the content hash; whoever's registration id the package carries created it, the others get
 * `created: false` and remove their folder.
 *
 * Aliases: the truth is `aliases/<alias>.jsonl` in S3. S3 has no append, so a change is a rewrite
 * of the whole object guarded by a conditional write (If-Match on the ETag read, If-None-Match: *
 * for the first change): a writer that lost a race re-reads and retries, so changes from any number
 * of processes form one unbroken from → to chain. SageMaker mirrors the aliases: the current target
 * of alias `a` carries the tag `retail-mlops:alias:a`; moving `staging` or `production` to a version
 * approves it (ModelApprovalStatus Approved, with actor and reason as the approval description);
 * every version starts PendingManualApproval, which is what `candidate` means. The mirror is
 * refreshed on every setAlias (also when nothing changed), from the history as it is then.
 */
import { randomBytes } from 'node:crypto';
import type { DescribeModelPackageCommandOutput, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { checkConnectionOptions, clientConfiguration, errorNameOf, loadSageMaker, type AwsConnectionOptions } from './connection';
import { SageMakerRequestError } from './errors';
import type { S3ObjectStorage } from './object-storage';
import { canonicalJson } from '../../core/canonical-json';
import { ProblemCollector, RetailMlopsError } from '../../core/errors';
import type { EvaluationMetrics } from '../../core/evaluation/metrics';
import { compareAliasChanges, nextAliasChange } from '../../core/registry/alias-history';
import {
  AliasNotFoundError,
  ArtifactNotFoundError,
  ModelVersionNotFoundError,
  RegistryBusyError,
  RegistryCorruptError,
  VersionConflictError,
} from '../../core/registry/errors';
import { artifactDifferences, parseReference, prepareRegistration, sha256Hex, validateAliasChange, type PreparedRegistration } from '../../core/registry/identity';
import { REGISTRY_SPECIFICATION_VERSION, type ModelRegistry } from '../../core/registry/port';
import type {
  AliasChange,
  AliasState,
  ArtifactDescriptor,
  ModelLineage,
  ModelVersion,
  RegisterInput,
  RegisterResult,
  SetAliasOptions,
  SetAliasResult,
} from '../../core/registry/types';

export interface SageMakerModelRegistryOptions extends AwsConnectionOptions {
  /** Where the model bytes, artifacts, records and alias histories live. */
  readonly storage: S3ObjectStorage;
  /** The Model Package Group that is the registry (letters, digits, hyphens; ≤ 63). */
  readonly modelPackageGroupName: string;
  /** The image that serves the models (the API's image in ECR): the packages' InferenceSpecification. */
  readonly servingImage: string;
  /**
   * Create the Model Package Group on the first registration when it does not exist (the infra
   * stack creates it; this keeps a fresh account working).
   * @default true
   */
  readonly createGroup?: boolean;
  /**
   * How often an alias change retries after losing a conditional-write race before failing with RegistryBusyError.
   * @default 25
   */
  readonly maxAliasRetries?: number;
  /**
   * Tags on every model package (and on the group when it is created here).
   * @default {}
   */
  readonly tags?: Readonly<Record<string, string>>;
}

/** Aliases whose target is approved in SageMaker when they move to it. */
export const APPROVING_ALIASES: readonly string[] = ['staging', 'production'];
/** Prefix of the customer metadata keys and tags the registry writes. */
export const METADATA_PREFIX = 'retail-mlops:';
export const ALIAS_TAG_PREFIX = `${METADATA_PREFIX}alias:`;

const GROUP_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const RECORD_FORMAT = 'retail-mlops-sagemaker-version';

/** What record.json holds: everything of a version that SageMaker does not. */
interface VersionRecord {
  readonly format: typeof RECORD_FORMAT;
  readonly specificationVersion: typeof REGISTRY_SPECIFICATION_VERSION;
  readonly id: string;
  readonly contentHash: string;
  readonly modelSha256: string;
  readonly modelSize: number;
  readonly artifacts: readonly ArtifactDescriptor[];
  readonly metrics: EvaluationMetrics;
  readonly lineage: ModelLineage;
  readonly createdBy: string;
  readonly registration: string;
}

/** A version as stored: the public record, and where its package and objects are. */
interface StoredVersion {
  readonly version: ModelVersion;
  readonly modelPackageArn: string;
  readonly registration: string;
}

/**
 * Creates the SageMaker model registry (no request until the first call).
 * @throws InvalidOptionsError listing every problem of the options
 */
export function createSageMakerModelRegistry(options: SageMakerModelRegistryOptions): ModelRegistry {
  const problems = new ProblemCollector('SageMaker model registry options');
  checkConnectionOptions(options, problems);
  problems.check(typeof options?.storage?.uriOf === 'function', 'storage must be an S3 object storage (createS3ObjectStorage)');
  problems.check(
    typeof options?.modelPackageGroupName === 'string' && GROUP_NAME_PATTERN.test(options.modelPackageGroupName),
    `modelPackageGroupName must be letters, digits and hyphens (≤ 63), got ${JSON.stringify(options?.modelPackageGroupName)}`,
  );
  problems.check(typeof options?.servingImage === 'string' && /^\S{1,255}$/.test(options.servingImage), `servingImage must be an image URI, got ${JSON.stringify(options?.servingImage)}`);
  const maxAliasRetries = options?.maxAliasRetries ?? 25;
  problems.check(Number.isInteger(maxAliasRetries) && maxAliasRetries >= 0, `maxAliasRetries must be an integer ≥ 0, got ${maxAliasRetries}`);
  const tags = options?.tags ?? {};
  problems.check(Object.keys(tags).length <= 40, 'at most 40 tags');
  problems.check(Object.keys(tags).every((key) => !key.startsWith(METADATA_PREFIX)), `tag keys must not start with ${METADATA_PREFIX}`);
  problems.throwIfAny();
  return new SageMakerModelRegistry({ ...options, createGroup: options.createGroup ?? true, maxAliasRetries, tags });
}

type ResolvedOptions = SageMakerModelRegistryOptions & {
  readonly createGroup: boolean;
  readonly maxAliasRetries: number;
  readonly tags: Readonly<Record<string, string>>;
};

function clip(text: string): string {
  return text.length <= 1024 ? text : `${text.slice(0, 1021)}...`;
}

function copy<T>(value: T): T {
  return structuredClone(value);
}

class SageMakerModelRegistry implements ModelRegistry {
  readonly specificationVersion = REGISTRY_SPECIFICATION_VERSION;
  readonly provider = 'aws';
  private client?: Promise<SageMakerClient>;
  private groupReady?: Promise<void>;
  /** Versions are immutable: their records are cached by package ARN (approval and tags are not part of them). */
  private readonly byArn = new Map<string, StoredVersion>();
  /** One alias change at a time per alias within this process (other processes are kept in line by conditional writes). */
  private readonly aliasQueues = new Map<string, Promise<unknown>>();

  constructor(private readonly options: ResolvedOptions) {}

  private get storage(): S3ObjectStorage {
    return this.options.storage;
  }

  // ---- versions -------------------------------------------------------------------------------

  async register(input: RegisterInput): Promise<RegisterResult> {
    const prepared = prepareRegistration(input);
    const { id } = prepared.identity;
    const existing = await this.findById(id);
    if (existing) return { version: copy(this.sameContentOrThrow(existing, prepared)), created: false };

    const registration = randomBytes(6).toString('hex');
    const folder = `versions/${id}/${registration}`;
    const record: VersionRecord = {
      format: RECORD_FORMAT,
      specificationVersion: REGISTRY_SPECIFICATION_VERSION,
      id,
      contentHash: prepared.identity.contentHash,
      modelSha256: prepared.identity.modelSha256,
      modelSize: prepared.model.byteLength,
      artifacts: prepared.artifacts.map(({ name, sha256, size, mediaType }) => ({ name, sha256, size, mediaType })),
      metrics: prepared.metrics,
      lineage: prepared.lineage,
      createdBy: prepared.createdBy,
      registration,
    };
    const recordBytes = Buffer.from(`${JSON.stringify(record, null, 1)}\n`);
    await this.storage.put(`${folder}/model.onnx`, prepared.model, { contentType: 'application/onnx' });
    for (const artifact of prepared.artifacts) await this.storage.put(`${folder}/artifacts/${artifact.name}`, artifact.content, { contentType: artifact.mediaType });
    await this.storage.put(`${folder}/metrics.json`, Buffer.from(`${JSON.stringify(prepared.metrics, null, 1)}\n`), { contentType: 'application/json' });
    await this.storage.put(`${folder}/record.json`, recordBytes, { contentType: 'application/json' });

    const discardOurFolder = async (): Promise<void> => {
      await this.storage.delete((await this.storage.list(`${folder}/`)).map((object) => object.key));
    };
    await this.ensureGroup();
    const { CreateModelPackageCommand } = await loadSageMaker();
    let modelPackageArn: string;
    try {
      const request = this.modelPackageRequest(prepared, record, recordBytes, folder);
      const response = await this.sagemaker().then((client) => client.send(new CreateModelPackageCommand(request)));
      modelPackageArn = response.ModelPackageArn!;
    } catch (error) {
      // another writer may have won with the same token but other parameters (AWS answers a token reuse that way)
      const winner = await this.findById(id);
      if (winner) {
        await discardOurFolder();
        return { version: copy(this.sameContentOrThrow(winner, prepared)), created: false };
      }
      throw new SageMakerRequestError('CreateModelPackage', this.options.modelPackageGroupName, { cause: error });
    }
    const stored = await this.readPackage(modelPackageArn);
    if (!stored || stored.registration !== registration) {
      // the ClientToken returned the package of an identical registration that was first
      await discardOurFolder();
      if (!stored) throw new RegistryCorruptError(`model package ${modelPackageArn} has no retail-mlops record`);
      return { version: copy(this.sameContentOrThrow(stored, prepared)), created: false };
    }
    await this.storage.putConditionally(
      `versions/${id}/package.json`,
      Buffer.from(`${JSON.stringify({ modelPackageArn, registration })}\n`),
      { ifNoneMatch: '*' },
      { contentType: 'application/json' },
    );
    return { version: copy(stored.version), created: true };
  }

  async get(reference: string): Promise<ModelVersion> {
    return copy((await this.resolve(reference)).version);
  }

  async list(): Promise<readonly ModelVersion[]> {
    return (await this.allVersions()).map((stored) => copy(stored.version));
  }

  async getModelBytes(reference: string): Promise<Uint8Array> {
    const stored = await this.resolve(reference);
    const { version } = stored;
    return this.readVerified(`versions/${version.id}/${stored.registration}/model.onnx`, version.modelSha256, `model of ${version.id}`);
  }

  async getArtifact(reference: string, name: string): Promise<Uint8Array> {
    const stored = await this.resolve(reference);
    const { version } = stored;
    const artifact = version.artifacts.find((candidate) => candidate.name === name);
    if (!artifact) throw new ArtifactNotFoundError(version.id, name, version.artifacts.map((candidate) => candidate.name));
    return this.readVerified(`versions/${version.id}/${stored.registration}/artifacts/${artifact.name}`, artifact.sha256, `artifact '${name}' of ${version.id}`);
  }

  // ---- aliases --------------------------------------------------------------------------------

  async setAlias(alias: string, reference: string, options: SetAliasOptions): Promise<SetAliasResult> {
    validateAliasChange(alias, options);
    parseReference(reference);
    const previous = this.aliasQueues.get(alias) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.changeAlias(alias, reference, options));
    this.aliasQueues.set(alias, next);
    try {
      return await next;
    } finally {
      if (this.aliasQueues.get(alias) === next) this.aliasQueues.delete(alias);
    }
  }

  async aliases(): Promise<readonly AliasState[]> {
    const states: AliasState[] = [];
    for (const alias of await this.aliasNames()) {
      const change = (await this.readAliasHistory(alias)).changes.at(-1);
      if (change) states.push({ alias, version: change.to, change });
    }
    return states;
  }

  async aliasHistory(alias?: string): Promise<readonly AliasChange[]> {
    if (alias !== undefined) {
      const { changes } = await this.readAliasHistory(alias);
      if (changes.length === 0) throw new AliasNotFoundError(alias);
      return changes;
    }
    const all = (await Promise.all((await this.aliasNames()).map(async (name) => (await this.readAliasHistory(name)).changes))).flat();
    return all.sort(compareAliasChanges);
  }

  // ---------------------------------------------------------------------------------------------

  private async changeAlias(alias: string, reference: string, options: SetAliasOptions): Promise<SetAliasResult> {
    for (let attempt = 0; attempt <= this.options.maxAliasRetries; attempt++) {
      const target = await this.resolve(reference);
      const { changes, etag } = await this.readAliasHistory(alias);
      const next = nextAliasChange(alias, changes, target.version.id, options);
      if (!next.changed) {
        await this.mirrorAlias(alias, options);
        return next;
      }
      const { change } = next;
      const body = Buffer.from([...changes, change].map((line) => `${JSON.stringify(line)}\n`).join(''));
      const { written } = await this.storage.putConditionally(this.aliasKey(alias), body, etag ? { ifMatch: etag } : { ifNoneMatch: '*' }, { contentType: 'application/x-ndjson' });
      if (written) {
        await this.mirrorAlias(alias, options);
        return { changed: true, change };
      }
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * Math.min(attempt + 1, 10)));
    }
    throw new RegistryBusyError(`alias '${alias}' kept changing under ${this.options.maxAliasRetries + 1} attempts to move it; try again`);
  }

  /**
   * Makes SageMaker reflect the alias as the history has it now: the alias tag on its current
   * target only, and the target approved when the alias approves.
   */
  private async mirrorAlias(alias: string, options: SetAliasOptions): Promise<void> {
    const { changes } = await this.readAliasHistory(alias);
    const current = changes.at(-1)?.to;
    if (!current) return;
    const tagKey = `${ALIAS_TAG_PREFIX}${alias}`;
    const { AddTagsCommand, DeleteTagsCommand, DescribeModelPackageCommand, UpdateModelPackageCommand } = await loadSageMaker();
    const client = await this.sagemaker();
    const earlier = new Set(changes.flatMap((change) => [change.from, change.to]).filter((id): id is string => id !== null && id !== current));
    try {
      const target = await this.resolve(current);
      await client.send(new AddTagsCommand({ ResourceArn: target.modelPackageArn, Tags: [{ Key: tagKey, Value: 'true' }] }));
      if (APPROVING_ALIASES.includes(alias)) {
        const description = await client.send(new DescribeModelPackageCommand({ ModelPackageName: target.modelPackageArn }));
        if (description.ModelApprovalStatus !== 'Approved') {
          await client.send(
            new UpdateModelPackageCommand({
              ModelPackageArn: target.modelPackageArn,
              ModelApprovalStatus: 'Approved',
              ApprovalDescription: clip(`${alias}: ${options.actor}: ${options.reason}`),
            }),
          );
        }
      }
      for (const id of earlier) {
        const stored = await this.findById(id);
        if (stored) await client.send(new DeleteTagsCommand({ ResourceArn: stored.modelPackageArn, TagKeys: [tagKey] }));
      }
    } catch (error) {
      if (RetailMlopsError.isInstance(error)) throw error;
      throw new SageMakerRequestError(`mirroring alias '${alias}' (it is recorded in S3; setAlias again to retry the mirror)`, this.options.modelPackageGroupName, {
        cause: error,
      });
    }
  }

  private aliasKey(alias: string): string {
    return `aliases/${alias}.jsonl`;
  }

  private async aliasNames(): Promise<string[]> {
    return (await this.storage.list('aliases/'))
      .map((object) => object.key.slice('aliases/'.length))
      .filter((name) => name.endsWith('.jsonl') && !name.includes('/'))
      .map((name) => name.slice(0, -'.jsonl'.length))
      .sort();
  }

  private async readAliasHistory(alias: string): Promise<{ readonly changes: AliasChange[]; readonly etag?: string }> {
    const found = await this.storage.getVersioned(this.aliasKey(alias));
    if (!found) return { changes: [] };
    const lines = Buffer.from(found.body).toString('utf8').split('\n').filter((line) => line.length > 0);
    const changes = lines.map((line, index) => {
      try {
        return JSON.parse(line) as AliasChange;
      } catch (error) {
        throw new RegistryCorruptError(`line ${index + 1} of ${this.storage.uriOf(this.aliasKey(alias))} is not JSON`, { cause: error });
      }
    });
    return { changes, etag: found.etag };
  }

  private async resolve(reference: string): Promise<StoredVersion> {
    const parsed = parseReference(reference);
    if (parsed.kind === 'version') {
      const stored = await this.findById(parsed.id);
      if (!stored) throw new ModelVersionNotFoundError(reference);
      return stored;
    }
    if (parsed.kind === 'sequence') {
      const stored = (await this.allVersions()).find((candidate) => candidate.version.sequence === parsed.sequence);
      if (!stored) throw new ModelVersionNotFoundError(reference);
      return stored;
    }
    const latest = (await this.readAliasHistory(parsed.alias)).changes.at(-1);
    if (!latest) throw new AliasNotFoundError(parsed.alias);
    const stored = await this.findById(latest.to);
    if (!stored) throw new RegistryCorruptError(`alias '${parsed.alias}' points at ${latest.to}, which is not in the registry`);
    return stored;
  }

  /** A version by id: through the index object, else (a writer died before writing it) by listing the group. */
  private async findById(id: string): Promise<StoredVersion | undefined> {
    const index = await this.storage.getVersioned(`versions/${id}/package.json`);
    if (index) {
      const { modelPackageArn } = JSON.parse(Buffer.from(index.body).toString('utf8')) as { modelPackageArn: string };
      const stored = await this.readPackage(modelPackageArn);
      if (stored) return stored;
    }
    return (await this.allVersions()).find((candidate) => candidate.version.id === id);
  }

  /** Every version of the group, oldest first; of duplicate packages of one content (after a crash), the first. */
  private async allVersions(): Promise<StoredVersion[]> {
    const { ListModelPackagesCommand } = await loadSageMaker();
    const client = await this.sagemaker();
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await this.call('ListModelPackages', () =>
        client.send(new ListModelPackagesCommand({ ModelPackageGroupName: this.options.modelPackageGroupName, SortBy: 'CreationTime', SortOrder: 'Ascending', MaxResults: 100, NextToken: token })),
      );
      for (const summary of page.ModelPackageSummaryList ?? []) if (summary.ModelPackageArn) arns.push(summary.ModelPackageArn);
      nextToken = page.NextToken;
    } while (nextToken);
    const stored = (await Promise.all(arns.map((arn) => this.readPackage(arn)))).filter((entry): entry is StoredVersion => entry !== undefined);
    const first = new Map<string, StoredVersion>();
    for (const entry of stored.sort((a, b) => a.version.sequence - b.version.sequence)) {
      if (!first.has(entry.version.id)) first.set(entry.version.id, entry);
    }
    return [...first.values()];
  }

  /** A model package as a version (cached), or undefined when it is not one of ours. */
  private async readPackage(arn: string): Promise<StoredVersion | undefined> {
    const cached = this.byArn.get(arn);
    if (cached) return cached;
    const { DescribeModelPackageCommand } = await loadSageMaker();
    const client = await this.sagemaker();
    let description: DescribeModelPackageCommandOutput;
    try {
      description = await client.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
    } catch (error) {
      if (errorNameOf(error) === 'ValidationException' || errorNameOf(error) === 'ResourceNotFound') return undefined;
      throw new SageMakerRequestError('DescribeModelPackage', arn, { cause: error });
    }
    const metadata = description.CustomerMetadataProperties ?? {};
    const recordKey = metadata[`${METADATA_PREFIX}record`];
    if (!recordKey || metadata[`${METADATA_PREFIX}specification-version`] !== REGISTRY_SPECIFICATION_VERSION) return undefined;
    const bytes = await this.storage.getVersioned(recordKey);
    if (!bytes) throw new RegistryCorruptError(`the record ${this.storage.uriOf(recordKey)} of model package ${arn} is missing`);
    if (sha256Hex(bytes.body) !== metadata[`${METADATA_PREFIX}record-sha256`]) {
      throw new RegistryCorruptError(`the record ${this.storage.uriOf(recordKey)} does not match the sha256 model package ${arn} recorded`);
    }
    const record = JSON.parse(Buffer.from(bytes.body).toString('utf8')) as VersionRecord;
    const stored: StoredVersion = {
      modelPackageArn: arn,
      registration: record.registration,
      version: {
        id: record.id,
        sequence: description.ModelPackageVersion ?? 0,
        contentHash: record.contentHash,
        modelSha256: record.modelSha256,
        modelSize: record.modelSize,
        artifacts: record.artifacts,
        metrics: record.metrics,
        lineage: record.lineage,
        createdAt: (description.CreationTime ?? new Date(0)).toISOString(),
        createdBy: record.createdBy,
      },
    };
    this.byArn.set(arn, stored);
    return stored;
  }

  private sameContentOrThrow(existing: StoredVersion, prepared: PreparedRegistration): ModelVersion {
    if (existing.version.contentHash !== prepared.identity.contentHash) {
      throw new VersionConflictError(existing.version.id, [`the short id collides with content hash ${existing.version.contentHash}`]);
    }
    const differences = artifactDifferences(existing.version.artifacts, prepared.artifacts);
    if (differences.length > 0) throw new VersionConflictError(existing.version.id, differences);
    return existing.version;
  }

  private async readVerified(key: string, sha256: string, what: string): Promise<Uint8Array> {
    const found = await this.storage.getVersioned(key);
    if (!found) throw new RegistryCorruptError(`the ${what} is missing from ${this.storage.uriOf(key)}`);
    if (sha256Hex(found.body) !== sha256) throw new RegistryCorruptError(`the ${what} does not match its recorded sha256 ${sha256}`);
    return found.body;
  }

  /** The CreateModelPackage request of a registration (its objects already in S3). */
  private modelPackageRequest(prepared: PreparedRegistration, record: VersionRecord, recordBytes: Uint8Array, folder: string) {
    const { metrics, lineage } = prepared;
    const metadata: Record<string, string> = {
      'specification-version': REGISTRY_SPECIFICATION_VERSION,
      'version-id': record.id,
      'content-hash': record.contentHash,
      'model-sha256': record.modelSha256,
      'model-size': String(record.modelSize),
      'record': `${folder}/record.json`,
      'record-sha256': sha256Hex(recordBytes),
      'registration': record.registration,
      'created-by': clip(record.createdBy),
      'algorithm': clip(lineage.algorithm),
      'accuracy': String(metrics.accuracy),
      'macro-f1': String(metrics.macroF1),
      'log-loss': String(metrics.logLoss),
      'evaluated-rows': String(metrics.rows),
      'lake-version': clip(lineage.lakeVersion),
      'code-commit': clip(lineage.codeCommit),
      'feature-spec': clip(`${lineage.featureSpecVersion} ${lineage.featureSpecHash}`),
      'training-weeks': clip(lineage.trainingWeeks.join(',')),
      'evaluation-weeks': clip(lineage.evaluationWeeks.join(',')),
      'lineage-sha256': sha256Hex(canonicalJson(lineage)),
    };
    return {
      ModelPackageGroupName: this.options.modelPackageGroupName,
      ModelPackageDescription: clip(`retail-mlops model ${record.id}: ${lineage.algorithm}, accuracy ${metrics.accuracy.toFixed(4)}, macro-F1 ${metrics.macroF1.toFixed(4)}`),
      ClientToken: sha256Hex(`${this.options.modelPackageGroupName}\n${record.contentHash}`).slice(0, 36),
      InferenceSpecification: {
        Containers: [
          {
            Image: this.options.servingImage,
            ModelDataSource: { S3DataSource: { S3Uri: this.storage.uriOf(`${folder}/`), S3DataType: 'S3Prefix' as const, CompressionType: 'None' as const } },
            Environment: { RETAIL_MLOPS_MODEL_FILE: 'model.onnx', RETAIL_MLOPS_FEATURE_STATISTICS_FILE: 'artifacts/feature-statistics.json' },
          },
        ],
        SupportedContentTypes: ['application/json'],
        SupportedResponseMIMETypes: ['application/json'],
      },
      ModelMetrics: { ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: this.storage.uriOf(`${folder}/metrics.json`) } } },
      ModelApprovalStatus: 'PendingManualApproval' as const,
      CustomerMetadataProperties: Object.fromEntries(Object.entries(metadata).map(([key, value]) => [`${METADATA_PREFIX}${key}`, value])),
      Tags: Object.entries({ ...this.options.tags, [`${METADATA_PREFIX}version-id`]: record.id }).map(([Key, Value]) => ({ Key, Value })),
    };
  }

  private async ensureGroup(): Promise<void> {
    this.groupReady ??= (async () => {
      const { CreateModelPackageGroupCommand, DescribeModelPackageGroupCommand } = await loadSageMaker();
      const client = await this.sagemaker();
      const name = this.options.modelPackageGroupName;
      try {
        await client.send(new DescribeModelPackageGroupCommand({ ModelPackageGroupName: name }));
        return;
      } catch (error) {
        if (!['ValidationException', 'ResourceNotFound'].includes(errorNameOf(error) ?? '') || !this.options.createGroup) {
          throw new SageMakerRequestError('DescribeModelPackageGroup', name, { cause: error });
        }
      }
      try {
        await client.send(
          new CreateModelPackageGroupCommand({
            ModelPackageGroupName: name,
            ModelPackageGroupDescription: 'retail-mlops: basket price-sensitivity models (LA/MM/UM)',
            Tags: Object.entries(this.options.tags).map(([Key, Value]) => ({ Key, Value })),
          }),
        );
      } catch (error) {
        // a concurrent writer created it first
        await this.call('DescribeModelPackageGroup', () => client.send(new DescribeModelPackageGroupCommand({ ModelPackageGroupName: name }))).catch(() => {
          throw new SageMakerRequestError('CreateModelPackageGroup', name, { cause: error });
        });
      }
    })();
    try {
      await this.groupReady;
    } catch (error) {
      this.groupReady = undefined;
      throw error;
    }
  }

  private sagemaker(): Promise<SageMakerClient> {
    this.client ??= loadSageMaker().then(({ SageMakerClient: Client }) => new Client(clientConfiguration(this.options)));
    return this.client;
  }

  private async call<T>(operation: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      throw new SageMakerRequestError(operation, this.options.modelPackageGroupName, { cause: error });
    }
  }
}
