/**
 * Gold is read in an order that is a function of the data: baskets by SHOP_WEEK, BASKET_ID and each
 * basket's lines in a canonical order, whatever order the files and their lines came in and however
 * DuckDB's parallel GROUP BY wrote them. So two ingests of the same data train the same model bytes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_SPEC } from '../../../core/features/spec';
import { readGoldBaskets, type GoldBaskets } from '../../../core/lake/gold-reader';
import { ingest } from '../../../core/lake/ingest';
import { Lake } from '../../../core/lake/lake';
import { trainInProcess } from '../../../core/training/in-process';
import { defaultTimeSplit, TRAINING_SPECIFICATION_VERSION, type TrainingJob } from '../../../core/training/port';
import { SAMPLE_FILES, temporaryDirectory } from '../../helpers/paths';

/** The same rows with the data lines in reverse order (header first), as a plain .csv. */
function reversedCopy(file: string, directory: string): string {
  const raw = readFileSync(file);
  const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const [header, ...lines] = text.replace(/\n$/, '').split('\n');
  const target = path.join(directory, `reversed-${path.basename(file).replace(/\.gz$/, '')}`);
  writeFileSync(target, `${[header, ...lines.reverse()].join('\n')}\n`);
  return target;
}

function gbdtJob(lake: Lake, uri: string): TrainingJob {
  return {
    specificationVersion: TRAINING_SPECIFICATION_VERSION,
    name: 'gold-order',
    dataset: { uri, version: lake.manifest.version },
    split: defaultTimeSplit(lake.weeks()),
    featureSpec: { version: FEATURE_SPEC.version, hash: FEATURE_SPEC.hash },
    algorithm: 'gbdt',
    hyperparameters: { rounds: 20 },
    seed: 7,
  };
}

/** Every array of the batch and the ids, as plain arrays (toEqual then reports the first difference). */
function contents(gold: GoldBaskets): Record<string, number[]> {
  const entries = Object.entries(gold.batch).filter((entry): entry is [string, ArrayLike<number>] => typeof entry[1] === 'object');
  return Object.fromEntries([...entries.map(([name, values]) => [name, Array.from(values)]), ['basketIds', Array.from(gold.basketIds)]]);
}

describe('gold row order is a function of the data', () => {
  const scratch = temporaryDirectory();
  const original = path.join(scratch.path, 'original');
  const reordered = path.join(scratch.path, 'reordered');
  let originalLake: Lake;
  let reorderedLake: Lake;

  beforeAll(async () => {
    // the same rows: once as given, once every file's lines reversed and the files in reverse order
    await ingest({ inputs: SAMPLE_FILES, lake: original });
    await ingest({ inputs: SAMPLE_FILES.map((file) => reversedCopy(file, scratch.path)).reverse(), lake: reordered });
    [originalLake, reorderedLake] = await Promise.all([Lake.openExisting(original), Lake.openExisting(reordered)]);
  });
  afterAll(() => scratch.remove());

  it('the two lakes store their baskets and lines in different orders', async () => {
    const unordered = { ordered: false };
    const [first, second] = await Promise.all([readGoldBaskets(originalLake, undefined, undefined, unordered), readGoldBaskets(reorderedLake, undefined, undefined, unordered)]);
    expect(first.batch.size).toBe(second.batch.size);
    expect(Array.from(first.basketIds)).not.toEqual(Array.from(second.basketIds));
  });

  it('reads both as the same baskets, in SHOP_WEEK, BASKET_ID order, with the same lines in the same order', async () => {
    const [first, second] = await Promise.all([readGoldBaskets(originalLake), readGoldBaskets(reorderedLake)]);
    expect(contents(second)).toEqual(contents(first));
    const { batch, basketIds } = first;
    for (let basket = 1; basket < batch.size; basket++) {
      const week = batch.week[basket - 1];
      expect(week < batch.week[basket] || (week === batch.week[basket] && basketIds[basket - 1] < basketIds[basket]), `basket ${basket}`).toBe(true);
    }
    // a basket's lines by product code (the canonical order), checked here on every basket
    for (let basket = 0; basket < batch.size; basket++) {
      for (let line = batch.lineStart[basket] + 1; line < batch.lineStart[basket + 1]; line++) expect(batch.product[line - 1] <= batch.product[line]).toBe(true);
    }
  });

  it('trains the same ONNX bytes and metrics from either lake', async () => {
    const [first, second] = [await trainInProcess(gbdtJob(originalLake, original), { threads: 1 }), await trainInProcess(gbdtJob(reorderedLake, reordered), { threads: 1 })];
    expect(Buffer.from(second.onnx).equals(Buffer.from(first.onnx))).toBe(true);
    expect(second.metrics).toEqual(first.metrics);
  });
});
