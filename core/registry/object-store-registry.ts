/**
 * The model registry over object storage: the one implementation of the registry port, for every
 * provider. A provider gives it a store (local disk, S3, Blob), the writers' lock its store supports,
 * and optionally a mirror into its cloud's own registry. The layout is the same everywhere:
 *
 * ```
 * registry.json                       format marker {format, specificationVersion}
 * sequence.json                       {last}: the last sequence number handed out
 * versions/<id>/version.json          the ModelVersion record: written last, it is the commit point
 * versions/<id>/model.onnx            the model bytes
 * versions/<id>/artifacts/<name>      feature-statistics.json, feature-importance.json
 * aliases/<alias>.jsonl               the alias's changes, one JSON line each, oldest first; the last is current
 * .lock                               the writers' lock (a lock file, a leased blob, or a lock object)
 * ```
 *
 * Writing: every write (register, setAlias) runs under the writers' lock, one at a time across
 * processes and machines (and in order within this process). A registration hands out the next
 * sequence number (sequence.json, compare-and-swap), writes the model and the artifacts, and writes
 * version.json last, only if it does not exist. So readers see a whole version or none: a version
 * whose version.json is missing does not exist, and a writer killed half way leaves files no reader
 * sees; the next write removes them (and the provider's `sweep` removes what its store leaves that
 * the port cannot see, such as temporary files on a local disk). A number handed out by a writer that
 * died is skipped, never reused. An alias change rewrites the alias's history object with the new
 * line appended, compare-and-swapped on the ETag read, so no change is ever lost. The compare-and-swap
 * conditions hold even for a holder that lost the lock unnoticed (its lock judged stale): it cannot
 * overwrite the counter, a history, or a committed version. Before committing a version the writer
 * confirms it still holds the lock.
 *
 * Reading needs no lock. Every read of model bytes or an artifact checks its sha256 against the
 * version record; version records are immutable and cached. `setAlias` verifies every file of the
 * target version before it records anything, and refuses a version whose files do not match.
 * Resolving a reference in a location that holds no registry.json fails with RegistryNotFoundError.
 *
 * Mirroring: after a write is recorded, the mirror (SageMaker Model Registry, Azure ML model
 * versions) is brought in line for the versions the write touched: a registration its version
 * (also when it was registered before: registering again repairs the mirror), an alias change every
 * version of that alias's history (also when the alias already pointed at the target), each with the
 * aliases pointing at it now. The mirror is written to, never read: what the registry answers comes
 * from the store alone. When the mirror fails, the write stays recorded and consistent, and the call
 * fails with RegistryMirrorError saying so; running the same call again brings the mirror up to date.
 */
import { compareAliasChanges, nextAliasChange } from './alias-history';
import {
  AliasNotFoundError,
  ArtifactNotFoundError,
  ModelVersionNotFoundError,
  RegistryBusyError,
  RegistryCorruptError,
  RegistryMirrorError,
  RegistryNotFoundError,
  VersionConflictError,
} from './errors';
import { ALIAS_NAME_PATTERN, artifactDifferences, parseReference, prepareRegistration, sha256Hex, validateAliasChange, VERSION_ID_PATTERN, type PreparedRegistration } from './identity';
import { REGISTRY_SPECIFICATION_VERSION, type ModelRegistry } from './port';
import type { AliasChange, AliasState, ModelVersion, RegisterInput, RegisterResult, SetAliasOptions, SetAliasResult } from './types';
import { verifyModelVersion } from './verify';
import { failpoint } from '../lake/failpoint';
import type { ObjectStorage, WriteCondition } from '../storage/port';

/** The format marker's `format`. */
export const REGISTRY_FORMAT = 'retail-mlops-model-registry';
const MARKER_KEY = 'registry.json';
const SEQUENCE_KEY = 'sequence.json';
const VERSION_RECORD = /^versions\/(v-[0-9a-f]{12})\/version\.json$/;
/** How often an alias change is retried when its compare-and-swap fails under the lock. */
const ALIAS_WRITE_ATTEMPTS = 5;

/** The writers' lock while it is held. */
export interface HeldRegistryLock {
  /**
   * Checks that the lock is still held (not judged stale and taken by another writer).
   * @throws RegistryBusyError (or the store's error) when it is not
   */
  confirm(): Promise<void>;
}

/** The writers' lock of a registry: one writer at a time, across processes and machines. */
export interface RegistryLock {
  /**
   * Runs `body` while holding the lock and releases it afterwards, also when `body` fails.
   * @throws RegistryBusyError when the lock stays taken for longer than the lock's timeout
   */
  withLock<T>(body: (held: HeldRegistryLock) => Promise<T>): Promise<T>;
}

