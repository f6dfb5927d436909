import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { LAKE_MANIFEST, Lake, type LakeManifest } from './lake';
import { writeFileAtomically } from '../files/write-atomically';
import type { ObjectStorage } from '../storage/port';

/** The data layers of a lake. */
export type LakeLayer = 'raw' | 'silver' | 'gold' | 'quarantine';

const ALL_LAYERS: readonly LakeLayer[] = ['raw', 'silver', 'gold', 'quarantine'];

/** Every data file a manifest refers to, in the layers asked for. */
function manifestFiles(manifest: LakeManifest, layers: readonly LakeLayer[] = ALL_LAYERS): string[] {
  return layers.flatMap((layer) => manifest[layer].map((entry) => entry.path));
}

/**
 * Publishes a local lake version to object storage: data files first (only those the store lacks),
 * the manifest last, so a reader of the store sees the previous version until the new one is whole.
 */
export async function pushLake(lake: Lake, storage: ObjectStorage): Promise<{ readonly uploaded: number; readonly version: number }> {
  const present = new Set((await Promise.all(ALL_LAYERS.map((layer) => storage.list(`${layer}/`)))).flat().map((object) => object.key));
  let uploaded = 0;
  for (const relative of manifestFiles(lake.manifest)) {
    if (present.has(relative)) continue;
    await storage.upload(relative, lake.absolute(relative));
    uploaded += 1;
  }
  await storage.put(LAKE_MANIFEST, Buffer.from(`${JSON.stringify(lake.manifest, null, 1)}\n`), { contentType: 'application/json' });
  return { uploaded, version: lake.manifest.version };
}

/**
 * Brings a lake version from object storage into a local directory (a cache): files of the layers
 * asked for that it lacks are downloaded (lake files never change once written), the manifest is
 * written last. Returns the local lake; files of the other layers stay in the store.
 */
export async function pullLake(storage: ObjectStorage, directory: string, options: { readonly layers?: readonly LakeLayer[] } = {}): Promise<Lake> {
  const manifest = JSON.parse(Buffer.from(await storage.get(LAKE_MANIFEST)).toString('utf8')) as LakeManifest;
  for (const relative of manifestFiles(manifest, options.layers)) {
    const local = path.join(directory, relative);
    const exists = await fs.stat(local).then((stat) => stat.isFile(), () => false);
    if (!exists) await storage.download(relative, local);
  }
  await writeFileAtomically(path.join(directory, LAKE_MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`, { createDirectory: true });
  return Lake.open(directory);
}
