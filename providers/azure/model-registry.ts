/**
 * The model registry on Azure: Azure ML model versions (the catalog people see in the studio) and
 * Blob Storage (the bytes and the records).
 *
 * ```
 * Azure ML  workspaces/<ws>/models/<modelName>                   the model container
 *           workspaces/<ws>/models/<modelName>/versions/<n>      one version per sequence number n:
 *             modelUri   azureml://datastores/<datastore>/paths/<prefix>/versions/<id>/
 *             properties the lineage and headline metrics, as strings (retail-mlops.*)
 *             tags       retail-mlops.version-id = <id>; retail-mlops.alias.<alias> = <when> for each alias pointing here
 * Blob      <prefix>/registry.json                  format marker
 *           <prefix>/sequence.json                  the last sequence number handed out
 *           <prefix>/versions/<id>/model.onnx       the model; artifacts/<name> beside it; lineage.json
 *           <prefix>/versions/<id>/version.json     the full ModelVersion record: written last (the commit point)
 *           <prefix>/aliases/<alias>.jsonl          the alias's changes, one JSON line each, only ever appended to
 *           <prefix>/.lock                          the writers' lease lock
 * ```
 *
 * Writers take the lease lock (blob-lease-lock.ts), so sequence numbers and alias changes are
 * handed out one at a time across processes and machines; under it every write that must not be
 * lost carries an ETag condition. The alias history blob is the truth about aliases; the tags on the
 * Azure ML versions mirror it, so the studio shows which version is `production`.
 *
 * Both SDKs load when the registry is created. Version ids and validation come from the core
 * (`prepareRegistration`), so this registry accepts and rejects exactly what the local one does.
 */
