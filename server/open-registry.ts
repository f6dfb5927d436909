/**
 * `RETAIL_MLOPS_REGISTRY` → a ModelRegistry. One entry per provider, matched on the URI's form and
 * imported lazily (a local deployment never loads a cloud SDK):
 *
 * - a directory path, or `file:///…`              → the local provider (providers/local)
 * - `s3://bucket/prefix`                          → AWS (not available in this build yet)
 * - `https://<account>.blob.core.windows.net/…`   → Azure (not available in this build yet)
 *
 * Anything else throws UnsupportedRegistryError listing the forms known. A cloud provider plugs in
 * by replacing its `open` with `(await import('../providers/aws/registry.js')).createAwsRegistry(…)`.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnsupportedRegistryError } from './errors';
import { RetailMlopsError } from '../core/errors';
import type { ModelRegistry } from '../core/registry/port';
import { createLocalRegistry } from '../providers/local/registry';

interface RegistryResolver {
  /** How the URI looks, for error messages. */
  readonly form: string;
  readonly matches: (uri: string) => boolean;
  readonly open: (uri: string) => Promise<ModelRegistry>;
}

/** A provider this build knows by name but does not ship yet. */
export class RegistryProviderUnavailableError extends RetailMlopsError {
  constructor(
    readonly provider: string,
    readonly uri: string,
  ) {
    super('REGISTRY_PROVIDER_UNAVAILABLE', `the ${provider} registry provider (for ${uri}) is not available in this build yet`);
  }
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

const RESOLVERS: readonly RegistryResolver[] = [
  {
    form: 'a directory path or file:///… (local)',
    matches: (uri) => uri.startsWith('file://') || !SCHEME.test(uri),
    // the embedded default: no SDK behind it, so imported statically
    open: async (uri) => createLocalRegistry({ root: uri.startsWith('file://') ? fileURLToPath(uri) : path.resolve(uri) }),
  },
  {
    form: 's3://bucket/prefix (aws)',
    matches: (uri) => uri.startsWith('s3://'),
    open: async (uri) => {
      throw new RegistryProviderUnavailableError('aws', uri);
    },
  },
  {
    form: 'https://<account>.blob.core.windows.net/<container>/<prefix> (azure)',
    matches: (uri) => /^https:\/\/[a-z0-9]+\.blob\.core\.windows\.net\/[^/]+/.test(uri),
    open: async (uri) => {
      throw new RegistryProviderUnavailableError('azure', uri);
    },
  },
];

/** The forms of registry URI this build recognises. */
export const REGISTRY_URI_FORMS: readonly string[] = RESOLVERS.map((resolver) => resolver.form);

/**
 * Opens the registry a URI names.
 * @throws UnsupportedRegistryError (unknown form) · RegistryProviderUnavailableError (known, not shipped yet)
 */
export async function openRegistry(uri: string): Promise<ModelRegistry> {
  const trimmed = uri.trim();
  const resolver = trimmed.length > 0 ? RESOLVERS.find((candidate) => candidate.matches(trimmed)) : undefined;
  if (!resolver) throw new UnsupportedRegistryError(uri, REGISTRY_URI_FORMS);
  return resolver.open(trimmed);
}
