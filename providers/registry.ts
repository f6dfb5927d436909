import { RetailMlopsError } from '../core/errors';
import type { ModelRegistry } from '../core/registry/port';
import type { ObjectStorage } from '../core/storage/port';
import type { TrainingBackend } from '../core/training/contract';

/**
 * A provider: where the lake, the model registry and training run. Each one is a folder with one
 * factory, registered here by name; cloud SDKs load only when their provider is created.
 */
export interface Provider {
  readonly name: string;
  /** Where lake files and artifacts live. */
  readonly storage: ObjectStorage;
  readonly registry: ModelRegistry;
  readonly training: TrainingBackend;
}

/** Options every provider factory receives: flat, provider-specific keys (validated by the provider). */
export type ProviderOptions = Readonly<Record<string, string | number | boolean | undefined>>;

type ProviderFactory = (options: ProviderOptions) => Promise<Provider>;

/** The known providers. Add one here (a lazy import keeps its SDKs unloaded until used). */
const factories: Readonly<Record<string, ProviderFactory>> = {
  local: async (options) => (await import('./local/provider.js')).createLocalProvider(options),
  azure: async (options) => (await import('./azure/provider.js')).createAzureProvider(options),
  aws: async (options) => (await import('./aws/provider.js')).createAwsProvider(options),
};

export class ProviderNotFoundError extends RetailMlopsError {
  constructor(readonly requested: string, readonly known: readonly string[]) {
    super('PROVIDER_NOT_FOUND', `no provider named '${requested}'; known providers: ${known.join(', ')}`);
  }
}

export function providerNames(): string[] {
  return Object.keys(factories).sort();
}

/** Creates a provider by name. @throws ProviderNotFoundError listing the known names */
export async function createProvider(name: string, options: ProviderOptions = {}): Promise<Provider> {
  const factory = Object.prototype.hasOwnProperty.call(factories, name) ? factories[name] : undefined;
  if (!factory) throw new ProviderNotFoundError(name, providerNames());
  return factory(options);
}
