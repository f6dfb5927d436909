/**
 * Reading the model registry (`retail-mlops models list|show`): versions with their metrics and
 * aliases, and whether each version's files still match the hashes its record holds.
 */
import type { ModelRegistry } from '../../core/registry/port';
import type { ModelVersion } from '../../core/registry/types';
import { verifyModelVersion } from '../../core/registry/verify';

/** One version as `models list` shows it. */
export interface ModelVersionRow {
  readonly version: string;
  readonly sequence: number;
  readonly algorithm: string;
  readonly accuracy: number;
  readonly macroF1: number;
  readonly createdAt: string;
  readonly aliases: readonly string[];
  /** True when every file matches its recorded hash. */
  readonly verified: boolean;
  readonly problems: readonly string[];
}

/** A version with the outcome of checking its files. */
export interface VerifiedModelVersion extends ModelVersion {
  readonly verification: { readonly verified: boolean; readonly problems: readonly string[] };
}

/** Every version, oldest first, with its aliases and whether its files match. */
export async function listModelVersions(registry: ModelRegistry): Promise<ModelVersionRow[]> {
  const [versions, aliases] = await Promise.all([registry.list(), registry.aliases()]);
  const verifications = await Promise.all(versions.map((version) => verifyModelVersion(registry, version)));
  return versions.map((version, index) => ({
    version: version.id,
    sequence: version.sequence,
    algorithm: version.lineage.algorithm,
    accuracy: version.metrics.accuracy,
    macroF1: version.metrics.macroF1,
    createdAt: version.createdAt,
    aliases: aliases.filter((alias) => alias.version === version.id).map((alias) => alias.alias),
    verified: verifications[index].verified,
    problems: verifications[index].problems,
  }));
}

/** One version (id, #n or alias) and whether its files match. */
export async function showModelVersion(registry: ModelRegistry, reference: string): Promise<VerifiedModelVersion> {
  const version = await registry.get(reference);
  const verification = await verifyModelVersion(registry, version);
  return { ...version, verification: { verified: verification.verified, problems: verification.problems } };
}
