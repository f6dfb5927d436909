import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { LakeError } from '../errors';
import { sqlStringList } from './duckdb';
import { failpoint } from './failpoint';
import { readJsonIfExists } from '../files/json-file';
import { writeFileAtomically } from '../files/write-atomically';
import type { HeaderVariant } from '../schema/lgsr';
import type { QuarantineReason } from '../schema/quarantine';

/**
 * The lake on a file system:
 *
 *   <lake>/_lake.json                     the manifest: the lake's current version, swapped atomically
 *   <lake>/raw/<sha256>.csv[.gz]          input files as received, content-addressed
 *   <lake>/silver/STORE_REGION=…/BASKET_TYPE=…/part-<ingest>-<n>.parquet   typed product lines
 *   <lake>/gold/SHOP_WEEK=…/part-<ingest>-<n>.parquet                       one row per basket
 *   <lake>/quarantine/part-<ingest>.parquet                                 rejected rows + reason
 *   <lake>/predictions/                   the server's prediction log
 *   <lake>/_staging/<ingest>/             work in progress; never part of a version
 *
 * Only files listed in the manifest belong to the lake; readers go through the manifest, so a
 * crashed ingest (files staged or even moved into place, manifest not swapped) is invisible, and
 * the next writer removes what it left behind.
 */
export const LAKE_MANIFEST = '_lake.json';
export const LAKE_FORMAT_VERSION = 1;

export interface RawFileEntry {
  readonly sha256: string;
  /** The name the file had when it was ingested. */
  readonly name: string;
  /** Relative to the lake root. */
  readonly path: string;
  readonly bytes: number;
  readonly variant: HeaderVariant;
  readonly ingestId: string;
  readonly rowsRead: number;
  readonly rowsAccepted: number;
  readonly rowsQuarantined: number;
}

export interface SilverFileEntry {
  readonly path: string;
  readonly ingestId: string;
  readonly STORE_REGION: string;
  readonly BASKET_TYPE: string;
}

export interface GoldFileEntry {
  readonly path: string;
  readonly ingestId: string;
  readonly SHOP_WEEK: number;
}

export interface QuarantineFileEntry {
  readonly path: string;
  readonly ingestId: string;
  readonly rows: number;
}

export interface IngestRecord {
  readonly id: string;
  readonly at: string;
  readonly files: readonly string[];
  readonly rowsRead: number;
  readonly rowsAccepted: number;
  readonly rowsQuarantined: number;
  readonly quarantineReasons: Readonly<Partial<Record<QuarantineReason | 'malformed_csv', number>>>;
  readonly baskets: number;
}

export interface LakeManifest {
  readonly formatVersion: number;
  /** Increments with every ingest that adds data. */
  readonly version: number;
  readonly updatedAt: string;
  readonly raw: readonly RawFileEntry[];
  readonly silver: readonly SilverFileEntry[];
  readonly gold: readonly GoldFileEntry[];
  readonly quarantine: readonly QuarantineFileEntry[];
  readonly ingests: readonly IngestRecord[];
}

export const EMPTY_MANIFEST: LakeManifest = {
  formatVersion: LAKE_FORMAT_VERSION,
  version: 0,
  updatedAt: new Date(0).toISOString(),
  raw: [],
  silver: [],
  gold: [],
  quarantine: [],
  ingests: [],
};

/** A lake directory and its current manifest. */
export class Lake {
  /** Opens a lake; a directory without a manifest is an empty lake (version 0). */
  static async open(root: string): Promise<Lake> {
    const absolute = path.resolve(root);
    const manifest = await readJsonIfExists<LakeManifest>(path.join(absolute, LAKE_MANIFEST));
    if (manifest && manifest.formatVersion !== LAKE_FORMAT_VERSION) {
      throw new LakeError(`${absolute}: lake format ${manifest.formatVersion} is not supported (expected ${LAKE_FORMAT_VERSION})`);
    }
    return new Lake(absolute, manifest ?? EMPTY_MANIFEST);
  }

  /** Opens a lake that must hold data (for training, evaluation). */
  static async openExisting(root: string): Promise<Lake> {
    const lake = await Lake.open(root);
    if (lake.manifest.version === 0) throw new LakeError(`${lake.root} holds no lake (no ${LAKE_MANIFEST}); run 'retail-mlops ingest' first`);
    return lake;
  }

  private constructor(
    readonly root: string,
    readonly manifest: LakeManifest,
  ) {}

  /**
   * The lake as it was at an earlier version (versions only ever add files, so an old version is
   * a filter of the manifest). @throws LakeError for a version the lake never had
   */
  atVersion(version: number): Lake {
    if (version === this.manifest.version) return this;
    if (!Number.isInteger(version) || version < 1 || version > this.manifest.version) {
      throw new LakeError(`${this.root} has versions 1…${this.manifest.version}, not ${version}`);
    }
    return new Lake(this.root, manifestAtVersion(this.manifest, version));
  }

