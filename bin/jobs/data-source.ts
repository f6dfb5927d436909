import { existsSync, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ingest } from '../../core/data/ingest';
import { LAKE_MANIFEST, Lake } from '../../core/data/lake';
import type { ProgressReporter } from '../../core/progress';

/** Data to score or evaluate: a lake directory as it is, or LGSR files ingested into a scratch lake. */
export async function openDataSource(data: readonly string[], progress?: ProgressReporter): Promise<{ lake: Lake; description: string; scratch: boolean }> {
  if (data.length === 1 && existsSync(path.join(data[0], LAKE_MANIFEST))) {
    return { lake: await Lake.openExisting(data[0]), description: `lake ${path.resolve(data[0])}`, scratch: false };
  }
  const directory = mkdtempSync(path.join(os.tmpdir(), 'retail-mlops-data-'));
  const summary = await ingest({ inputs: data, lake: directory, progress });
  const description = `${data.join(', ')} (${summary.rowsAccepted} rows accepted, ${summary.rowsQuarantined} quarantined)`;
  return { lake: await Lake.openExisting(directory), description, scratch: true };
}
