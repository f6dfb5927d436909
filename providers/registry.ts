import type { ParsedLocation } from './locations';
import type { AwsSettings, AzureSettings, ProviderName } from '../core/config/settings';
import { RetailMlopsError } from '../core/errors';
import type { ModelRegistry } from '../core/registry/port';
import type { ObjectStorage } from '../core/storage/port';
import type { TrainingBackend } from '../core/training/port';

/**
 * A provider: what opens an environment's object storage, model registry and managed training on
 * one cloud (or the local disk). Each one is a folder with one factory, registered here by name; cloud
 * SDKs load only when a provider opens something. Commands never call these factories themselves:
 * the resolver (providers/environment.ts) does, from the environment's settings.
 */
export interface Provider {
  readonly name: ProviderName;
  /** Object storage rooted at a location of this provider (a lake, a landing area, a registry). */
  openStorage(location: ParsedLocation): Promise<ObjectStorage>;
  /**
   * The model registry at a location of this provider. Writers mirror versions into the cloud's own
   * registry (SageMaker Model Registry, Azure ML model versions); a reader (the API) needs no mirror.
   */
  openRegistry(location: ParsedLocation, options?: RegistryOpenOptions): Promise<ModelRegistry>;
  /**
   * The provider's managed training backend (SageMaker, Azure ML), whose jobs read `lake`.
   * Absent for the local provider: in-process training needs no provider.
   */
  openTrainingBackend?(context: ManagedTrainingContext): Promise<TrainingBackend>;
}

export interface RegistryOpenOptions {
  /** Mirror versions and aliases into the cloud's own registry. @default true */
  readonly mirror?: boolean;
}

/** What a managed training backend needs besides the provider's settings. */
export interface ManagedTrainingContext {
  /** The lake jobs read. */
  readonly lake: ParsedLocation;
  /** A local directory for lake caches and job files. */
  readonly workDirectory: string;
}

/** The settings every factory receives; each reads its own block and validates it (every problem at once). */
export interface ProviderSettings {
  readonly aws?: AwsSettings;
  readonly azure?: AzureSettings;
  /** The Blob account key (emulators, accounts without Entra ID sign-in). @default - Entra ID through DefaultAzureCredential */
  readonly azureStorageKey?: string;
}

type ProviderFactory = (settings: ProviderSettings) => Promise<Provider>;

/** The known providers. Add one here (a lazy import keeps its SDKs unloaded until used). */
const factories: Readonly<Record<ProviderName, ProviderFactory>> = {
  local: async () => (await import('./local/provider.js')).createLocalProvider(),
  aws: async (settings) => (await import('./aws/provider.js')).createAwsProvider(settings.aws ?? {}),
  azure: async (settings) => (await import('./azure/provider.js')).createAzureProvider(settings.azure ?? {}, { storageKey: settings.azureStorageKey }),
};

export class ProviderNotFoundError extends RetailMlopsError {
  constructor(readonly requested: string, readonly known: readonly string[]) {
    super('PROVIDER_NOT_FOUND', `no provider named '${requested}'; known providers: ${known.join(', ')}`);
  }
}

export function providerNames(): string[] {
  return Object.keys(factories).sort();
}

/** True for a name the registry knows. */
export function isProviderName(name: string): name is ProviderName {
  return Object.prototype.hasOwnProperty.call(factories, name);
}

/** Creates a provider by name. @throws ProviderNotFoundError listing the known names · InvalidOptionsError from its settings */
export async function createProvider(name: string, settings: ProviderSettings = {}): Promise<Provider> {
  if (!isProviderName(name)) throw new ProviderNotFoundError(name, providerNames());
  return factories[name](settings);
}
