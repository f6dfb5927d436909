/**
 * Model quality by weeks of history: the same week held out, trained on the 1, 2, … weeks before it,
 * through the training pipeline's own job (core/training/in-process.ts: statistics on the history only,
 * out of fold for its rows; with two weeks or more the last one stops early, as `train` does).
 *
 *   npm run bench:quality -- [--sample DIR] [--algorithm gbdt] [--generated-weeks 1,2,3,5,10,20]
 *                            [--rows-per-week 24000] [--seed 42]
 *
 * Two tables: the real sample (../shared/data/lgsr-sample: history 200610, then 200609, then 200607;
 * test 200611), and generated data (the generator's seeded weeks, the last one held out). Each row
 * gives the held-out accuracy and macro-F1 of the algorithm, the price-tier rule alone (the basket
 * rule on the inferred tiers, core/features/price-tiers.ts), the context-only baseline, and the share
 * of the test week's lines whose product has a confident tier.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { BasketBatch } from '../core/features/basket-batch';
import { BasketFeatures, featureMatrix } from '../core/features/compute';
import { tierRuleLabel } from '../core/features/price-tiers';
import { FEATURE_COUNT, FEATURE_NAMES, FEATURE_SPEC } from '../core/features/spec';
import { fitFeatureStatistics } from '../core/features/statistics';
import { generateLgsr } from '../core/generator/generator';
import { readGoldBaskets } from '../core/lake/gold-reader';
import { ingest } from '../core/lake/ingest';
import { Lake } from '../core/lake/lake';
import { trainInProcess } from '../core/training/in-process';
import { defaultTimeSplit, TRAINING_SPECIFICATION_VERSION } from '../core/training/port';
import { rowsOfWeeks } from '../core/training/split-rows';

const { values: flags } = parseArgs({
  options: {
    'sample': { type: 'string', default: path.resolve('..', 'shared', 'data', 'lgsr-sample') },
    'algorithm': { type: 'string', default: 'gbdt' },
    'generated-weeks': { type: 'string', default: '1,2,3,5,10,20' },
    'rows-per-week': { type: 'string', default: '24000' },
    'seed': { type: 'string', default: '42' },
  },
});

interface QualityRow {
  readonly weeks: number;
  readonly trainingBaskets: number;
  readonly accuracy: number;
  readonly macroF1: number;
  readonly ruleAccuracy: number;
  /** The context-only baseline's accuracy (basket size, type, mission, store, time: no product statistics). */
  readonly contextAccuracy: number;
  readonly confidentLines: number;
  readonly seconds: number;
}

/** The tier rule's accuracy on `rows` and the share of their lines with a confident tier, statistics fitted on `history`. */
function tierRule(batch: BasketBatch, history: Int32Array, rows: Int32Array): { readonly accuracy: number; readonly confidentLines: number } {
  const statistics = fitFeatureStatistics(batch, history);
  const values = featureMatrix(new BasketFeatures(statistics), batch, rows);
  const score = FEATURE_NAMES.indexOf('price_tier_score');
  const confident = FEATURE_NAMES.indexOf('price_tier_confident_lines');
  let correct = 0;
  let confidentLines = 0;
  let lines = 0;
  rows.forEach((row, index) => {
    if (tierRuleLabel(values[index * FEATURE_COUNT + score], statistics.priceTiers.lowerThreshold, statistics.priceTiers.upperThreshold) === batch.label[row]) correct += 1;
    confidentLines += values[index * FEATURE_COUNT + confident];
    lines += batch.lineStart[row + 1] - batch.lineStart[row];
  });
  return { accuracy: correct / rows.length, confidentLines: confidentLines / lines };
}

