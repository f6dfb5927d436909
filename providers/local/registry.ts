/**
 * The local model registry: the reference implementation of the registry port, on disk.
 *
 * ```
 * <root>/registry.json                 format marker {format, specificationVersion}
 * <root>/sequence.json                 the last sequence number handed out
 * <root>/versions/<id>/version.json    the ModelVersion record
 * <root>/versions/<id>/model.onnx      the model bytes
 * <root>/versions/<id>/artifacts/<name>
 * <root>/aliases/<alias>.jsonl         the alias's changes, one JSON line each, append-only; the last is current
 * <root>/.staging/                     version directories being written (a crashed writer's are swept after an hour)
 * <root>/.lock                         the writers' exclusive lock
 * ```
 *
 * Every file is written atomically; a version directory is written completely under `.staging/` and
 * renamed into `versions/` (files read-only), so a reader sees a whole version or none. Sequence
 * numbers and alias changes are handed out under an exclusive lock file (see lock-file.ts), so
 * concurrent writers, in one process or many, never share a number or lose a change.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, truncate } from 'node:fs/promises';
import * as path from 'node:path';
import { withLockFile } from './lock-file';
import { ProblemCollector } from '../../core/errors';
import { writeFileAtomically } from '../../core/files/write-atomically';
import { compareAliasChanges, nextAliasChange } from '../../core/registry/alias-history';
import {
  AliasNotFoundError,
  ArtifactNotFoundError,
  ModelVersionNotFoundError,
  RegistryCorruptError,
  VersionConflictError,
} from '../../core/registry/errors';
import { artifactDifferences, parseReference, prepareRegistration, sha256Hex, validateAliasChange, VERSION_ID_PATTERN } from '../../core/registry/identity';
import { REGISTRY_SPECIFICATION_VERSION, type ModelRegistry } from '../../core/registry/port';
import type {
  AliasChange,
  AliasState,
  ModelVersion,
  RegisterInput,
  RegisterResult,
  SetAliasOptions,
  SetAliasResult,
} from '../../core/registry/types';

export interface LocalRegistryOptions {
  /** The registry's directory; created on the first write. */
  readonly root: string;
  /**
   * How long a writer waits for the registry lock before failing with RegistryBusyError.
   * @default 30_000
   */
  readonly lockTimeoutMs?: number;
  /**
   * A lock not refreshed for this long (or whose process is gone) is taken over.
   * @default 10_000
   */
  readonly staleLockMs?: number;
}

const FORMAT = 'retail-mlops-model-registry';
const READ_ONLY = 0o444;
/** A staging directory this old belongs to a writer that died: it is removed by the next registration. */
const STAGING_ABANDONED_MS = 60 * 60 * 1000;

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new RegistryCorruptError(`${what} is not valid JSON`, { cause: error });
  }
}

/**
 * Creates the local registry (nothing is touched on disk until the first write).
 * @throws InvalidOptionsError listing every problem of the options
 */
export function createLocalRegistry(options: LocalRegistryOptions): ModelRegistry {
  const problems = new ProblemCollector('local registry options');
  const lockTimeoutMs = options?.lockTimeoutMs ?? 30_000;
  const staleLockMs = options?.staleLockMs ?? 10_000;
  problems.check(typeof options?.root === 'string' && options.root.length > 0, `root must be a non-empty path, got ${JSON.stringify(options?.root)}`);
  problems.check(Number.isInteger(lockTimeoutMs) && lockTimeoutMs >= 0, `lockTimeoutMs must be an integer ≥ 0, got ${lockTimeoutMs}`);
  problems.check(Number.isInteger(staleLockMs) && staleLockMs >= 100, `staleLockMs must be an integer ≥ 100, got ${staleLockMs}`);
  problems.throwIfAny();
  return new LocalModelRegistry(path.resolve(options.root), { timeoutMs: lockTimeoutMs, staleMs: staleLockMs });
}

class LocalModelRegistry implements ModelRegistry {
  readonly specificationVersion = REGISTRY_SPECIFICATION_VERSION;
  readonly provider = 'local';
  private readonly versionsDirectory: string;
  private readonly aliasesDirectory: string;
  private readonly stagingDirectory: string;
  private readonly lockPath: string;
  private readonly sequencePath: string;
  private readonly markerPath: string;

  constructor(
    private readonly root: string,
    private readonly lockOptions: { readonly timeoutMs: number; readonly staleMs: number },
  ) {
    this.versionsDirectory = path.join(root, 'versions');
    this.aliasesDirectory = path.join(root, 'aliases');
    this.stagingDirectory = path.join(root, '.staging');
    this.lockPath = path.join(root, '.lock');
    this.sequencePath = path.join(root, 'sequence.json');
    this.markerPath = path.join(root, 'registry.json');
  }

