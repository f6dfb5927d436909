/**
 * The model registry on AWS: the shared registry (core/registry/object-store-registry.ts, which
 * documents the layout) in S3, with two AWS hooks:
 *
 * - the writers' lock is `.lock`, an S3 object taken and released by conditional writes
 *   (If-None-Match / If-Match; core/registry/object-lock.ts): S3 has no lock of its own;
 * - the mirror is a SageMaker Model Package Group: one model package per version, created when
 *   the version is registered. Its InferenceSpecification points at the version's folder
 *   (`s3://…/versions/<id>/`, uncompressed: the server loads model.onnx and
 *   artifacts/feature-statistics.json from it); CustomerMetadataProperties carry the version id,
 *   sequence number, content hash, where the record is, and a metrics/lineage summary (values
 *   ≤ 1024 characters; the full record is version.json). Aliases: the current target of alias `a`
 *   carries the tag `retail-mlops:alias:a`, and only it; moving `staging` or `production` to a
 *   version approves its package (ModelApprovalStatus Approved, with alias, actor and reason as
 *   the approval description). A package starts PendingManualApproval, which is what `candidate`
 *   means; an approved package stays approved when the alias moves on (it was approved once).
 *
 * SageMaker is written to, never read for answers: versions, sequence numbers and aliases come
 * from S3. The package of a version is found by its version id (listing the group) and created
 * with a ClientToken derived from the group and the content hash, so a retried mirror never makes
 * two packages of one version. If SageMaker fails, the registration or alias change is still
 * recorded in S3 and the call fails with REGISTRY_MIRROR_FAILED; running it again brings the
 * group up to date. Package version numbers equal sequence numbers while every mirror succeeds,
 * and may drift after a failure: the sequence number is in the metadata.
 */