import type { AzureMachineLearningWorkspaces, ModelVersion as AzureModelVersion } from '@azure/arm-machinelearning' with { 'resolution-mode': 'import' };
import type { TokenCredential } from '@azure/identity' with { 'resolution-mode': 'import' };
import type { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob' with { 'resolution-mode': 'import' };
import { withBlobLease } from './blob-lease-lock';
import { CONTAINER_NAME_PATTERN, parseBlobLocation } from './blob-location';
import { createBlobObjectStorage } from './blob-object-storage';
import { createDefaultCredential, isTokenCredential } from './credential';
import { azureFailure, hasStatus } from './errors';
import { createManagementClient, managementEndpointProblems } from './management-client';
import { InvalidOptionsError, ProblemCollector } from '../../core/errors';
import { compareAliasChanges, nextAliasChange } from '../../core/registry/alias-history';
import {
  AliasNotFoundError,
  ArtifactNotFoundError,
  ModelVersionNotFoundError,
  RegistryCorruptError,
  VersionConflictError,
} from '../../core/registry/errors';
import {
  artifactDifferences,
  parseReference,
  prepareRegistration,
  sha256Hex,
  validateAliasChange,
  type PreparedRegistration,
} from '../../core/registry/identity';
import { REGISTRY_SPECIFICATION_VERSION, type ModelRegistry } from '../../core/registry/port';
import type { AliasChange, AliasState, ModelVersion, RegisterInput, RegisterResult, SetAliasOptions, SetAliasResult } from '../../core/registry/types';
import { ObjectNotFoundError } from '../../core/storage/errors';
import type { ObjectStorage } from '../../core/storage/port';

const FORMAT = 'retail-mlops-model-registry';
/** Azure ML asset names: a letter or digit first, then letters, digits, '-', '_' and '.', at most 255. */
const ASSET_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;
/** Resource group names: letters, digits, '_', '-', '.', '(' and ')', at most 90, not ending in '.'. */
const RESOURCE_GROUP_PATTERN = /^[-\w.()]{1,89}[-\w()]$/;
const WORKSPACE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{2,32}$/;
const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The tag that names the retail-mlops version id of an Azure ML model version. */
export const VERSION_ID_TAG = 'retail-mlops.version-id';
/** The prefix of the tags that mirror the aliases pointing at a version. */
export const ALIAS_TAG_PREFIX = 'retail-mlops.alias.';

export interface AzureMlModelRegistryOptions {
  /** The subscription of the Azure ML workspace. */
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  /** The Azure ML workspace. */
  readonly workspace: string;
  /**
   * Where model files and records live: `https://<account>.blob.core.windows.net/<container>[/<prefix>]`
   * (the form of `RETAIL_MLOPS_REGISTRY` on Azure).
   */
  readonly location: string;
  /**
   * The workspace's datastore on that container (model URIs are `azureml://datastores/<datastore>/paths/…`).
   * @default 'registry'
   */
  readonly datastore?: string;
  /**
   * The Azure ML model (container) the versions belong to.
   * @default 'retail-mlops-price-sensitivity'
   */
  readonly modelName?: string;
  /**
   * The identity for Azure ML and, unless `storageCredential` is given, for Blob Storage.
   * @default - DefaultAzureCredential (workload identity on AKS)
   */
  readonly credential?: TokenCredential;
  /** @default - `credential` */
  readonly storageCredential?: TokenCredential | StorageSharedKeyCredential;
  /** @default 'https://management.azure.com' */
  readonly managementEndpoint?: string;
  /** PEM certificates trusted besides the system's for the management endpoint. @default - the system's */
  readonly trustedCertificates?: string;
  /**
   * How long a writer waits for the registry's lease lock before failing with RegistryBusyError.
   * @default 60_000
   */
  readonly lockTimeoutMs?: number;
}

function validate(options: AzureMlModelRegistryOptions): void {
  const problems = new ProblemCollector('Azure ML model registry options');
  problems.check(typeof options?.subscriptionId === 'string' && GUID_PATTERN.test(options.subscriptionId), `subscriptionId must be a GUID, got ${JSON.stringify(options?.subscriptionId)}`);
  problems.check(typeof options?.resourceGroup === 'string' && RESOURCE_GROUP_PATTERN.test(options.resourceGroup), `resourceGroup ${JSON.stringify(options?.resourceGroup)} is not a resource group name`);
  problems.check(typeof options?.workspace === 'string' && WORKSPACE_PATTERN.test(options.workspace), `workspace ${JSON.stringify(options?.workspace)} is not a workspace name (3–33 letters, digits, '-', '_')`);
  try {
    const location = parseBlobLocation(String(options?.location));
    problems.check(CONTAINER_NAME_PATTERN.test(location.container), `location's container '${location.container}' is not a container name`);
  } catch (error) {
    if (!(error instanceof InvalidOptionsError)) throw error;
    for (const problem of error.problems) problems.check(false, `location: ${problem}`);
  }
  const datastore = options?.datastore ?? 'registry';
  problems.check(typeof datastore === 'string' && /^[a-z0-9_]{1,255}$/i.test(datastore), `datastore ${JSON.stringify(datastore)} must hold only letters, digits and '_'`);
  const modelName = options?.modelName ?? 'retail-mlops-price-sensitivity';
  problems.check(typeof modelName === 'string' && ASSET_NAME_PATTERN.test(modelName), `modelName ${JSON.stringify(modelName)} is not an Azure ML asset name`);
  problems.check(options?.credential === undefined || isTokenCredential(options.credential), 'credential must be a TokenCredential');
  for (const problem of managementEndpointProblems(options?.managementEndpoint, options?.trustedCertificates)) problems.check(false, problem);
  const lockTimeoutMs = options?.lockTimeoutMs ?? 60_000;
  problems.check(Number.isInteger(lockTimeoutMs) && lockTimeoutMs >= 0, `lockTimeoutMs must be an integer ≥ 0, got ${lockTimeoutMs}`);
  problems.throwIfAny();
}

/**
 * Creates the registry: validates every option, then loads the SDKs (nothing is written until the
 * first registration).
 * @throws InvalidOptionsError listing every problem of the options
 */
export async function createAzureMlModelRegistry(options: AzureMlModelRegistryOptions): Promise<ModelRegistry> {
  validate(options);
  const credential = options.credential ?? (await createDefaultCredential());
  const location = parseBlobLocation(options.location);
  const storageCredential = options.storageCredential ?? credential;
  const storage = await createBlobObjectStorage({
    accountUrl: location.accountUrl,
    container: location.container,
    prefix: location.prefix,
    credential: storageCredential,
  });
  const { BlobServiceClient } = await import('@azure/storage-blob');
  const container = new BlobServiceClient(location.accountUrl, storageCredential).getContainerClient(location.container);
  const { client } = await createManagementClient({
    subscriptionId: options.subscriptionId,
    credential,
    endpoint: options.managementEndpoint,
    trustedCertificates: options.trustedCertificates,
  });
  return new AzureMlModelRegistry({
    client,
    storage,
    container,
    prefix: location.prefix,
    resourceGroup: options.resourceGroup,
    workspace: options.workspace,
    modelName: options.modelName ?? 'retail-mlops-price-sensitivity',
    datastore: options.datastore ?? 'registry',
    lockTimeoutMs: options.lockTimeoutMs ?? 60_000,
  });
}

interface RegistryParts {
  readonly client: AzureMachineLearningWorkspaces;
  readonly storage: ObjectStorage;
  readonly container: ContainerClient;
  readonly prefix: string;
  readonly resourceGroup: string;
  readonly workspace: string;
  readonly modelName: string;
  readonly datastore: string;
  readonly lockTimeoutMs: number;
}

/** The Azure ML model version body for a record (deterministic: the same record and aliases give the same body). */
export function modelVersionBody(
  version: ModelVersion,
  where: { readonly datastore: string; readonly prefix: string },
  aliases: Readonly<Record<string, string>>,
): AzureModelVersion {
  const folder = [where.prefix, 'versions', version.id].filter((part) => part.length > 0).join('/');
  const tags: Record<string, string> = { [VERSION_ID_TAG]: version.id };
  for (const alias of Object.keys(aliases).sort()) tags[`${ALIAS_TAG_PREFIX}${alias}`] = aliases[alias];
  return {
    properties: {
      description: `retail-mlops ${version.id}: ${version.lineage.algorithm}, accuracy ${version.metrics.accuracy}, macro-F1 ${version.metrics.macroF1}`,
      modelType: 'custom_model',
      modelUri: `azureml://datastores/${where.datastore}/paths/${folder}/`,
      isAnonymous: false,
      isArchived: false,
      tags,
      properties: {
        'retail-mlops.version-id': version.id,
        'retail-mlops.content-hash': version.contentHash,
        'retail-mlops.model-sha256': version.modelSha256,
        'retail-mlops.model-file': 'model.onnx',
        'retail-mlops.record': `${folder}/version.json`,
        'retail-mlops.lineage': `${folder}/lineage.json`,
        'retail-mlops.lake-version': version.lineage.lakeVersion,
        'retail-mlops.input-files': version.lineage.inputFiles.map((file) => `${file.path}@${file.sha256.slice(0, 12)}`).join(','),
        'retail-mlops.feature-spec-version': version.lineage.featureSpecVersion,
        'retail-mlops.feature-spec-hash': version.lineage.featureSpecHash,
        'retail-mlops.code-commit': version.lineage.codeCommit,
        'retail-mlops.algorithm': version.lineage.algorithm,
        'retail-mlops.parameters': JSON.stringify(version.lineage.parameters),
        'retail-mlops.training-weeks': version.lineage.trainingWeeks.join(','),
        'retail-mlops.evaluation-weeks': version.lineage.evaluationWeeks.join(','),
        'retail-mlops.accuracy': String(version.metrics.accuracy),
        'retail-mlops.macro-f1': String(version.metrics.macroF1),
        'retail-mlops.created-by': version.createdBy,
        'retail-mlops.created-at': version.createdAt,
      },
    },
  };
}

function parseJson<T>(bytes: Uint8Array, what: string): T {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
  } catch (error) {
    throw new RegistryCorruptError(`${what} is not valid JSON`, { cause: error });
  }
}