  async register(input: RegisterInput): Promise<RegisterResult> {
    const prepared = prepareRegistration(input);
    const { id } = prepared.identity;
    const existing = await this.readVersion(id);
    if (existing) return { version: this.sameContentOrThrow(existing, prepared), created: false };

    await this.prepareLayout();
    // Write the heavy part outside the lock, under a private name.
    const staging = path.join(this.stagingDirectory, `${id}.${process.pid}.${randomBytes(6).toString('hex')}`);
    await mkdir(path.join(staging, 'artifacts'), { recursive: true });
    try {
      await writeFileAtomically(path.join(staging, 'model.onnx'), prepared.model, { mode: READ_ONLY });
      for (const artifact of prepared.artifacts) {
        await writeFileAtomically(path.join(staging, 'artifacts', artifact.name), artifact.content, { mode: READ_ONLY });
      }
      return await this.locked(async () => {
        const raced = await this.readVersion(id);
        if (raced) return { version: this.sameContentOrThrow(raced, prepared), created: false };
        await this.sweepAbandonedStaging(staging);
        const sequence = (await this.lastSequence()) + 1;
        // Hand out the number first: a crash before the rename below leaves a gap, never a duplicate.
        await writeFileAtomically(this.sequencePath, `${JSON.stringify({ last: sequence })}\n`);
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
        await writeFileAtomically(path.join(staging, 'version.json'), `${JSON.stringify(version, null, 2)}\n`, { mode: READ_ONLY });
        await rename(staging, path.join(this.versionsDirectory, id));
        return { version, created: true };
      });
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  async get(reference: string): Promise<ModelVersion> {
    return this.resolve(reference);
  }

  async list(): Promise<readonly ModelVersion[]> {
    let names: string[];
    try {
      names = await readdir(this.versionsDirectory);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return [];
      throw error;
    }
    const versions = await Promise.all(names.filter((name) => VERSION_ID_PATTERN.test(name)).map((name) => this.readVersion(name)));
    return versions.filter((version): version is ModelVersion => version !== undefined).sort((a, b) => a.sequence - b.sequence);
  }

  async getModelBytes(reference: string): Promise<Uint8Array> {
    const version = await this.resolve(reference);
    return this.readVerified(path.join(this.versionsDirectory, version.id, 'model.onnx'), version.modelSha256, `model of ${version.id}`);
  }

  async getArtifact(reference: string, name: string): Promise<Uint8Array> {
    const version = await this.resolve(reference);
    const artifact = version.artifacts.find((candidate) => candidate.name === name);
    if (!artifact) throw new ArtifactNotFoundError(version.id, name, version.artifacts.map((candidate) => candidate.name));
    return this.readVerified(path.join(this.versionsDirectory, version.id, 'artifacts', artifact.name), artifact.sha256, `artifact '${name}' of ${version.id}`);
  }

  async setAlias(alias: string, reference: string, options: SetAliasOptions): Promise<SetAliasResult> {
    validateAliasChange(alias, options);
    parseReference(reference);
    await this.prepareLayout();
    return this.locked(async () => {
      const target = await this.resolve(reference);
      const history = await this.readAliasHistory(alias, { repair: true });
      const next = nextAliasChange(alias, history, target.id, options);
      if (!next.changed) return next;
      const { change } = next;
      const handle = await open(this.aliasPath(alias), 'a');
      try {
        await handle.write(`${JSON.stringify(change)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return { changed: true, change };
    });
  }

  async aliases(): Promise<readonly AliasState[]> {
    const states: AliasState[] = [];
    for (const alias of await this.aliasNames()) {
      const change = (await this.readAliasHistory(alias)).at(-1);
      if (change) states.push({ alias, version: change.to, change });
    }
    return states;
  }

  async aliasHistory(alias?: string): Promise<readonly AliasChange[]> {
    if (alias !== undefined) {
      const history = await this.readAliasHistory(alias);
      if (history.length === 0) throw new AliasNotFoundError(alias);
      return history;
    }
    const all = (await Promise.all((await this.aliasNames()).map((name) => this.readAliasHistory(name)))).flat();
    return all.sort(compareAliasChanges);
  }

  // ---------------------------------------------------------------------------------------------

  private async locked<T>(body: () => Promise<T>): Promise<T> {
    return withLockFile(this.lockPath, this.lockOptions, body);
  }

  /** Creates the directories and the format marker (idempotent); refuses a registry of another format. */
  private async prepareLayout(): Promise<void> {
    await mkdir(this.versionsDirectory, { recursive: true });
    await mkdir(this.aliasesDirectory, { recursive: true });
    await mkdir(this.stagingDirectory, { recursive: true });
    const marker = await readIfExists(this.markerPath);
    if (marker) {
      const parsed = parseJson<{ format?: string; specificationVersion?: string }>(marker.toString('utf8'), this.markerPath);
      if (parsed.format !== FORMAT || parsed.specificationVersion !== REGISTRY_SPECIFICATION_VERSION) {
        throw new RegistryCorruptError(
          `${this.root} holds a registry of format ${parsed.format}/${parsed.specificationVersion}; this code writes ${FORMAT}/${REGISTRY_SPECIFICATION_VERSION}`,
        );
      }
      return;
    }
    await writeFileAtomically(this.markerPath, `${JSON.stringify({ format: FORMAT, specificationVersion: REGISTRY_SPECIFICATION_VERSION })}\n`);
  }

  /** Removes staging directories left by writers that crashed (older than STAGING_ABANDONED_MS). */
  private async sweepAbandonedStaging(keep: string): Promise<void> {
    for (const name of await readdir(this.stagingDirectory)) {
      const directory = path.join(this.stagingDirectory, name);
      if (directory === keep) continue;
      const info = await stat(directory).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > STAGING_ABANDONED_MS) await rm(directory, { recursive: true, force: true });
    }
  }

  private sameContentOrThrow(existing: ModelVersion, prepared: ReturnType<typeof prepareRegistration>): ModelVersion {
    if (existing.contentHash !== prepared.identity.contentHash) {
      throw new VersionConflictError(existing.id, [`the short id collides with content hash ${existing.contentHash}`]);
    }
    const differences = artifactDifferences(existing.artifacts, prepared.artifacts);
    if (differences.length > 0) throw new VersionConflictError(existing.id, differences);
    return existing;
  }

  private async lastSequence(): Promise<number> {
    const stored = await readIfExists(this.sequencePath);
    const recorded = stored ? parseJson<{ last?: number }>(stored.toString('utf8'), this.sequencePath).last ?? 0 : 0;
    // the versions on disk are the truth should the counter ever lag behind them
    const versions = await this.list();
    return Math.max(recorded, versions.at(-1)?.sequence ?? 0);
  }

  private async readVersion(id: string): Promise<ModelVersion | undefined> {
    const file = path.join(this.versionsDirectory, id, 'version.json');
    const content = await readIfExists(file);
    return content ? parseJson<ModelVersion>(content.toString('utf8'), file) : undefined;
  }

  private async resolve(reference: string): Promise<ModelVersion> {
    const parsed = parseReference(reference);
    if (parsed.kind === 'version') {
      const version = await this.readVersion(parsed.id);
      if (!version) throw new ModelVersionNotFoundError(reference);
      return version;
    }
    if (parsed.kind === 'sequence') {
      const version = (await this.list()).find((candidate) => candidate.sequence === parsed.sequence);
      if (!version) throw new ModelVersionNotFoundError(reference);
      return version;
    }
    const latest = (await this.readAliasHistory(parsed.alias)).at(-1);
    if (!latest) throw new AliasNotFoundError(parsed.alias);
    const version = await this.readVersion(latest.to);
    if (!version) throw new RegistryCorruptError(`alias '${parsed.alias}' points at ${latest.to}, which is not in the registry`);
    return version;
  }

  private async readVerified(file: string, sha256: string, what: string): Promise<Uint8Array> {
    const content = await readIfExists(file);
    if (!content) throw new RegistryCorruptError(`the ${what} is missing from ${file}`);
    if (sha256Hex(content) !== sha256) throw new RegistryCorruptError(`the ${what} does not match its recorded sha256 ${sha256}`);
    return new Uint8Array(content.buffer, content.byteOffset, content.byteLength);
  }

  private aliasPath(alias: string): string {
    return path.join(this.aliasesDirectory, `${alias}.jsonl`);
  }

  private async aliasNames(): Promise<string[]> {
    try {
      return (await readdir(this.aliasesDirectory))
        .filter((name) => name.endsWith('.jsonl'))
        .map((name) => name.slice(0, -'.jsonl'.length))
        .sort();
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return [];
      throw error;
    }
  }

  /**
   * The alias's changes. A last line without its newline is an append cut short by a crash: it is
   * ignored, and (under the lock, with `repair`) cut off before the next append.
   */
  private async readAliasHistory(alias: string, options: { readonly repair?: boolean } = {}): Promise<AliasChange[]> {
    const file = this.aliasPath(alias);
    const content = await readIfExists(file);
    if (!content) return [];
    const complete = content.lastIndexOf(0x0a) + 1;
    if (options.repair && complete < content.byteLength) await truncate(file, complete);
    return content
      .subarray(0, complete)
      .toString('utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line, index) => parseJson<AliasChange>(line, `line ${index + 1} of ${file}`));
  }
}
