/**
 * Training benchmark: our gradient-boosted trees against XGBoost 1.7 `hist` on the same matrix, with
 * the same rounds, depth, bins, learning rate, lambda, min child weight and threads (every core unless
 * --threads says otherwise; our threads are a TreeThreadPool started before the clock runs, as
 * XGBoost's OpenMP threads exist before `xgb.train`).
 *
 *   npm run bench:train -- [--matrix DIR | --lake DIR] [--rows 200000] [--seed 20240601] [--threads N] [--rounds 100] [--max-depth 6]
 *                          [--max-bin 256] [--learning-rate 0.3] [--lambda 1] [--min-child-weight 1] [--repeat 1]
 *                          [--python /usr/bin/python3] [--keep]
 *
 * Without --matrix a synthetic basket matrix (bench/training-matrix.ts) is written to a temp dir; with
 * it, DIR is read in the same layout (meta.json, values.f32, labels.i32). With --lake DIR the matrix is
 * the project's real feature matrix of that lake: every week but the last trains (statistics out of
 * fold), the last week is held out (e.g. `--lake .lake` after ingesting ../shared/data/lgsr-sample). Wall times cover training
 * only: for us binning + boosting, for XGBoost `xgb.train` (which builds its quantile sketch and bin
 * index inside), not reading the files nor building the DMatrix. Both models' held-out predictions
 * are scored by the same macro-F1 code here.
 *
 * The machine may be shared: each side also reports its CPU time, and with --repeat N both train N
 * times, alternating, and the fastest wall time of each counts. Only a quiet machine gives the ratio
 * that counts: under load XGBoost's OpenMP threads spin while they wait and its wall time balloons
 * (10× at a load of 8 on 2 cores); `OMP_WAIT_POLICY=PASSIVE npm run bench:train` makes them sleep
 * instead, a fairer comparison on a busy machine (the environment reaches the Python process).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { readMatrix, syntheticMatrix, writeMatrix, type MatrixOnDisk } from './training-matrix';
import { BENCH_BOOSTING_SETTINGS, SYSTEM_PYTHON, trainXGBoost, type BoostingSettings } from './xgboost';
import { FEATURE_COUNT, FEATURE_NAMES } from '../core/features/spec';
import { heldOutFeatures, outOfFoldFeatures } from '../core/features/training-matrix';
import { readGoldBaskets } from '../core/lake/gold-reader';
import { Lake } from '../core/lake/lake';
import { PRICE_SENSITIVITY_CLASSES } from '../core/schema/lgsr';
import { modelLabels } from '../core/training/model-outputs';
import { trainGradientBoostedTrees } from '../core/training/trees/gradient-boosting';
import { TreeThreadPool } from '../core/training/trees/thread-pool';
import { argmaxRows } from '../core/training/trees/tree-scores';
import { macroF1 } from '../tests/core/training/synthetic-data';

/** The target: our wall time at most this multiple of XGBoost's, at an equal or better macro-F1. */
const TIME_RATIO_TARGET = 1.2;

const { values: flags } = parseArgs({
  options: {
    'matrix': { type: 'string' },
    'lake': { type: 'string' },
    'rows': { type: 'string', default: '200000' },
    'seed': { type: 'string', default: '20240601' },
    'rounds': { type: 'string', default: String(BENCH_BOOSTING_SETTINGS.rounds) },
    'max-depth': { type: 'string', default: String(BENCH_BOOSTING_SETTINGS.maxDepth) },
    'max-bin': { type: 'string', default: String(BENCH_BOOSTING_SETTINGS.maxBin) },
    'learning-rate': { type: 'string', default: String(BENCH_BOOSTING_SETTINGS.learningRate) },
    'lambda': { type: 'string', default: String(BENCH_BOOSTING_SETTINGS.l2Regularization) },
    'min-child-weight': { type: 'string', default: String(BENCH_BOOSTING_SETTINGS.minChildWeight) },
    'repeat': { type: 'string', default: '1' },
    'threads': { type: 'string', default: String(availableParallelism()) },
    'python': { type: 'string', default: SYSTEM_PYTHON },
    'keep': { type: 'boolean', default: false },
  },
});