/** A one-way copy of the registry into a cloud's own model registry, for the people and tools that look there. */
export interface RegistryMirror {
  /** What the mirror writes to, for messages, e.g. `SageMaker Model Package Group retail-mlops`. */
  readonly name: string;
  /**
   * Makes the cloud's registry show `version` with exactly `aliases` pointing at it, creating its
   * entry when missing. Idempotent: calling it again with the same arguments changes nothing.
   */
  reflect(version: ModelVersion, aliases: readonly AliasState[]): Promise<void>;
}

export interface ObjectStoreRegistryOptions {
  /** The provider's name, e.g. `local`, `aws`, `azure`. */
  readonly provider: string;
  /** Where the registry lives (its root: bucket + prefix, container + prefix, a directory). */
  readonly storage: ObjectStorage;
  /** The writers' lock the store supports. */
  readonly lock: RegistryLock;
  /** @default - no mirror */
  readonly mirror?: RegistryMirror;
  /**
   * Removes what a killed writer leaves in the store that the storage port cannot see (temporary
   * files on a local disk). Runs under the lock before every write.
   * @default - nothing to sweep
   */
  readonly sweep?: () => Promise<void>;
}

/** Creates a registry over `storage` (nothing is written before the first registration or alias change). */
export function createObjectStoreRegistry(options: ObjectStoreRegistryOptions): ModelRegistry {
  return new ObjectStoreRegistry(options);
}

function parseJson<T>(bytes: Uint8Array, what: string): T {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
  } catch (error) {
    throw new RegistryCorruptError(`${what} is not valid JSON`, { cause: error });
  }
}

function jsonBytes(value: unknown): Uint8Array {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
}

function sameContentOrThrow(existing: ModelVersion, prepared: PreparedRegistration): ModelVersion {
  if (existing.contentHash !== prepared.identity.contentHash) {
    throw new VersionConflictError(existing.id, [`the short id collides with content hash ${existing.contentHash}`]);
  }
  const differences = artifactDifferences(existing.artifacts, prepared.artifacts);
  if (differences.length > 0) throw new VersionConflictError(existing.id, differences);
  return existing;
}

/** An alias's history as stored: its changes, the bytes of its complete lines, and the ETag they were read at. */
interface StoredHistory {
  readonly changes: readonly AliasChange[];
  readonly complete: Uint8Array;
  readonly etag?: string;
}

class ObjectStoreRegistry implements ModelRegistry {
  readonly specificationVersion = REGISTRY_SPECIFICATION_VERSION;
  readonly provider: string;
  private readonly storage: ObjectStorage;
  /** Version records are immutable once committed: kept after the first read. */
  private readonly versions = new Map<string, ModelVersion>();
  /** The writes of this instance, in order (the lock orders them against other processes). */
  private writes: Promise<unknown> = Promise.resolve();
  private layoutChecked = false;

  constructor(private readonly options: ObjectStoreRegistryOptions) {
    this.provider = options.provider;
    this.storage = options.storage;
  }

  // ---- versions -------------------------------------------------------------------------------

  async register(input: RegisterInput): Promise<RegisterResult> {
    const prepared = prepareRegistration(input);
    const { id } = prepared.identity;
    const existing = await this.readVersion(id);
    if (existing) {
      const version = sameContentOrThrow(existing, prepared);
      if (this.options.mirror) await this.write(() => this.mirror([id], `version ${id}`));
      return { version: structuredClone(version), created: false };
    }
    return this.write(async (held) => {
      const raced = await this.readVersion(id);
      if (raced) {
        const version = sameContentOrThrow(raced, prepared);
        await this.mirror([id], `version ${id}`);
        return { version: structuredClone(version), created: false };
      }
      await this.prepareLayout();
      await this.sweep();
      const sequence = await this.nextSequence();
      const folder = `versions/${id}`;
      await this.storage.put(`${folder}/model.onnx`, prepared.model, { contentType: 'application/onnx' });
      for (const artifact of prepared.artifacts) {
        await this.storage.put(`${folder}/artifacts/${artifact.name}`, artifact.content, { contentType: artifact.mediaType });
      }
      const version: ModelVersion = {
        id,
        sequence,
        contentHash: prepared.identity.contentHash,
        modelSha256: prepared.identity.modelSha256,
        modelSize: prepared.model.byteLength,
        artifacts: prepared.artifacts.map(({ name, sha256, size, mediaType }) => ({ name, sha256, size, mediaType })),
        metrics: prepared.metrics,
        lineage: prepared.lineage,
        createdAt: new Date().toISOString(),
        createdBy: prepared.createdBy,
      };
      await held.confirm();
      failpoint('registry-before-version-record');
      const committed = await this.storage.putConditionally(`${folder}/version.json`, jsonBytes(version), { ifNoneMatch: '*' }, { contentType: 'application/json' });
      if (!committed.written) {
        // a writer that lost the lock unnoticed committed this content meanwhile: theirs stands
        const theirs = await this.readVersion(id);
        if (!theirs) throw new RegistryCorruptError(`${this.where(`${folder}/version.json`)} could not be created, yet it cannot be read`);
        return { version: structuredClone(sameContentOrThrow(theirs, prepared)), created: false };
      }
      this.versions.set(id, version);
      await this.mirror([id], `version ${id} (#${sequence})`);
      return { version: structuredClone(version), created: true };
    });
  }