/** Trains on the `count` weeks before the lake's last week for each count, and scores the last week. */
async function qualityByHistory(lakeDirectory: string, counts: readonly number[], algorithm: string, seed: number, label: string): Promise<QualityRow[]> {
  const lake = await Lake.open(lakeDirectory);
  const weeks = lake.weeks();
  const testWeek = weeks[weeks.length - 1];
  const { batch } = await readGoldBaskets(lake);
  const results: QualityRow[] = [];
  for (const count of counts.filter((weeksOfHistory) => weeksOfHistory < weeks.length)) {
    const history = weeks.slice(weeks.length - 1 - count, weeks.length - 1);
    const split = defaultTimeSplit([...history, testWeek]);
    process.stderr.write(`${label}: ${count} week(s) of history (${history.join(', ')}) → ${testWeek}…\n`);
    const trained = await trainInProcess({
      specificationVersion: TRAINING_SPECIFICATION_VERSION,
      name: `bench-quality-${count}`,
      dataset: { uri: lake.root, version: lake.manifest.version },
      split,
      featureSpec: { version: FEATURE_SPEC.version, hash: FEATURE_SPEC.hash },
      algorithm,
      hyperparameters: {},
      seed,
    });
    const historyRows = rowsOfWeeks(batch, history).rows;
    const rule = tierRule(batch, historyRows, rowsOfWeeks(batch, [testWeek]).rows);
    results.push({
      weeks: count,
      trainingBaskets: historyRows.length,
      accuracy: trained.metrics.accuracy,
      macroF1: trained.metrics.macroF1,
      ruleAccuracy: rule.accuracy,
      contextAccuracy: trained.metrics.lift?.baseline.accuracy ?? Number.NaN,
      confidentLines: rule.confidentLines,
      seconds: trained.trainSeconds,
    });
  }
  return results;
}

function table(title: string, algorithm: string, rows: readonly QualityRow[]): string {
  const lines = [
    `${title}`,
    '',
    `| weeks of history | training baskets | ${algorithm} accuracy | ${algorithm} macro-F1 | tier rule alone | context only | test lines with a confident tier | train s |`,
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (row) =>
        `| ${row.weeks} | ${row.trainingBaskets.toLocaleString('en')} | ${row.accuracy.toFixed(4)} | ${row.macroF1.toFixed(4)} | ${row.ruleAccuracy.toFixed(4)} | ${row.contextAccuracy.toFixed(4)} | ${(row.confidentLines * 100).toFixed(1)}% | ${row.seconds.toFixed(1)} |`,
    ),
  ];
  return `${lines.join('\n')}\n\n`;
}

async function bench(): Promise<void> {
  const algorithm = flags.algorithm!;
  const seed = Number(flags.seed);
  const generatedCounts = flags['generated-weeks']!.split(',').map(Number);
  const rowsPerWeek = Number(flags['rows-per-week']);
  const directory = mkdtempSync(path.join(tmpdir(), 'bench-quality-'));
  const load = (): string => loadavg().map((value) => value.toFixed(2)).join(' ');
  try {
    process.stdout.write(`load average at start: ${load()}\n\n`);
    await ingest({ inputs: [flags.sample!], lake: path.join(directory, 'sample') });
    const sample = await qualityByHistory(path.join(directory, 'sample'), [1, 2, 3], algorithm, seed, 'sample');
    process.stdout.write(table(`Real sample (${flags.sample}), test week 200611:`, algorithm, sample));

    const weeks = Math.max(...generatedCounts) + 1;
    process.stderr.write(`generating ${weeks} weeks of ${rowsPerWeek.toLocaleString('en')} rows (seed ${seed})…\n`);
    await generateLgsr({ rows: weeks * rowsPerWeek, weeks, seed, out: `${path.join(directory, 'generated')}/` });
    await ingest({ inputs: [path.join(directory, 'generated')], lake: path.join(directory, 'generated-lake') });
    const generated = await qualityByHistory(path.join(directory, 'generated-lake'), generatedCounts, algorithm, seed, 'generated');
    process.stdout.write(table(`Generated data (seed ${seed}, ${rowsPerWeek.toLocaleString('en')} rows a week), the last of ${weeks} weeks held out:`, algorithm, generated));
    process.stdout.write(`load average at the end: ${load()}\n`);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

bench().catch((error: unknown) => {
  process.stderr.write(`bench:quality: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