const settings: BoostingSettings = {
  rounds: Number(flags.rounds),
  maxDepth: Number(flags['max-depth']),
  maxBin: Number(flags['max-bin']),
  learningRate: Number(flags['learning-rate']),
  l2Regularization: Number(flags.lambda),
  minChildWeight: Number(flags['min-child-weight']),
};

const THREADS = Number(flags.threads);

const workDirectory = mkdtempSync(path.join(tmpdir(), 'bench-train-'));
async function main(): Promise<void> {
  try {
    let matrixDirectory = flags.matrix;
    if (matrixDirectory === undefined && flags.lake !== undefined) {
      matrixDirectory = workDirectory;
      await writeLakeMatrix(flags.lake, matrixDirectory);
    } else if (matrixDirectory === undefined) {
      matrixDirectory = workDirectory;
      const started = performance.now();
      const { matrix, featureNames } = syntheticMatrix(Number(flags.rows), Number(flags.seed));
      writeMatrix(matrixDirectory, matrix, featureNames);
      log(`synthetic matrix ${matrix.rows} × ${matrix.columns} written to ${matrixDirectory} in ${seconds(performance.now() - started)} s`);
    }
    const matrix = readMatrix(matrixDirectory);
    const train = slice(matrix, 0, matrix.trainRows);
    const heldOut = slice(matrix, matrix.trainRows, matrix.rows);
    log(`train ${train.rows} rows, held out ${heldOut.rows} rows, ${matrix.columns} columns, classes ${matrix.classes.join('/')}`);
    log(`settings (both sides) ${JSON.stringify({ threads: THREADS, ...settings })}; load average ${loadavg().map((load) => load.toFixed(2)).join(' ')}`);
    const poolStarted = performance.now();
    const threads = await TreeThreadPool.start({ threads: THREADS });
    log(`our ${THREADS} threads started in ${seconds(performance.now() - poolStarted)} s (not timed, like XGBoost's OpenMP threads)`);

    let xgboost: XGBoostRun | undefined;
    let ours: { seconds: number; cpuSeconds: number; labels: Int32Array } | undefined;
    for (let attempt = 0; attempt < Number(flags.repeat); attempt++) {
      const xgboostRun = await runXGBoost(matrixDirectory, matrix, flags.python);
      log(`xgboost ${xgboostRun.version} hist, ${describeSettings()}: ${xgboostRun.seconds.toFixed(2)} s (cpu ${xgboostRun.cpuSeconds.toFixed(2)} s)`);
      if (xgboost === undefined || xgboostRun.seconds < xgboost.seconds) xgboost = xgboostRun;
      const started = performance.now();
      const cpuStarted = process.cpuUsage();
      const result = trainGradientBoostedTrees(train, matrix.classes, settings, { threads });
      const cpu = process.cpuUsage(cpuStarted);
      const ourRun = {
        seconds: (performance.now() - started) / 1000,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        labels: modelLabels(result.model, heldOut.values, heldOut.rows),
      };
      log(`ours (TypeScript), ${describeSettings()}: ${ourRun.seconds.toFixed(2)} s (cpu ${ourRun.cpuSeconds.toFixed(2)} s)`);
      if (ours === undefined || ourRun.seconds < ours.seconds) ours = ourRun;
    }
    await threads.close();
    if (xgboost === undefined || ours === undefined) throw new Error('--repeat must be at least 1');
    const xgboostF1 = macroF1(heldOut.labels, xgboost.labels, matrix.classes.length);
    const ourF1 = macroF1(heldOut.labels, ours.labels, matrix.classes.length);
    const ourSeconds = ours.seconds;
    log(`macro-F1 on held-out rows: xgboost ${xgboostF1.toFixed(4)}, ours ${ourF1.toFixed(4)}`);

    const summary = {
      matrix: flags.lake === undefined ? (flags.matrix ?? 'synthetic') : `feature matrix of ${flags.lake}`,
      rows: train.rows,
      heldOutRows: heldOut.rows,
      columns: matrix.columns,
      threads: THREADS,
      ...settings,
      xgboostVersion: xgboost.version,
      xgboostSeconds: round(xgboost.seconds),
      oursSeconds: round(ourSeconds),
      timeRatio: round(ourSeconds / xgboost.seconds),
      xgboostCpuSeconds: round(xgboost.cpuSeconds),
      oursCpuSeconds: round(ours.cpuSeconds),
      cpuTimeRatio: round(ours.cpuSeconds / xgboost.cpuSeconds),
      loadAverage: loadavg().map(round),
      xgboostMacroF1: round(xgboostF1),
      oursMacroF1: round(ourF1),
      target: `ours ≤ ${TIME_RATIO_TARGET} × xgboost wall time at ≥ its macro-F1, same threads`,
      met: ourSeconds <= TIME_RATIO_TARGET * xgboost.seconds && ourF1 >= xgboostF1,
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    if (flags.keep) log(`kept ${workDirectory}`);
    else rmSync(workDirectory, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:train: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});


interface XGBoostRun {
  readonly version: string;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly labels: Int32Array;
}

/** Trains XGBoost on the same files (bench/xgboost.ts); it writes the held-out probabilities back. */
async function runXGBoost(matrixDirectory: string, matrix: MatrixOnDisk, python: string): Promise<XGBoostRun> {
  const probabilitiesFile = path.join(workDirectory, 'xgboost_probabilities.f32');
  const classCount = matrix.classes.length;
  const report = await trainXGBoost({ matrixDirectory, classCount, settings, threads: THREADS, probabilitiesFile, python });
  const bytes = readFileSync(probabilitiesFile);
  const probabilities = new Float32Array(bytes.length / 4);
  new Uint8Array(probabilities.buffer).set(bytes);
  return { ...report, labels: argmaxRows(probabilities, probabilities.length / classCount, classCount) };
}

function slice(matrix: MatrixOnDisk, start: number, end: number) {
  return {
    rows: end - start,
    columns: matrix.columns,
    values: matrix.values.subarray(start * matrix.columns, end * matrix.columns),
    labels: matrix.labels.subarray(start, end),
  };
}

function describeSettings(): string {
  return `threads ${THREADS}, rounds ${settings.rounds}, depth ${settings.maxDepth}, bins ${settings.maxBin}`;
}

function log(message: string): void {
  process.stderr.write(`bench:train ${message}\n`);
}

function seconds(milliseconds: number): string {
  return (milliseconds / 1000).toFixed(2);
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/** The real feature matrix of a lake: all weeks but the last train (out of fold), the last is held out. */
async function writeLakeMatrix(lakeDirectory: string, directory: string): Promise<void> {
  const lake = await Lake.openExisting(lakeDirectory);
  const weeks = lake.weeks();
  const { batch } = await readGoldBaskets(lake);
  const last = weeks[weeks.length - 1];
  const all = Int32Array.from({ length: batch.size }, (_, index) => index);
  const trainRows = all.filter((row) => batch.label[row] >= 0 && batch.week[row] !== last);
  const testRows = all.filter((row) => batch.label[row] >= 0 && batch.week[row] === last);
  const fitted = outOfFoldFeatures(batch, trainRows);
  const values = new Float32Array((trainRows.length + testRows.length) * FEATURE_COUNT);
  values.set(fitted.values, 0);
  values.set(heldOutFeatures(fitted.statistics, batch, testRows), trainRows.length * FEATURE_COUNT);
  const labels = Int32Array.from([...trainRows, ...testRows], (row) => batch.label[row]);
  writeMatrix(
    directory,
    { rows: labels.length, columns: FEATURE_COUNT, values, labels, classes: [...PRICE_SENSITIVITY_CLASSES], trainRows: trainRows.length },
    FEATURE_NAMES,
  );
  log(`feature matrix of ${lakeDirectory}: ${trainRows.length} training baskets (weeks ${weeks.slice(0, -1).join(' ')}), ${testRows.length} held out (week ${last})`);
}
