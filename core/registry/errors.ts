/**
 * Failures of a model registry, with stable codes every provider raises the same way (the
 * conformance suite checks them).
 */
import { InvalidOptionsError, RetailMlopsError } from '../errors';

/** No version has this id or sequence number. */
export class ModelVersionNotFoundError extends RetailMlopsError {
  constructor(readonly reference: string) {
    super('MODEL_VERSION_NOT_FOUND', `no model version ${reference} in the registry`);
  }
}

/** The alias was never set. */
export class AliasNotFoundError extends RetailMlopsError {
  constructor(readonly alias: string) {
    super('ALIAS_NOT_FOUND', `no alias '${alias}' in the registry`);
  }
}

/** The version has no artifact of this name. */
export class ArtifactNotFoundError extends RetailMlopsError {
  constructor(readonly version: string, readonly artifact: string, readonly available: readonly string[]) {
    super('ARTIFACT_NOT_FOUND', `model version ${version} has no artifact '${artifact}' (it has: ${available.length ? available.join(', ') : 'none'})`);
  }
}

/** The content is already registered with different artifacts (versions are immutable). */
export class VersionConflictError extends RetailMlopsError {
  constructor(readonly version: string, readonly differences: readonly string[]) {
    super('VERSION_CONFLICT', `model version ${version} is already registered with different content: ${differences.join('; ')}`);
  }
}

/** A compare-and-set alias change found the alias pointing elsewhere. */
export class AliasConflictError extends RetailMlopsError {
  constructor(readonly alias: string, readonly expected: string | null, readonly actual: string | null) {
    super('ALIAS_CONFLICT', `alias '${alias}' points at ${actual ?? 'nothing'}, not at the expected ${expected ?? 'nothing'}`);
  }
}

/** The registry stayed locked by another writer for longer than the caller would wait. */
export class RegistryBusyError extends RetailMlopsError {
  constructor(message: string) {
    super('REGISTRY_BUSY', message);
  }
}

/** Stored data does not match its recorded hash, or a record cannot be read. */
export class RegistryCorruptError extends RetailMlopsError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('REGISTRY_CORRUPT', message, options);
  }
}

/**
 * Nothing was ever registered at the registry's location (it has no `registry.json`): a mistyped
 * `--registry`, or a registry that was never created. Raised where a reference cannot be resolved,
 * so the answer names the real problem instead of "no alias 'candidate'".
 */
export class RegistryNotFoundError extends RetailMlopsError {
  constructor(readonly location: string) {
    super('REGISTRY_NOT_FOUND', `no registry at ${location} (it holds no registry.json; a registry is created by its first registration)`);
  }
}

/**
 * A write was recorded in the registry, but mirroring it into the cloud's own registry (SageMaker
 * Model Registry, Azure ML model versions) failed. The registry itself is complete and consistent:
 * readers never consult the mirror. Running the same call again (registering the same content, or
 * setting the alias to the same version) brings the mirror up to date.
 */
export class RegistryMirrorError extends RetailMlopsError {
  constructor(readonly recorded: string, readonly mirror: string, options: { readonly cause: unknown }) {
    const reason = options.cause instanceof Error ? options.cause.message.split('\n')[0] : String(options.cause);
    super(
      'REGISTRY_MIRROR_FAILED',
      `${recorded} is recorded in the registry, but mirroring it into ${mirror} failed (${reason}); readers are unaffected — run the same command again to bring ${mirror} up to date`,
      options,
    );
  }
}

/** A model reference that cannot name anything: neither a version id, `#<n>`, nor an alias name. */
export class InvalidModelReferenceError extends InvalidOptionsError {
  constructor(readonly reference: string, problem: string) {
    super('model reference', [problem]);
  }
}
