import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { localInputs } from './input-files';
import { ingest } from '../../core/lake/ingest';
import { LAKE_MANIFEST, Lake } from '../../core/lake/lake';
import type { ProgressReporter } from '../../core/progress';
import type { EnvironmentServices } from '../../providers/environment';
import { parseLocation } from '../../providers/locations';

/** Data to score or evaluate, readable here. */
export interface DataSource {
  readonly lake: Lake;
  /** Where the data came from, for messages and summaries. */
  readonly description: string;
  /** True when the data are files ingested into a scratch lake (every week is new to any model). */
  readonly scratch: boolean;
  /** Removes what was made for it (a scratch lake). */
  close(): Promise<void>;
}

/** A lake that is already open, as a data source. */
export function lakeSource(lake: Lake, description = `lake ${lake.root}`): DataSource {
  return { lake, description, scratch: false, close: async () => undefined };
}

async function isLake(services: EnvironmentServices, location: string): Promise<boolean> {
  const parsed = parseLocation(location);
  if (parsed.provider === 'local') return existsSync(path.join(parsed.directory, LAKE_MANIFEST));
  return (await (await services.storage(location)).head(LAKE_MANIFEST)) !== undefined;
}

/**
 * Opens data to score or evaluate: no data → the environment's lake; one lake (a directory, or a
 * cloud location holding `_lake.json`) → that lake as it is; anything else → LGSR files (local, or
 * downloaded from a cloud location) ingested into a scratch lake.
 */
export async function openDataSource(services: EnvironmentServices, data: readonly string[], progress?: ProgressReporter): Promise<DataSource> {
  if (data.length === 0) {
    const lake = services.lake();
    return lakeSource(await lake.openExisting(), `lake ${lake.location}`);
  }
  if (data.length === 1 && !/[*?[]/.test(data[0]) && (await isLake(services, data[0]))) {
    const lake = services.lake(data[0]);
    return lakeSource(await lake.openExisting(), `lake ${lake.location}`);
  }
  const files = await localInputs(services, data);
  const directory = await mkdtemp(path.join(os.tmpdir(), 'retail-mlops-data-'));
  try {
    const summary = await ingest({ inputs: files.paths, lake: directory, progress });
    const description = `${data.join(', ')} (${summary.rowsAccepted} rows accepted, ${summary.rowsQuarantined} quarantined)`;
    return { lake: await Lake.openExisting(directory), description, scratch: true, close: () => rm(directory, { recursive: true, force: true }) };
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  } finally {
    await files.remove();
  }
}
