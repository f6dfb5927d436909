/**
 * Checking that a version's files are what its record says: the model and every artifact read back
 * and compared with their recorded sha256 (the registry's reads do the comparing). `models list|show`
 * report it; `setAlias` refuses a version that fails it.
 */
import type { ModelRegistry } from './port';
import type { ModelVersion } from './types';
import { RetailMlopsError } from '../errors';

export interface VersionVerification {
  readonly version: string;
  /** True when the model and every artifact match their recorded sha256. */
  readonly verified: boolean;
  /** One line per file that is missing or does not match. */
  readonly problems: readonly string[];
}

/**
 * Reads every file of `version` through `registry` and collects what does not match.
 * @throws anything but REGISTRY_CORRUPT (a store that cannot be reached, …)
 */
export async function verifyModelVersion(registry: ModelRegistry, version: ModelVersion): Promise<VersionVerification> {
  const problems: string[] = [];
  const check = async (read: () => Promise<Uint8Array>): Promise<void> => {
    try {
      await read();
    } catch (error) {
      if (!RetailMlopsError.isInstance(error) || error.code !== 'REGISTRY_CORRUPT') throw error;
      problems.push(error.message);
    }
  };
  await check(() => registry.getModelBytes(version.id));
  for (const artifact of version.artifacts) await check(() => registry.getArtifact(version.id, artifact.name));
  return { version: version.id, verified: problems.length === 0, problems };
}