  async get(reference: string): Promise<ModelVersion> {
    return structuredClone(await this.resolve(reference));
  }

  async list(): Promise<readonly ModelVersion[]> {
    return (await this.allVersions()).map((version) => structuredClone(version));
  }

  async getModelBytes(reference: string): Promise<Uint8Array> {
    const version = await this.resolve(reference);
    return this.readVerified(`versions/${version.id}/model.onnx`, version.modelSha256, `model of ${version.id}`);
  }

  async getArtifact(reference: string, name: string): Promise<Uint8Array> {
    const version = await this.resolve(reference);
    const artifact = version.artifacts.find((candidate) => candidate.name === name);
    if (!artifact) throw new ArtifactNotFoundError(version.id, name, version.artifacts.map((candidate) => candidate.name));
    return this.readVerified(`versions/${version.id}/artifacts/${artifact.name}`, artifact.sha256, `artifact '${name}' of ${version.id}`);
  }

  // ---- aliases --------------------------------------------------------------------------------

  async setAlias(alias: string, reference: string, options: SetAliasOptions): Promise<SetAliasResult> {
    validateAliasChange(alias, options);
    parseReference(reference);
    return this.write(async () => {
      await this.prepareLayout();
      await this.sweep();
      const target = await this.resolve(reference);
      const verification = await verifyModelVersion(this, target);
      if (!verification.verified) {
        throw new RegistryCorruptError(`refusing to point alias '${alias}' at ${target.id}: ${verification.problems.join('; ')}`);
      }
      const { result, history } = await this.appendAliasChange(alias, target.id, options);
      // the target first, then every other version the alias pointed at, latest first
      const touched = [...new Set([target.id, ...[...history].reverse().flatMap((change) => [change.to, change.from])])].filter((id): id is string => id !== null);
      await this.mirror(touched, `alias '${alias}' → ${target.id}`);
      return result;
    });
  }

  async aliases(): Promise<readonly AliasState[]> {
    const names = await this.aliasNames();
    const latest = await Promise.all(names.map(async (alias) => (await this.readAliasHistory(alias)).changes.at(-1)));
    return names.flatMap((alias, index) => {
      const change = latest[index];
      return change ? [{ alias, version: change.to, change }] : [];
    });
  }

  async aliasHistory(alias?: string): Promise<readonly AliasChange[]> {
    if (alias !== undefined) {
      const { changes } = await this.readAliasHistory(alias);
      if (changes.length === 0) throw await this.orMissingRegistry(new AliasNotFoundError(alias));
      return changes;
    }
    const all = (await Promise.all((await this.aliasNames()).map(async (name) => (await this.readAliasHistory(name)).changes))).flat();
    return all.sort(compareAliasChanges);
  }

  // ---- writing --------------------------------------------------------------------------------

  /** Runs a write after this instance's earlier writes, under the writers' lock. */
  private write<T>(body: (held: HeldRegistryLock) => Promise<T>): Promise<T> {
    const run = this.writes.catch(() => undefined).then(() => this.options.lock.withLock(body));
    this.writes = run;
    return run;
  }

