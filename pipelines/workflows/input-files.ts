import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { InputError } from '../../core/errors';
import type { EnvironmentServices } from '../../providers/environment';
import { parseLocation } from '../../providers/locations';

/** LGSR files as local paths, and how to remove what was downloaded for them. */
export interface LocalInputs {
  readonly paths: readonly string[];
  /** Where each came from (cloud objects by their location). */
  readonly sources: readonly string[];
  remove(): Promise<void>;
}

const DATA_FILE = /\.csv(\.gz)?$/i;

/**
 * Inputs as local paths: files, directories and globs stay as they are; a cloud location (the
 * landing area, `s3://…`, a Blob URL) has its `.csv`/`.csv.gz` objects downloaded into a scratch
 * directory, keeping their names.
 */
export async function localInputs(services: EnvironmentServices, inputs: readonly string[]): Promise<LocalInputs> {
  const paths: string[] = [];
  const sources: string[] = [];
  let scratch: string | undefined;
  try {
    for (const input of inputs) {
      // plain paths stay as typed (globs included); file:// becomes a path
      const parsed = /^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? parseLocation(input) : undefined;
      if (parsed === undefined || parsed.provider === 'local') {
        paths.push(parsed?.provider === 'local' ? parsed.directory : input);
        sources.push(input);
        continue;
      }
      const storage = await services.storage(input);
      const objects = (await storage.list('')).filter((object) => DATA_FILE.test(object.key));
      if (objects.length === 0) throw new InputError(`cannot ingest: ${input} holds no .csv or .csv.gz file`);
      scratch ??= await mkdtemp(path.join(os.tmpdir(), 'retail-mlops-inputs-'));
      const directory = path.join(scratch, String(sources.length));
      for (const object of objects) {
        const file = path.join(directory, ...object.key.split('/'));
        await storage.download(object.key, file);
        paths.push(file);
        sources.push(`${input.replace(/\/+$/, '')}/${object.key}`);
      }
    }
  } catch (error) {
    if (scratch) await rm(scratch, { recursive: true, force: true });
    throw error;
  }
  return { paths, sources, remove: async () => (scratch ? rm(scratch, { recursive: true, force: true }) : undefined) };
}
