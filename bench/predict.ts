/**
 * `npm run bench:predict [-- --rows 2700000 --repeat 3 --workers N]`: batch scoring (`retail-mlops
 * predict`) of every basket of an LGSR-size lake, features included. Target on 2 cores: ≥ 300,000
 * baskets/s from the first gold read to the Parquet file in place.
 *
 * The lake (the cached generated sample, ingested) and the models (a GBDT with the trainer's defaults,
 * as `npm start` trains it, and a logistic regression) are built once and cached under .cache/bench/
 * (keyed by rows, seed and the feature spec); the first run takes about two minutes for that. Then the
 * GBDT is scored `--repeat` times with the default engine (compiled trees, checked against ONNX Runtime
 * on each worker's first rows), once with ONNX Runtime only, and the linear model once.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { cachedSample } from './cached-sample';
import { FEATURE_SPEC } from '../core/features/spec';
import { Lake } from '../core/lake/lake';
import type { ScoringEngine } from '../core/onnx/row-scorer';
import { lakeSource, scoreToFile, type ScoreToFileSummary } from '../pipelines/workflows';
import { createLocalRegistry } from '../providers/local/registry';

const TARGET = 300_000;

const { values: flags } = parseArgs({
  options: {
    rows: { type: 'string', default: '2700000' },
    repeat: { type: 'string', default: '3' },
    workers: { type: 'string' },
  },
});

function cli(args: readonly string[]): void {
  execFileSync(path.resolve('node_modules/.bin/tsx'), ['bin/retail-mlops.ts', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** The cached lake and registry (built on first use). */
function fixtures(rows: number): { lake: string; registry: string } {
  const root = path.resolve('.cache', 'bench', `predict-${rows}-seed42-${FEATURE_SPEC.hash.replace(/^sha256:/, '').slice(0, 12)}`);
  const lake = path.join(root, 'lake');
  const registry = path.join(root, 'registry');
  if (!existsSync(path.join(registry, 'aliases', 'bench-lr.json'))) {
    rmSync(root, { recursive: true, force: true });
    const file = cachedSample(rows);
    process.stderr.write(`ingesting ${file} and training gbdt + lr into ${root} (cached for the next run)…\n`);
    cli(['ingest', file, '--lake', lake, '--quiet']);
    cli(['train', '--lake', lake, '--registry', registry, '--algorithm', 'gbdt', '--alias', 'bench-gbdt', '--quiet']);
    cli(['train', '--lake', lake, '--registry', registry, '--algorithm', 'lr', '--alias', 'bench-lr', '--quiet']);
  }
  return { lake, registry };
}

async function bench(): Promise<void> {
  const rows = Number(flags.rows);
  const repeat = Math.max(1, Number(flags.repeat));
  const workers = flags.workers === undefined ? undefined : Number(flags.workers);
  const { lake, registry: registryRoot } = fixtures(rows);
  const registry = createLocalRegistry({ root: registryRoot });
  const lakeVersion = await Lake.openExisting(lake);
  const scratch = mkdtempSync(path.join(tmpdir(), 'bench-predict-'));
  const run = (model: string, engine: ScoringEngine): Promise<ScoreToFileSummary> =>
    scoreToFile({ registry, model, openSource: async () => lakeSource(lakeVersion), out: path.join(scratch, `${model}-${engine}.parquet`), engine, workers });
  const line = (label: string, summary: ScoreToFileSummary): string =>
    `${label.padEnd(28)} ${summary.baskets.toLocaleString('en')} baskets in ${summary.seconds.toFixed(3)} s = ${summary.basketsPerSecond.toLocaleString('en').padStart(9)} baskets/s` +
    ` (${summary.engine}${summary.verifiedRows > 0 ? `, ${summary.verifiedRows} rows checked, max |Δp| ${summary.maxDifference.toExponential(1)}` : ''})`;
  try {
    process.stdout.write(`bench:predict — ${rows.toLocaleString('en')} generated rows, load average before ${loadavg()[0].toFixed(2)}\n`);
    const gbdt: ScoreToFileSummary[] = [];
    for (let index = 0; index < repeat; index++) {
      const summary = await run('bench-gbdt', 'auto');
      gbdt.push(summary);
      process.stdout.write(`${line(`gbdt, default engine #${index + 1}`, summary)}\n`);
    }
    process.stdout.write(`${line('gbdt, onnxruntime only', await run('bench-gbdt', 'onnxruntime'))}\n`);
    process.stdout.write(`${line('lr, default engine', await run('bench-lr', 'auto'))}\n`);
    const sorted = gbdt.map((summary) => summary.basketsPerSecond).sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    process.stdout.write(
      `gbdt median ${median.toLocaleString('en')} baskets/s, best ${sorted[sorted.length - 1].toLocaleString('en')} (target ≥ ${TARGET.toLocaleString('en')}: ${median >= TARGET ? 'met' : 'NOT met'}); ` +
        `load average after ${loadavg()[0].toFixed(2)}\n`,
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

bench().catch((error: unknown) => {
  process.stderr.write(`bench:predict: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
