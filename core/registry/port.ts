/**
 * The model registry port. The core defines it; each provider implements it (local: on disk; AWS:
 * S3 + SageMaker Model Registry; Azure: Blob + Azure ML model versions) and passes the shared
 * conformance suite (tests/conformance/registry.ts). Versioned like vercel/ai's provider
 * specifications: a breaking change to this interface bumps `REGISTRY_SPECIFICATION_VERSION`.
 *
 * References: wherever a method takes a `reference`, it accepts a version id (`v-3f2a9c01b7de`),
 * a sequence number (`#7`), or an alias name (`production`).
 */
import type {
  AliasChange,
  AliasState,
  ModelVersion,
  RegisterInput,
  RegisterResult,
  SetAliasOptions,
  SetAliasResult,
} from './types';

export const REGISTRY_SPECIFICATION_VERSION = 'v1';

export interface ModelRegistry {
  /** The version of this interface the provider implements. */
  readonly specificationVersion: typeof REGISTRY_SPECIFICATION_VERSION;
  /** The provider's name, e.g. `local`. */
  readonly provider: string;

  /**
   * Stores a new immutable version. Idempotent: registering identical content (model bytes,
   * metrics, lineage; see `computeVersionIdentity`) again returns the existing version with
   * `created: false`. Safe under concurrent callers: distinct content always gets distinct
   * sequence numbers.
   * @throws InvalidOptionsError listing every problem of the input
   * @throws VersionConflictError when the same content was registered with other artifacts
   */
  register(input: RegisterInput): Promise<RegisterResult>;

  /**
   * One version by reference.
   * @throws ModelVersionNotFoundError · AliasNotFoundError · InvalidOptionsError (malformed reference)
   */
  get(reference: string): Promise<ModelVersion>;

  /** Every version, oldest (lowest sequence) first. */
  list(): Promise<readonly ModelVersion[]>;

  /**
   * The ONNX model bytes of a version (checked against their sha256).
   * @throws ModelVersionNotFoundError · AliasNotFoundError · RegistryCorruptError
   */
  getModelBytes(reference: string): Promise<Uint8Array>;

  /**
   * One named artifact of a version (checked against its sha256).
   * @throws ArtifactNotFoundError · ModelVersionNotFoundError · AliasNotFoundError · RegistryCorruptError
   */
  getArtifact(reference: string, name: string): Promise<Uint8Array>;

  /**
   * Points `alias` at the version `reference` resolves to now, recording who, when, why and
   * from → to in the alias's append-only history. Safe under concurrent callers.
   * @throws ModelVersionNotFoundError · AliasNotFoundError (reference) · AliasConflictError (expectedCurrent)
   *   · InvalidOptionsError (alias name, actor, reason)
   */
  setAlias(alias: string, reference: string, options: SetAliasOptions): Promise<SetAliasResult>;

  /** Every alias and where it points now, sorted by alias name. */
  aliases(): Promise<readonly AliasState[]>;

  /**
   * The changes of one alias, oldest first; without an alias, the changes of all aliases ordered by time.
   * @throws AliasNotFoundError when the alias was never set
   */
  aliasHistory(alias?: string): Promise<readonly AliasChange[]>;
}
