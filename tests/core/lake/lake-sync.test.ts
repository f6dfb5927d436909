import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ingest } from '../../../core/lake/ingest';
import { Lake } from '../../../core/lake/lake';
import { pullLake, pushLake } from '../../../core/lake/lake-sync';
import { createLocalObjectStorage } from '../../../providers/local/object-storage';
import { query } from '../../helpers/duckdb';
import { SAMPLE_FILES, temporaryDirectory } from '../../helpers/paths';

describe('a lake on object storage', () => {
  const scratch = temporaryDirectory();
  afterAll(() => scratch.remove());

  it('publishes data first and the manifest last, and pulls back the same lake', async () => {
    const lakeDir = path.join(scratch.path, 'lake');
    await ingest({ inputs: [SAMPLE_FILES[0]], lake: lakeDir });
    const storage = createLocalObjectStorage({ root: path.join(scratch.path, 'bucket') });
    const first = await pushLake(await Lake.open(lakeDir), storage);
    expect(first.uploaded).toBeGreaterThan(10);

    // a second version uploads only what is new
    await ingest({ inputs: [SAMPLE_FILES[1]], lake: lakeDir });
    const local = await Lake.open(lakeDir);
    const second = await pushLake(local, storage);
    expect(second.version).toBe(2);
    const filesNow = local.manifest.raw.length + local.manifest.silver.length + local.manifest.gold.length + local.manifest.quarantine.length;
    expect(second.uploaded).toBe(filesNow - first.uploaded);

    const pulled = await pullLake(storage, path.join(scratch.path, 'cache'));
    expect(pulled.manifest).toEqual(local.manifest);
    const count = async (lake: Lake): Promise<number> => Number((await query<{ n: bigint }>(`SELECT count(*) AS n FROM ${lake.goldSql()}`))[0].n);
    expect(await count(pulled)).toBe(await count(local));
  });
});