class AzureMlModelRegistry implements ModelRegistry {
  readonly specificationVersion = REGISTRY_SPECIFICATION_VERSION;
  readonly provider = 'azure';

  constructor(private readonly parts: RegistryParts) {}

  async register(input: RegisterInput): Promise<RegisterResult> {
    const prepared = prepareRegistration(input);
    const { id } = prepared.identity;
    const existing = await this.readVersion(id);
    if (existing) return { version: this.sameContentOrThrow(existing, prepared), created: false };

    return this.locked(async () => {
      const raced = await this.readVersion(id);
      if (raced) return { version: this.sameContentOrThrow(raced, prepared), created: false };
      await this.prepareLayout();
      const sequence = await this.nextSequence();
      const folder = `versions/${id}`;
      await this.parts.storage.put(`${folder}/model.onnx`, prepared.model, { contentType: 'application/onnx' });
      for (const artifact of prepared.artifacts) {
        await this.parts.storage.put(`${folder}/artifacts/${artifact.name}`, artifact.content, { contentType: artifact.mediaType });
      }
      await this.parts.storage.put(`${folder}/lineage.json`, Buffer.from(`${JSON.stringify(prepared.lineage, null, 2)}\n`), { contentType: 'application/json' });
      const version: ModelVersion = {
        id,
        sequence,
        contentHash: prepared.identity.contentHash,
        modelSha256: prepared.identity.modelSha256,
        modelSize: prepared.model.byteLength,
        artifacts: prepared.artifacts.map(({ name, sha256, size, mediaType }) => ({ name, sha256, size, mediaType })),
        metrics: prepared.metrics,
        lineage: prepared.lineage,
        createdAt: new Date().toISOString(),
        createdBy: prepared.createdBy,
      };
      await this.ensureModelContainer();
      await this.putModelVersion(version, {});
      // the commit point: a version exists once its record does
      await this.writeOnce(`${folder}/version.json`, `${JSON.stringify(version, null, 2)}\n`);
      return { version, created: true };
    });
  }

