/**
 * The model registry on Azure: the shared registry (core/registry/object-store-registry.ts, which
 * documents the layout) in Blob Storage, with two Azure hooks:
 *
 * - the writers' lock is a lease on the blob `.lock` (blob-lease-lock.ts), renewed while held and
 *   running out by itself when its holder dies;
 * - the mirror is Azure ML model versions (the catalog people see in the studio):
 *
 * ```
 * workspaces/<ws>/models/<modelName>                  the model container
 * workspaces/<ws>/models/<modelName>/versions/<n>     one version per sequence number n:
 *   modelUri   azureml://datastores/<datastore>/paths/<prefix>/versions/<id>/
 *   properties the lineage and headline metrics, as strings (retail-mlops.*)
 *   tags       retail-mlops.version-id = <id>; retail-mlops.alias.<alias> = <when> for each alias pointing here
 * ```
 *
 * Azure ML is written to, never read for answers: versions, sequence numbers and aliases come from
 * Blob Storage. A version's Azure ML body follows from its record and its aliases alone, so writing
 * it again changes nothing. If Azure ML fails, the registration or alias change is still recorded in
 * Blob Storage and the call fails with REGISTRY_MIRROR_FAILED; running it again brings the
 * workspace up to date.
 *
 * Both SDKs load when the registry is created. Version ids and validation come from the core
 * (`prepareRegistration`), so this registry accepts and rejects exactly what the local one does.
 */
import type { AzureMachineLearningWorkspaces, ModelVersion as AzureModelVersion } from '@azure/arm-machinelearning' with { 'resolution-mode': 'import' };
import type { TokenCredential } from '@azure/identity' with { 'resolution-mode': 'import' };
import type { StorageSharedKeyCredential } from '@azure/storage-blob' with { 'resolution-mode': 'import' };
import { withBlobLease } from './blob-lease-lock';
import { CONTAINER_NAME_PATTERN, parseBlobLocation } from './blob-location';
import { createBlobObjectStorage } from './blob-object-storage';
import { createDefaultCredential, isTokenCredential } from './credential';
import { azureFailure, hasStatus } from './errors';
import { createManagementClient, managementEndpointProblems } from './management-client';
import { InvalidOptionsError, ProblemCollector } from '../../core/errors';
import { createObjectStoreRegistry, REGISTRY_FORMAT, type RegistryLock, type RegistryMirror } from '../../core/registry/object-store-registry';
import type { ModelRegistry } from '../../core/registry/port';
import type { AliasState, ModelVersion } from '../../core/registry/types';

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
  /**
   * Mirror versions into the workspace's model versions (writers); a reader such as the API needs
   * only Blob Storage and leaves it off.
   * @default true
   */
  readonly mirror?: boolean;
  /** The subscription of the Azure ML workspace (required with the mirror). */
  readonly subscriptionId?: string;
  /** Required with the mirror. */
  readonly resourceGroup?: string;
  /** The Azure ML workspace (required with the mirror). */
  readonly workspace?: string;
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
  const mirrored = options?.mirror ?? true;
  problems.check(!mirrored || (typeof options?.subscriptionId === 'string' && GUID_PATTERN.test(options.subscriptionId)), `subscriptionId must be a GUID, got ${JSON.stringify(options?.subscriptionId)}`);
  problems.check(!mirrored || (typeof options?.resourceGroup === 'string' && RESOURCE_GROUP_PATTERN.test(options.resourceGroup)), `resourceGroup ${JSON.stringify(options?.resourceGroup)} is not a resource group name`);
  problems.check(!mirrored || (typeof options?.workspace === 'string' && WORKSPACE_PATTERN.test(options.workspace)), `workspace ${JSON.stringify(options?.workspace)} is not a workspace name (3–33 letters, digits, '-', '_')`);
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
  const blobName = (key: string): string => (location.prefix ? `${location.prefix}/${key}` : key);
  const lock: RegistryLock = {
    withLock: (body) => withBlobLease(container, blobName('.lock'), { timeoutMs: options.lockTimeoutMs ?? 60_000 }, (held) => body({ confirm: () => held.renew() })),
  };
  let mirror: AzureMlMirror | undefined;
  if (options.mirror ?? true) {
    const { client } = await createManagementClient({
      subscriptionId: options.subscriptionId as string,
      credential,
      endpoint: options.managementEndpoint,
      trustedCertificates: options.trustedCertificates,
    });
    mirror = new AzureMlMirror({
      client,
      prefix: location.prefix,
      resourceGroup: options.resourceGroup as string,
      workspace: options.workspace as string,
      modelName: options.modelName ?? 'retail-mlops-price-sensitivity',
      datastore: options.datastore ?? 'registry',
    });
  }
  return createObjectStoreRegistry({ provider: 'azure', storage, lock, mirror });
}

interface MirrorParts {
  readonly client: AzureMachineLearningWorkspaces;
  readonly prefix: string;
  readonly resourceGroup: string;
  readonly workspace: string;
  readonly modelName: string;
  readonly datastore: string;
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

/** The workspace's model versions as a one-way mirror of the registry. */
class AzureMlMirror implements RegistryMirror {
  readonly name: string;
  private containerReady?: Promise<void>;

  constructor(private readonly parts: MirrorParts) {
    this.name = `Azure ML model '${parts.modelName}' of workspace ${parts.workspace}`;
  }

  async reflect(version: ModelVersion, aliases: readonly AliasState[]): Promise<void> {
    await this.ensureModelContainer();
    const { client, resourceGroup, workspace, modelName, datastore, prefix } = this.parts;
    const pointing = Object.fromEntries(aliases.map((state) => [state.alias, state.change.at]));
    try {
      await client.modelVersions.createOrUpdate(resourceGroup, workspace, modelName, String(version.sequence), modelVersionBody(version, { datastore, prefix }, pointing));
    } catch (error) {
      throw azureFailure(`put version ${version.sequence} (${version.id}) of model '${modelName}'`, error);
    }
  }

  private async ensureModelContainer(): Promise<void> {
    this.containerReady ??= (async () => {
      const { client, resourceGroup, workspace, modelName } = this.parts;
      try {
        await client.modelContainers.get(resourceGroup, workspace, modelName);
        return;
      } catch (error) {
        if (!hasStatus(error, 404)) throw azureFailure(`get model '${modelName}'`, error);
      }
      try {
        await client.modelContainers.createOrUpdate(resourceGroup, workspace, modelName, {
          properties: { description: 'Basket price sensitivity (LA/MM/UM) from LGSR transactions, registered by retail-mlops', tags: { 'retail-mlops.format': REGISTRY_FORMAT } },
        });
      } catch (error) {
        throw azureFailure(`create model '${modelName}'`, error);
      }
    })();
    try {
      await this.containerReady;
    } catch (error) {
      this.containerReady = undefined;
      throw error;
    }
  }
}
