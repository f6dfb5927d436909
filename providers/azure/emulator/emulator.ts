/**
 * Everything the Azure flow needs, on loopback: Blob storage (azurite over https, taking bearer
 * tokens, with the `lake` and `registry` containers created), the Azure ML control plane over https
 * (a workspace with its `lake` and `registry` datastores and a `cpu-cluster` compute; command jobs
 * run for real as this install's `retail-mlops train-job`), and a managed-identity token endpoint.
 * `npm run emulate -- azure` starts it (bin/emulate.ts).
 *
 * The variables it announces make the production code work unchanged:
 * - `IDENTITY_ENDPOINT` + `IDENTITY_HEADER`: DefaultAzureCredential's ManagedIdentityCredential takes
 *   them (App Service's protocol) and gets its tokens, for Resource Manager and for Storage, from
 *   the emulator's endpoint: the same credential chain as on AKS, no key anywhere;
 * - `NODE_EXTRA_CA_CERTS`: Node trusts the emulator's self-signed certificate (both https servers);
 * - `RETAIL_MLOPS_AZURE_MANAGEMENT_ENDPOINT`: the Resource Manager endpoint;
 * - the workspace, compute and image names, and the lake and registry locations.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { rootCertificates } from 'node:tls';
import type { StoragePipelineOptions } from '@azure/storage-blob' with { 'resolution-mode': 'import' };
import { AZURITE_ACCOUNT, AZURITE_ACCOUNT_KEY, startAzurite, type RunningAzurite } from './azurite';
import { certificateIn } from './certificate';
import { createCommandJobRunner } from './command-job-runner';
import { startAzureMlControlPlane, type AzureMlControlPlane } from './control-plane';
import { startTokenEndpoint, type TokenEndpoint } from './token-endpoint';
import { EMULATOR_ENVIRONMENT, type RunningEmulator } from '../../emulation/running-emulator';

export interface AzureEmulatorOptions {
  /**
   * Keep the state (blobs, Azure ML resources and jobs, the certificate) in this directory across runs.
   * @default - a temporary directory, removed when the emulator stops
   */
  readonly dataDirectory?: string;
  /**
   * The first of three ports: Blob on `port`, Resource Manager on `port + 1`, the token endpoint on `port + 2`.
   * @default 0 (any free ports)
   */
  readonly port?: number;
  /** @default - silent */
  readonly log?: (line: string) => void;
}

/** The running emulator, with its parts (tests reach recorded requests and fault knobs through them). */
export interface RunningAzureEmulator extends RunningEmulator {
  readonly azurite: RunningAzurite;
  readonly controlPlane: AzureMlControlPlane;
  readonly tokens: TokenEndpoint;
  /** PEM of the certificate both https servers present. */
  readonly certificate: string;
}

export const EMULATOR_SUBSCRIPTION_ID = '00000000-0000-0000-0000-0000000e0000';
const RESOURCE_GROUP = 'rg-retail-mlops-dev';
const WORKSPACE = 'mlw-retail-mlops-dev';
const COMPUTE = 'cpu-cluster';
const PROJECT_IMAGE = 'retailmlops.azurecr.io/retail-mlops:local';
const CONTAINERS = { lake: 'lake', registry: 'registry' } as const;
/** The audiences a Resource Manager token may carry. */
const MANAGEMENT_AUDIENCES = ['https://management.azure.com', 'https://management.azure.com/', 'https://management.core.windows.net/'];

export async function startAzureEmulator(options: AzureEmulatorOptions = {}): Promise<RunningAzureEmulator> {
  const log = options.log ?? (() => undefined);
  const temporary = options.dataDirectory === undefined;
  const dataDirectory = options.dataDirectory ?? mkdtempSync(path.join(os.tmpdir(), 'retail-mlops-emulator-azure-'));
  const basePort = options.port ?? 0;
  const portAt = (offset: number): number => (basePort === 0 ? 0 : basePort + offset);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop();
    if (temporary) rmSync(dataDirectory, { recursive: true, force: true });
  };
  try {
    const certificate = certificateIn(path.join(dataDirectory, 'certificate'));
    const tokens = await startTokenEndpoint({ port: portAt(2) });
    stops.push(() => tokens.close());
    const blobDirectory = path.join(dataDirectory, 'azurite');
    mkdirSync(blobDirectory, { recursive: true });
    const azurite = await startAzurite({ location: blobDirectory, https: certificate, port: portAt(0) });
    stops.push(() => azurite.stop());
    log(`Blob (azurite) on ${azurite.accountUrl}`);
    const { BlobServiceClient, StorageSharedKeyCredential } = await import('@azure/storage-blob');
    const blob = new BlobServiceClient(azurite.accountUrl, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_ACCOUNT_KEY), {
      tlsOptions: { ca: [...rootCertificates, certificate.certificate] },
    } as StoragePipelineOptions);
    for (const container of Object.values(CONTAINERS)) await blob.getContainerClient(container).createIfNotExists();
    const controlPlane = await startAzureMlControlPlane({
      certificate: certificate.certificate,
      privateKey: certificate.privateKey,
      workspaces: [{ subscriptionId: EMULATOR_SUBSCRIPTION_ID, resourceGroup: RESOURCE_GROUP, workspace: WORKSPACE, computes: [COMPUTE], datastores: { ...CONTAINERS } }],
      verifyToken: (token) => tokens.verify(token, MANAGEMENT_AUDIENCES),
      runJob: createCommandJobRunner({
        accountUrl: azurite.accountUrl,
        account: AZURITE_ACCOUNT,
        accountKey: AZURITE_ACCOUNT_KEY,
        trustedCertificate: certificate.certificate,
        projectImage: PROJECT_IMAGE,
        workDirectory: path.join(dataDirectory, 'jobs'),
        log,
      }),
      port: portAt(1),
      statePath: path.join(dataDirectory, 'control-plane.json'),
      log,
    });
    stops.push(() => controlPlane.close());
    log(`Azure ML (Resource Manager) on ${controlPlane.endpoint}; managed identity on ${tokens.endpoint}`);
    const lake = `${azurite.accountUrl}/${CONTAINERS.lake}`;
    const registry = `${azurite.accountUrl}/${CONTAINERS.registry}`;
    const env: Record<string, string> = {
      RETAIL_MLOPS_PROVIDER: 'azure',
      RETAIL_MLOPS_ENVIRONMENT: EMULATOR_ENVIRONMENT,
      RETAIL_MLOPS_LAKE: lake,
      RETAIL_MLOPS_REGISTRY: registry,
      RETAIL_MLOPS_AZURE_SUBSCRIPTION_ID: EMULATOR_SUBSCRIPTION_ID,
      RETAIL_MLOPS_AZURE_RESOURCE_GROUP: RESOURCE_GROUP,
      RETAIL_MLOPS_AZURE_WORKSPACE: WORKSPACE,
      RETAIL_MLOPS_AZURE_COMPUTE: COMPUTE,
      RETAIL_MLOPS_AZURE_IMAGE: PROJECT_IMAGE,
      RETAIL_MLOPS_AZURE_MANAGEMENT_ENDPOINT: controlPlane.endpoint,
      NODE_EXTRA_CA_CERTS: certificate.certificatePath,
      IDENTITY_ENDPOINT: tokens.endpoint,
      IDENTITY_HEADER: tokens.header,
    };
    return { provider: 'azure', dataDirectory, env, lake, registry, azurite, controlPlane, tokens, certificate: certificate.certificate, close: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