  async get(reference: string): Promise<ModelVersion> {
    return this.resolve(reference);
  }

  async list(): Promise<readonly ModelVersion[]> {
    const ids: string[] = [];
    try {
      for await (const item of this.parts.client.modelVersions.list(this.parts.resourceGroup, this.parts.workspace, this.parts.modelName)) {
        const id = item.properties.tags?.[VERSION_ID_TAG];
        if (id) ids.push(id);
      }
    } catch (error) {
      if (hasStatus(error, 404)) return [];
      throw azureFailure(`list the versions of model '${this.parts.modelName}'`, error);
    }
    const versions = await Promise.all([...new Set(ids)].map((id) => this.readVersion(id)));
    return versions.filter((version): version is ModelVersion => version !== undefined).sort((a, b) => a.sequence - b.sequence);
  }

  async getModelBytes(reference: string): Promise<Uint8Array> {
    const version = await this.resolve(reference);
    return this.readVerified(`versions/${version.id}/model.onnx`, version.modelSha256, `model of ${version.id}`);
  }

  async getArtifact(reference: string, name: string): Promise<Uint8Array> {
    const version = await this.resolve(reference);
    const artifact = version.artifacts.find((candidate) => candidate.name === name);
    if (!artifact) throw new ArtifactNotFoundError(version.id, name, version.artifacts.map((candidate) => candidate.name));
    return this.readVerified(`versions/${version.id}/artifacts/${artifact.name}`, artifact.sha256, `artifact '${name}' of ${version.id}`);
  }

  async setAlias(alias: string, reference: string, options: SetAliasOptions): Promise<SetAliasResult> {
    validateAliasChange(alias, options);
    parseReference(reference);
    return this.locked(async () => {
      const target = await this.resolve(reference);
      const { history, etag } = await this.readAliasHistory(alias);
      const next = nextAliasChange(alias, history, target.id, options);
      if (!next.changed) return next;
      const { change } = next;
      const current = change.from;
      await this.appendAliasChange(alias, history, change, etag);
      // mirror the aliases onto the Azure ML versions they left and reached
      const states = await this.aliases();
      const affected = [target, ...(current ? [await this.resolve(current)] : [])];
      for (const version of affected) {
        const pointing = Object.fromEntries(states.filter((state) => state.version === version.id).map((state) => [state.alias, state.change.at]));
        await this.putModelVersion(version, pointing);
      }
      return { changed: true, change };
    });
  }

  async aliases(): Promise<readonly AliasState[]> {
    const states: AliasState[] = [];
    for (const alias of await this.aliasNames()) {
      const change = (await this.readAliasHistory(alias)).history.at(-1);
      if (change) states.push({ alias, version: change.to, change });
    }
    return states;
  }

  async aliasHistory(alias?: string): Promise<readonly AliasChange[]> {
    if (alias !== undefined) {
      const { history } = await this.readAliasHistory(alias);
      if (history.length === 0) throw new AliasNotFoundError(alias);
      return history;
    }
    const all = (await Promise.all((await this.aliasNames()).map(async (name) => (await this.readAliasHistory(name)).history))).flat();
    return all.sort(compareAliasChanges);
  }

  // ---------------------------------------------------------------------------------------------

  private blobName(key: string): string {
    return this.parts.prefix ? `${this.parts.prefix}/${key}` : key;
  }

  private locked<T>(body: () => Promise<T>): Promise<T> {
    return withBlobLease(this.parts.container, this.blobName('.lock'), { timeoutMs: this.parts.lockTimeoutMs }, body);
  }