  absolute(relative: string): string {
    return path.join(this.root, relative);
  }

  /** Weeks in gold, ascending. */
  weeks(): number[] {
    return [...new Set(this.manifest.gold.map((entry) => entry.SHOP_WEEK))].sort((a, b) => a - b);
  }

  /** A DuckDB relation over gold (one row per basket), optionally limited to some weeks. */
  goldSql(weeks?: readonly number[]): string {
    const wanted = weeks ? new Set(weeks) : undefined;
    const files = this.manifest.gold.filter((entry) => !wanted || wanted.has(entry.SHOP_WEEK)).map((entry) => this.absolute(entry.path));
    return files.length === 0 ? emptyRelationSql('BASKET_ID BIGINT, SHOP_WEEK INTEGER') : `read_parquet(${sqlStringList(files)}, hive_partitioning = true)`;
  }

  /** A DuckDB relation over silver (one row per product line). */
  silverSql(): string {
    const files = this.manifest.silver.map((entry) => this.absolute(entry.path));
    return files.length === 0 ? emptyRelationSql('BASKET_ID BIGINT') : `read_parquet(${sqlStringList(files)}, hive_partitioning = true)`;
  }

  /** A DuckDB relation over the quarantine. */
  quarantineSql(): string {
    const files = this.manifest.quarantine.map((entry) => this.absolute(entry.path));
    return files.length === 0 ? emptyRelationSql('REASON VARCHAR') : `read_parquet(${sqlStringList(files)})`;
  }

  /**
   * Publishes a new version: moves staged files into place, then swaps the manifest. Until the
   * rename of the manifest the previous version is the lake; a crash before it leaves orphans that
   * `removeOrphans` deletes.
   */
  async publish(stagingRoot: string, next: LakeManifest): Promise<Lake> {
    const known = new Set(filesOf(this.manifest));
    const added = filesOf(next).filter((relative) => !known.has(relative));
    for (const relative of added) {
      const target = this.absolute(relative);
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.rename(path.join(stagingRoot, relative), target);
      failpoint('lake-publish-moved-file');
    }
    failpoint('lake-publish-before-manifest');
    await writeFileAtomically(this.absolute(LAKE_MANIFEST), `${JSON.stringify(next, null, 1)}\n`, { createDirectory: true });
    return new Lake(this.root, next);
  }

  /** Deletes files of the data layers that no manifest version refers to, and old staging dirs. */
  async removeOrphans(): Promise<string[]> {
    const listed = new Set(filesOf(this.manifest));
    const removed: string[] = [];
    for (const layer of ['raw', 'silver', 'gold', 'quarantine']) {
      for (const relative of await listFiles(this.root, layer)) {
        if (!listed.has(relative)) {
          await fs.rm(this.absolute(relative), { force: true });
          removed.push(relative);
        }
      }
    }
    await fs.rm(this.absolute('_staging'), { recursive: true, force: true });
    return removed;
  }
}

/**
 * The manifest as it was at an earlier version (versions only ever add files, so an old version is
 * a filter of the manifest); the caller checks that `version` is one the manifest had.
 */
export function manifestAtVersion(manifest: LakeManifest, version: number): LakeManifest {
  if (version === manifest.version) return manifest;
  const ingests = manifest.ingests.slice(0, version);
  const ids = new Set(ingests.map((record) => record.id));
  const keep = <T extends { readonly ingestId: string }>(entries: readonly T[]): T[] => entries.filter((entry) => ids.has(entry.ingestId));
  return {
    ...manifest,
    version,
    ingests,
    raw: keep(manifest.raw),
    silver: keep(manifest.silver),
    gold: keep(manifest.gold),
    quarantine: keep(manifest.quarantine),
  };
}

/** Every data file a manifest version refers to, relative to the lake root. */
function filesOf(manifest: LakeManifest): string[] {
  return [...manifest.raw, ...manifest.silver, ...manifest.gold, ...manifest.quarantine].map((entry) => entry.path);
}

function emptyRelationSql(columns: string): string {
  return `(SELECT * FROM (SELECT ${columns.split(',').map((column) => `NULL::${column.trim().split(' ')[1]} AS ${column.trim().split(' ')[0]}`).join(', ')}) WHERE false)`;
}

/** Files below `<root>/<layer>`, relative to root, with forward slashes. */
async function listFiles(root: string, layer: string): Promise<string[]> {
  const base = path.join(root, layer);
  let entries: string[];
  try {
    entries = (await fs.readdir(base, { recursive: true })) as string[];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files: string[] = [];
  for (const entry of entries) {
    const stat = await fs.stat(path.join(base, entry));
    if (stat.isFile()) files.push(path.posix.join(layer, entry.split(path.sep).join('/')));
  }
  return files;
}