  /**
   * Writes the format marker on the first write; refuses a location that holds a registry of
   * another format, or objects under versions/ without a marker (not a registry of this layout).
   */
  private async prepareLayout(): Promise<void> {
    if (this.layoutChecked) return;
    let marker = await this.storage.getVersioned(MARKER_KEY);
    if (!marker) {
      if ((await this.storage.list('versions/')).length > 0) {
        throw new RegistryCorruptError(`${this.storage.location} holds objects under versions/ but no ${MARKER_KEY}: it is not a registry of this layout; refusing to write into it`);
      }
      const body = Buffer.from(`${JSON.stringify({ format: REGISTRY_FORMAT, specificationVersion: REGISTRY_SPECIFICATION_VERSION })}\n`);
      const created = await this.storage.putConditionally(MARKER_KEY, body, { ifNoneMatch: '*' }, { contentType: 'application/json' });
      marker = created.written ? { body, etag: created.etag ?? '' } : await this.storage.getVersioned(MARKER_KEY);
      if (!marker) throw new RegistryCorruptError(`${this.where(MARKER_KEY)} could not be created, yet it cannot be read`);
    }
    const parsed = parseJson<{ format?: string; specificationVersion?: string }>(marker.body, this.where(MARKER_KEY));
    if (parsed.format !== REGISTRY_FORMAT || parsed.specificationVersion !== REGISTRY_SPECIFICATION_VERSION) {
      throw new RegistryCorruptError(
        `${this.storage.location} holds a registry of format ${parsed.format}/${parsed.specificationVersion}; this code writes ${REGISTRY_FORMAT}/${REGISTRY_SPECIFICATION_VERSION}`,
      );
    }
    this.layoutChecked = true;
  }

  /** Removes what killed writers left: the files of versions without version.json, then the provider's own leftovers. */
  private async sweep(): Promise<void> {
    const keys = (await this.storage.list('versions/')).map((object) => object.key);
    const committed = new Set(keys.flatMap((key) => VERSION_RECORD.exec(key)?.[1] ?? []));
    const partial = keys.filter((key) => {
      const id = key.split('/')[1];
      return VERSION_ID_PATTERN.test(id) && !committed.has(id);
    });
    if (partial.length > 0) await this.storage.delete(partial);
    await this.options.sweep?.();
  }

  /** Hands out the next sequence number. When sequence.json is missing, the versions present are the truth. */
  private async nextSequence(): Promise<number> {
    const counter = await this.storage.getVersioned(SEQUENCE_KEY);
    const last = counter
      ? (parseJson<{ last?: number }>(counter.body, this.where(SEQUENCE_KEY)).last ?? 0)
      : Math.max(0, ...(await this.allVersions()).map((version) => version.sequence));
    const next = last + 1;
    // written before the version: a writer that dies after this leaves a gap, never a duplicate
    const condition: WriteCondition = counter ? { ifMatch: counter.etag } : { ifNoneMatch: '*' };
    const { written } = await this.storage.putConditionally(SEQUENCE_KEY, Buffer.from(`${JSON.stringify({ last: next })}\n`), condition, { contentType: 'application/json' });
    if (!written) {
      throw new RegistryBusyError(`${this.where(SEQUENCE_KEY)} changed while this writer held the registry's lock (its lock was taken over?); nothing was registered, try again`);
    }
    return next;
  }

  /** Appends the change to the alias's history (compare-and-swap on the history's ETag). */
  private async appendAliasChange(alias: string, targetId: string, options: SetAliasOptions): Promise<{ result: SetAliasResult; history: readonly AliasChange[] }> {
    for (let attempt = 0; attempt < ALIAS_WRITE_ATTEMPTS; attempt++) {
      const stored = await this.readAliasHistory(alias);
      const next = nextAliasChange(alias, stored.changes, targetId, options);
      if (!next.changed) return { result: next, history: stored.changes };
      const body = Buffer.concat([stored.complete, Buffer.from(`${JSON.stringify(next.change)}\n`)]);
      const condition: WriteCondition = stored.etag !== undefined ? { ifMatch: stored.etag } : { ifNoneMatch: '*' };
      const { written } = await this.storage.putConditionally(this.aliasKey(alias), body, condition, { contentType: 'application/x-ndjson' });
      if (written) return { result: { changed: true, change: next.change }, history: [...stored.changes, next.change] };
    }
    throw new RegistryBusyError(`alias '${alias}' kept changing under ${ALIAS_WRITE_ATTEMPTS} attempts to move it while holding the registry's lock; try again`);
  }