  /** Writes the format marker once; refuses a location that holds another format. */
  private async prepareLayout(): Promise<void> {
    const marker = await this.readIfExists('registry.json');
    if (marker) {
      const parsed = parseJson<{ format?: string; specificationVersion?: string }>(marker, 'registry.json');
      if (parsed.format !== FORMAT || parsed.specificationVersion !== REGISTRY_SPECIFICATION_VERSION) {
        throw new RegistryCorruptError(`${this.parts.storage.location} holds a registry of format ${parsed.format}/${parsed.specificationVersion}; this code writes ${FORMAT}/${REGISTRY_SPECIFICATION_VERSION}`);
      }
      return;
    }
    await this.writeOnce('registry.json', `${JSON.stringify({ format: FORMAT, specificationVersion: REGISTRY_SPECIFICATION_VERSION })}\n`);
  }

  /** Hands out the next sequence number (ETag-conditioned: a number is never handed out twice). */
  private async nextSequence(): Promise<number> {
    const blob = this.parts.container.getBlockBlobClient(this.blobName('sequence.json'));
    let last = 0;
    let etag: string | undefined;
    try {
      const response = await blob.download();
      etag = response.etag;
      last = parseJson<{ last?: number }>(await streamToBytes(response.readableStreamBody), 'sequence.json').last ?? 0;
    } catch (error) {
      if (!hasStatus(error, 404)) throw azureFailure('read sequence.json', error);
    }
    const next = last + 1;
    const body = `${JSON.stringify({ last: next })}\n`;
    try {
      await blob.upload(body, Buffer.byteLength(body), {
        conditions: etag ? { ifMatch: etag } : { ifNoneMatch: '*' },
        blobHTTPHeaders: { blobContentType: 'application/json' },
      });
    } catch (error) {
      throw azureFailure('hand out a sequence number (sequence.json changed under the lock)', error);
    }
    return next;
  }

  /** Creates a blob that must not exist yet. */
  private async writeOnce(key: string, content: string): Promise<void> {
    const blob = this.parts.container.getBlockBlobClient(this.blobName(key));
    try {
      await blob.upload(content, Buffer.byteLength(content), { conditions: { ifNoneMatch: '*' }, blobHTTPHeaders: { blobContentType: 'application/json' } });
    } catch (error) {
      throw azureFailure(`create '${key}' (it must not exist yet)`, error);
    }
  }

  private async ensureModelContainer(): Promise<void> {
    const { client, resourceGroup, workspace, modelName } = this.parts;
    try {
      await client.modelContainers.get(resourceGroup, workspace, modelName);
      return;
    } catch (error) {
      if (!hasStatus(error, 404)) throw azureFailure(`get model '${modelName}'`, error);
    }
    try {
      await client.modelContainers.createOrUpdate(resourceGroup, workspace, modelName, {
        properties: { description: 'Basket price sensitivity (LA/MM/UM) from LGSR transactions, registered by retail-mlops', tags: { 'retail-mlops.format': FORMAT } },
      });
    } catch (error) {
      throw azureFailure(`create model '${modelName}'`, error);
    }
  }

  private async putModelVersion(version: ModelVersion, aliases: Readonly<Record<string, string>>): Promise<void> {
    const { client, resourceGroup, workspace, modelName, datastore, prefix } = this.parts;
    try {
      const body = modelVersionBody(version, { datastore, prefix }, aliases);
      await client.modelVersions.createOrUpdate(resourceGroup, workspace, modelName, String(version.sequence), body);
    } catch (error) {
      throw azureFailure(`put version ${version.sequence} (${version.id}) of model '${modelName}'`, error);
    }
  }

  private sameContentOrThrow(existing: ModelVersion, prepared: PreparedRegistration): ModelVersion {
    if (existing.contentHash !== prepared.identity.contentHash) {
      throw new VersionConflictError(existing.id, [`the short id collides with content hash ${existing.contentHash}`]);
    }
    const differences = artifactDifferences(existing.artifacts, prepared.artifacts);
    if (differences.length > 0) throw new VersionConflictError(existing.id, differences);
    return existing;
  }

  private async readIfExists(key: string): Promise<Uint8Array | undefined> {
    try {
      return await this.parts.storage.get(key);
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return undefined;
      throw error;
    }
  }