import type { DescribeModelPackageCommandOutput, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { checkConnectionOptions, clientConfiguration, errorNameOf, loadSageMaker, type AwsConnectionOptions } from './connection';
import { SageMakerRequestError } from './errors';
import type { S3ObjectStorage } from './object-storage';
import { canonicalJson } from '../../core/canonical-json';
import { ProblemCollector, RetailMlopsError } from '../../core/errors';
import { sha256Hex } from '../../core/registry/identity';
import { createObjectLock } from '../../core/registry/object-lock';
import { createObjectStoreRegistry, type RegistryMirror } from '../../core/registry/object-store-registry';
import { REGISTRY_SPECIFICATION_VERSION, type ModelRegistry } from '../../core/registry/port';
import type { AliasState, ModelVersion } from '../../core/registry/types';

export interface SageMakerModelRegistryOptions extends AwsConnectionOptions {
  /** Where the registry lives: its layout under the store's prefix. */
  readonly storage: S3ObjectStorage;
  /** The Model Package Group that mirrors the registry (letters, digits, hyphens; ≤ 63). */
  readonly modelPackageGroupName: string;
  /**
   * The image that serves the models (the API's image in ECR): the packages' InferenceSpecification.
   * @default - no mirror: the registry in S3 alone (what a reader such as the API needs)
   */
  readonly servingImage?: string;
  /**
   * Create the Model Package Group on the first registration when it does not exist (the infra
   * stack creates it; this keeps a fresh account working).
   * @default true
   */
  readonly createGroup?: boolean;
  /**
   * How long a writer waits for the registry's lock before failing with RegistryBusyError.
   * @default 60_000
   */
  readonly lockTimeoutMs?: number;
  /**
   * A lock left unchanged this long by its holder (a writer that died) is taken over.
   * @default 30_000
   */
  readonly staleLockMs?: number;
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

/**
 * Creates the registry (no request until the first call).
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
  problems.check(options?.servingImage === undefined || (typeof options.servingImage === 'string' && /^\S{1,255}$/.test(options.servingImage)), `servingImage must be an image URI, got ${JSON.stringify(options?.servingImage)}`);
  const lockTimeoutMs = options?.lockTimeoutMs ?? 60_000;
  const staleLockMs = options?.staleLockMs ?? 30_000;
  problems.check(Number.isInteger(lockTimeoutMs) && lockTimeoutMs >= 0, `lockTimeoutMs must be an integer ≥ 0, got ${lockTimeoutMs}`);
  problems.check(Number.isInteger(staleLockMs) && staleLockMs >= 300, `staleLockMs must be an integer ≥ 300, got ${staleLockMs}`);
  const tags = options?.tags ?? {};
  problems.check(Object.keys(tags).length <= 40, 'at most 40 tags');
  problems.check(Object.keys(tags).every((key) => !key.startsWith(METADATA_PREFIX)), `tag keys must not start with ${METADATA_PREFIX}`);
  problems.throwIfAny();
  return createObjectStoreRegistry({
    provider: 'aws',
    storage: options.storage,
    lock: createObjectLock(options.storage, { timeoutMs: lockTimeoutMs, staleMs: staleLockMs }),
    mirror:
      options.servingImage === undefined
        ? undefined
        : new SageMakerMirror({ ...options, servingImage: options.servingImage, createGroup: options.createGroup ?? true, tags }),
  });
}

type MirrorOptions = SageMakerModelRegistryOptions & { readonly servingImage: string; readonly createGroup: boolean; readonly tags: Readonly<Record<string, string>> };

function clip(text: string): string {
  return text.length <= 1024 ? text : `${text.slice(0, 1021)}...`;
}

/** The Model Package Group as a one-way mirror of the registry. */
class SageMakerMirror implements RegistryMirror {
  readonly name: string;
  private client?: Promise<SageMakerClient>;
  private groupReady?: Promise<void>;
  /** Package ARNs by version id, and the version ids of packages already described (both never change). */
  private readonly packages = new Map<string, string>();
  private readonly described = new Set<string>();

  constructor(private readonly options: MirrorOptions) {
    this.name = `SageMaker Model Package Group ${options.modelPackageGroupName}`;
  }

  async reflect(version: ModelVersion, aliases: readonly AliasState[]): Promise<void> {
    try {
      await this.reflectPackage(version, aliases);
    } catch (error) {
      if (RetailMlopsError.isInstance(error)) throw error;
      throw new SageMakerRequestError('mirroring a version', this.options.modelPackageGroupName, { cause: error });
    }
  }

  private async reflectPackage(version: ModelVersion, aliases: readonly AliasState[]): Promise<void> {
    const { AddTagsCommand, DeleteTagsCommand, DescribeModelPackageCommand, ListTagsCommand, UpdateModelPackageCommand } = await loadSageMaker();
    const client = await this.sagemaker();
    const { arn, created } = await this.packageOf(version);
    const wanted = new Set(aliases.map((state) => `${ALIAS_TAG_PREFIX}${state.alias}`));
    if (!created || wanted.size > 0) {
      const present = new Set(((await client.send(new ListTagsCommand({ ResourceArn: arn }))).Tags ?? []).map((tag) => tag.Key ?? '').filter((key) => key.startsWith(ALIAS_TAG_PREFIX)));
      const missing = [...wanted].filter((key) => !present.has(key)).sort();
      const extra = [...present].filter((key) => !wanted.has(key)).sort();
      if (missing.length > 0) await client.send(new AddTagsCommand({ ResourceArn: arn, Tags: missing.map((Key) => ({ Key, Value: 'true' })) }));
      if (extra.length > 0) await client.send(new DeleteTagsCommand({ ResourceArn: arn, TagKeys: extra }));
    }
    const approving = aliases.filter((state) => APPROVING_ALIASES.includes(state.alias)).sort((a, b) => (a.change.at < b.change.at ? 1 : -1))[0];
    if (approving) {
      const description = await client.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
      if (description.ModelApprovalStatus !== 'Approved') {
        await client.send(
          new UpdateModelPackageCommand({
            ModelPackageArn: arn,
            ModelApprovalStatus: 'Approved',
            ApprovalDescription: clip(`${approving.alias}: ${approving.change.actor}: ${approving.change.reason}`),
          }),
        );
      }
    }
  }

  /** The package of a version: known, found in the group, or created now. */
  private async packageOf(version: ModelVersion): Promise<{ readonly arn: string; readonly created: boolean }> {
    const known = this.packages.get(version.id) ?? (await this.findPackage(version.id));
    if (known) return { arn: known, created: false };
    await this.ensureGroup();
    const { CreateModelPackageCommand } = await loadSageMaker();
    const client = await this.sagemaker();
    const response = await client.send(new CreateModelPackageCommand(this.modelPackageRequest(version)));
    const arn = response.ModelPackageArn!;
    this.packages.set(version.id, arn);
    return { arn, created: true };
  }

  /** Looks for the version's package in the group (each package is described once per process). */
  private async findPackage(id: string): Promise<string | undefined> {
    const { DescribeModelPackageCommand, ListModelPackagesCommand } = await loadSageMaker();
    const client = await this.sagemaker();
    let nextToken: string | undefined;
    do {
      let page;
      try {
        page = await client.send(
          new ListModelPackagesCommand({ ModelPackageGroupName: this.options.modelPackageGroupName, SortBy: 'CreationTime', SortOrder: 'Ascending', MaxResults: 100, NextToken: nextToken }),
        );
      } catch (error) {
        // the group does not exist yet: neither does the package
        if (errorNameOf(error) === 'ValidationException' || errorNameOf(error) === 'ResourceNotFound') return undefined;
        throw error;
      }
      for (const summary of page.ModelPackageSummaryList ?? []) {
        const arn = summary.ModelPackageArn;
        if (!arn || this.described.has(arn)) continue;
        let description: DescribeModelPackageCommandOutput;
        try {
          description = await client.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
        } catch (error) {
          if (errorNameOf(error) === 'ValidationException' || errorNameOf(error) === 'ResourceNotFound') continue;
          throw error;
        }
        this.described.add(arn);
        const versionId = description.CustomerMetadataProperties?.[`${METADATA_PREFIX}version-id`];
        if (versionId && !this.packages.has(versionId)) this.packages.set(versionId, arn);
      }
      nextToken = page.NextToken;
    } while (nextToken && !this.packages.has(id));
    return this.packages.get(id);
  }

  /** The CreateModelPackage request of a version: the same version always gives the same request. */
  private modelPackageRequest(version: ModelVersion) {
    const { metrics, lineage } = version;
    const folder = `versions/${version.id}`;
    const metadata: Record<string, string> = {
      'specification-version': REGISTRY_SPECIFICATION_VERSION,
      'version-id': version.id,
      'sequence': String(version.sequence),
      'content-hash': version.contentHash,
      'model-sha256': version.modelSha256,
      'model-size': String(version.modelSize),
      'record': `${folder}/version.json`,
      'created-by': clip(version.createdBy),
      'created-at': version.createdAt,
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
      ModelPackageDescription: clip(`retail-mlops model ${version.id} (#${version.sequence}): ${lineage.algorithm}, accuracy ${metrics.accuracy.toFixed(4)}, macro-F1 ${metrics.macroF1.toFixed(4)}`),
      ClientToken: sha256Hex(`${this.options.modelPackageGroupName}\n${version.contentHash}`).slice(0, 36),
      InferenceSpecification: {
        Containers: [
          {
            Image: this.options.servingImage,
            ModelDataSource: { S3DataSource: { S3Uri: this.options.storage.uriOf(`${folder}/`), S3DataType: 'S3Prefix' as const, CompressionType: 'None' as const } },
            Environment: { RETAIL_MLOPS_MODEL_FILE: 'model.onnx', RETAIL_MLOPS_FEATURE_STATISTICS_FILE: 'artifacts/feature-statistics.json' },
          },
        ],
        SupportedContentTypes: ['application/json'],
        SupportedResponseMIMETypes: ['application/json'],
      },
      ModelApprovalStatus: 'PendingManualApproval' as const,
      CustomerMetadataProperties: Object.fromEntries(Object.entries(metadata).map(([key, value]) => [`${METADATA_PREFIX}${key}`, value])),
      Tags: Object.entries({ ...this.options.tags, [`${METADATA_PREFIX}version-id`]: version.id }).map(([Key, Value]) => ({ Key, Value })),
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
        await client.send(new DescribeModelPackageGroupCommand({ ModelPackageGroupName: name })).catch(() => {
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
}
