/**
 * The azure provider: lakes and registries on Blob Storage (ADLS Gen2), training as Azure ML command
 * jobs running the project's own trainer in its image, versions mirrored into Azure ML model
 * versions. Settings (`AzureSettings`, from `.retail-mlops.json` or `RETAIL_MLOPS_AZURE_*`; see
 * core/config/settings.ts) say what a Blob URI cannot: subscription, resource group, workspace,
 * compute, image. The storage account and container are in the lake's and registry's URIs.
 *
 * Credentials: DefaultAzureCredential (workload identity on AKS, the service connection's federated
 * identity in Azure Pipelines, `az login` on a laptop); Blob Storage takes an account key instead
 * only when `RETAIL_MLOPS_AZURE_STORAGE_KEY` is set (emulators, accounts without Entra ID sign-in).
 * The SDKs load inside the functions below, so importing this module loads none of them.
 */
import type { TokenCredential } from '@azure/identity' with { 'resolution-mode': 'import' };
import type { StorageSharedKeyCredential } from '@azure/storage-blob' with { 'resolution-mode': 'import' };
import { formatBlobLocation, type BlobLocation } from './blob-location';
import { createBlobObjectStorage } from './blob-object-storage';
import { createDefaultCredential } from './credential';
import { createAzureMlModelRegistry } from './model-registry';
import { azureRegistryProblems, azureSettingsProblems, azureTrainingProblems, workspaceOf } from './settings';
import { createAzureMlTrainingBackend } from './training-backend';
import type { AzureSettings } from '../../core/config/settings';
import { InvalidOptionsError } from '../../core/errors';
import type { ParsedLocation } from '../locations';
import type { Provider } from '../registry';

function blobOf(location: ParsedLocation): BlobLocation {
  if (location.provider !== 'azure') throw new InvalidOptionsError('azure provider', [`the azure provider opens Blob locations, not ${location.provider} ones`]);
  return location.blob;
}

/** The account name of a Blob endpoint: `<account>.blob.core.windows.net`, or an emulator's `/<account>` path segment. */
function accountNameOf(blob: BlobLocation): string {
  const url = new URL(blob.accountUrl);
  return url.pathname.length > 1 ? url.pathname.slice(1) : url.hostname.split('.')[0];
}

/**
 * Creates the azure provider (no request is made until something is opened and used).
 * @throws InvalidOptionsError listing every problem of the settings
 */
export async function createAzureProvider(settings: AzureSettings, secrets: { readonly storageKey?: string } = {}): Promise<Provider> {
  const problems = azureSettingsProblems(settings);
  if (problems.length > 0) throw new InvalidOptionsError('azure settings', problems);
  let credential: Promise<TokenCredential> | undefined;
  const tokenCredential = (): Promise<TokenCredential> => (credential ??= createDefaultCredential());
  const storageCredential = async (blob: BlobLocation): Promise<TokenCredential | StorageSharedKeyCredential> => {
    if (secrets.storageKey === undefined) return tokenCredential();
    const { StorageSharedKeyCredential: SharedKey } = await import('@azure/storage-blob');
    return new SharedKey(accountNameOf(blob), secrets.storageKey);
  };
  return {
    name: 'azure',
    openStorage: async (location) => {
      const blob = blobOf(location);
      return createBlobObjectStorage({ ...blob, credential: await storageCredential(blob) });
    },
    openRegistry: async (location, options = {}) => {
      const blob = blobOf(location);
      const mirror = options.mirror ?? true;
      const missing = mirror ? azureRegistryProblems(settings) : [];
      if (missing.length > 0) throw new InvalidOptionsError('azure settings', missing);
      return createAzureMlModelRegistry({
        ...(mirror ? workspaceOf(settings) : {}),
        mirror,
        location: formatBlobLocation(blob),
        credential: await tokenCredential(),
        storageCredential: await storageCredential(blob),
        managementEndpoint: settings.managementEndpoint,
      });
    },
    openTrainingBackend: async ({ lake }) => {
      const blob = blobOf(lake);
      const missing = azureTrainingProblems(settings);
      if (missing.length > 0) throw new InvalidOptionsError('azure settings', missing);
      return createAzureMlTrainingBackend({
        ...workspaceOf(settings),
        image: settings.image as string,
        computeName: settings.compute,
        datastoreLocation: formatBlobLocation({ ...blob, prefix: '' }),
        credential: await tokenCredential(),
        storageCredential: await storageCredential(blob),
        managementEndpoint: settings.managementEndpoint,
      });
    },
  };
}