  private async readVersion(id: string): Promise<ModelVersion | undefined> {
    const content = await this.readIfExists(`versions/${id}/version.json`);
    return content ? parseJson<ModelVersion>(content, `versions/${id}/version.json`) : undefined;
  }

  private async resolve(reference: string): Promise<ModelVersion> {
    const parsed = parseReference(reference);
    if (parsed.kind === 'version') {
      const version = await this.readVersion(parsed.id);
      if (!version) throw new ModelVersionNotFoundError(reference);
      return version;
    }
    if (parsed.kind === 'sequence') {
      const { client, resourceGroup, workspace, modelName } = this.parts;
      let item: AzureModelVersion;
      try {
        item = await client.modelVersions.get(resourceGroup, workspace, modelName, String(parsed.sequence));
      } catch (error) {
        if (hasStatus(error, 404)) throw new ModelVersionNotFoundError(reference);
        throw azureFailure(`get version ${parsed.sequence} of model '${modelName}'`, error);
      }
      const id = item.properties.tags?.[VERSION_ID_TAG];
      const version = id ? await this.readVersion(id) : undefined;
      // an Azure ML version left by a writer that died before its record was written is not a version
      if (!version || version.sequence !== parsed.sequence) throw new ModelVersionNotFoundError(reference);
      return version;
    }
    const latest = (await this.readAliasHistory(parsed.alias)).history.at(-1);
    if (!latest) throw new AliasNotFoundError(parsed.alias);
    const version = await this.readVersion(latest.to);
    if (!version) throw new RegistryCorruptError(`alias '${parsed.alias}' points at ${latest.to}, which is not in the registry`);
    return version;
  }

  private async readVerified(key: string, sha256: string, what: string): Promise<Uint8Array> {
    const content = await this.readIfExists(key);
    if (!content) throw new RegistryCorruptError(`the ${what} is missing from ${this.parts.storage.location}/${key}`);
    if (sha256Hex(content) !== sha256) throw new RegistryCorruptError(`the ${what} does not match its recorded sha256 ${sha256}`);
    return content;
  }

  private async aliasNames(): Promise<string[]> {
    return (await this.parts.storage.list('aliases/'))
      .map((object) => object.key.slice('aliases/'.length))
      .filter((name) => name.endsWith('.jsonl') && !name.includes('/'))
      .map((name) => name.slice(0, -'.jsonl'.length))
      .sort();
  }

  /** The alias's changes and the ETag of its history blob (undefined: no history yet). */
  private async readAliasHistory(alias: string): Promise<{ history: AliasChange[]; etag: string | undefined }> {
    const blob = this.parts.container.getBlockBlobClient(this.blobName(`aliases/${alias}.jsonl`));
    let text: string;
    let etag: string | undefined;
    try {
      const response = await blob.download();
      etag = response.etag;
      text = Buffer.from(await streamToBytes(response.readableStreamBody)).toString('utf8');
    } catch (error) {
      if (hasStatus(error, 404)) return { history: [], etag: undefined };
      throw azureFailure(`read the history of alias '${alias}'`, error);
    }
    const history = text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line, index) => {
        try {
          return JSON.parse(line) as AliasChange;
        } catch (error) {
          throw new RegistryCorruptError(`line ${index + 1} of aliases/${alias}.jsonl is not valid JSON`, { cause: error });
        }
      });
    return { history, etag };
  }

  /** Appends one line to the alias's history: the earlier lines are written back byte for byte, under an ETag condition. */
  private async appendAliasChange(alias: string, history: readonly AliasChange[], change: AliasChange, etag: string | undefined): Promise<void> {
    const content = [...history, change].map((entry) => `${JSON.stringify(entry)}\n`).join('');
    const blob = this.parts.container.getBlockBlobClient(this.blobName(`aliases/${alias}.jsonl`));
    try {
      await blob.upload(content, Buffer.byteLength(content), {
        conditions: etag ? { ifMatch: etag } : { ifNoneMatch: '*' },
        blobHTTPHeaders: { blobContentType: 'application/x-ndjson' },
      });
    } catch (error) {
      throw azureFailure(`append to the history of alias '${alias}' (it changed under the lock)`, error);
    }
  }
}

async function streamToBytes(stream: NodeJS.ReadableStream | undefined): Promise<Uint8Array> {
  if (!stream) return new Uint8Array(0);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return new Uint8Array(Buffer.concat(chunks));
}