  /** Brings the mirror in line for `ids` (see the module's header); a failure leaves the registry as recorded. */
  private async mirror(ids: readonly string[], recorded: string): Promise<void> {
    const { mirror } = this.options;
    if (!mirror) return;
    const states = await this.aliases();
    const versions: ModelVersion[] = [];
    for (const id of ids) {
      const version = await this.readVersion(id);
      if (version) versions.push(version);
    }
    try {
      for (const version of versions) {
        await mirror.reflect(structuredClone(version), states.filter((state) => state.version === version.id));
      }
    } catch (error) {
      throw new RegistryMirrorError(recorded, mirror.name, { cause: error });
    }
  }

  // ---- reading --------------------------------------------------------------------------------

  private where(key: string): string {
    return `${this.storage.location}/${key}`;
  }

  /** The error to raise for a reference that resolves to nothing: RegistryNotFoundError when there is no registry at all. */
  private async orMissingRegistry(error: Error): Promise<Error> {
    return (await this.storage.head(MARKER_KEY)) ? error : new RegistryNotFoundError(this.storage.location);
  }

  private async readVersion(id: string): Promise<ModelVersion | undefined> {
    const cached = this.versions.get(id);
    if (cached) return cached;
    const key = `versions/${id}/version.json`;
    const stored = await this.storage.getVersioned(key);
    if (!stored) return undefined;
    const version = parseJson<ModelVersion>(stored.body, this.where(key));
    if (version.id !== id) throw new RegistryCorruptError(`${this.where(key)} records version ${version.id}, not ${id}`);
    this.versions.set(id, version);
    return version;
  }

  /** Every committed version, oldest (lowest sequence) first. */
  private async allVersions(): Promise<ModelVersion[]> {
    const ids = (await this.storage.list('versions/')).flatMap((object) => VERSION_RECORD.exec(object.key)?.[1] ?? []);
    const versions = await Promise.all(ids.map((id) => this.readVersion(id)));
    return versions.filter((version): version is ModelVersion => version !== undefined).sort((a, b) => a.sequence - b.sequence);
  }

  private async resolve(reference: string): Promise<ModelVersion> {
    const parsed = parseReference(reference);
    if (parsed.kind === 'version') {
      const version = await this.readVersion(parsed.id);
      if (!version) throw await this.orMissingRegistry(new ModelVersionNotFoundError(reference));
      return version;
    }
    if (parsed.kind === 'sequence') {
      const version = (await this.allVersions()).find((candidate) => candidate.sequence === parsed.sequence);
      if (!version) throw await this.orMissingRegistry(new ModelVersionNotFoundError(reference));
      return version;
    }
    const latest = (await this.readAliasHistory(parsed.alias)).changes.at(-1);
    if (!latest) throw await this.orMissingRegistry(new AliasNotFoundError(parsed.alias));
    const version = await this.readVersion(latest.to);
    if (!version) throw new RegistryCorruptError(`alias '${parsed.alias}' points at ${latest.to}, which is not in the registry`);
    return version;
  }

  private async readVerified(key: string, sha256: string, what: string): Promise<Uint8Array> {
    const stored = await this.storage.getVersioned(key);
    if (!stored) throw new RegistryCorruptError(`the ${what} is missing from ${this.where(key)}`);
    if (sha256Hex(stored.body) !== sha256) throw new RegistryCorruptError(`the ${what} does not match its recorded sha256 ${sha256}`);
    return stored.body;
  }

  private aliasKey(alias: string): string {
    return `aliases/${alias}.jsonl`;
  }

  private async aliasNames(): Promise<string[]> {
    return (await this.storage.list('aliases/'))
      .map((object) => object.key.slice('aliases/'.length))
      .filter((name) => name.endsWith('.jsonl') && !name.includes('/'))
      .map((name) => name.slice(0, -'.jsonl'.length))
      .filter((name) => ALIAS_NAME_PATTERN.test(name))
      .sort();
  }

  /**
   * The alias's changes. A last line without its newline is a write cut short (a copy made by
   * hand, a store without atomic writes): it is ignored, and dropped by the next change.
   */
  private async readAliasHistory(alias: string): Promise<StoredHistory> {
    if (!ALIAS_NAME_PATTERN.test(alias)) return { changes: [], complete: new Uint8Array(0) };
    const key = this.aliasKey(alias);
    const stored = await this.storage.getVersioned(key);
    if (!stored) return { changes: [], complete: new Uint8Array(0) };
    const complete = stored.body.subarray(0, stored.body.lastIndexOf(0x0a) + 1);
    const changes = Buffer.from(complete)
      .toString('utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line, index) => parseJson<AliasChange>(Buffer.from(line), `line ${index + 1} of ${this.where(key)}`));
    return { changes, complete, etag: stored.etag };
  }
}
