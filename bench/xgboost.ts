/**
 * XGBoost for the benchmarks: Debian's python3-xgboost (1.7) through /usr/bin/python3, trained by
 * bench/xgboost_train.py on a matrix in bench/training-matrix.ts's layout, with the parameters our
 * gradient-boosted trees use. `npm run bench:train` times it against our trainer; `npm run bench:serve`
 * serves the booster it saves behind FastAPI (bench/fastapi/).
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

/** Debian's interpreter: the `python3` on PATH may be another one that cannot see Debian's dist-packages. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** The settings both trainers share (our names; xgboostParameters maps them to XGBoost's). */
export interface BoostingSettings {
  readonly rounds: number;
  readonly maxDepth: number;
  readonly maxBin: number;
  readonly learningRate: number;
  readonly l2Regularization: number;
  readonly minChildWeight: number;
}

/** What the benchmarks train with, on both sides: XGBoost's own defaults, 100 rounds. */
export const BENCH_BOOSTING_SETTINGS: BoostingSettings = {
  rounds: 100,
  maxDepth: 6,
  maxBin: 256,
  learningRate: 0.3,
  l2Regularization: 1,
  minChildWeight: 1,
};

/** XGBoost's parameters for the same model as ours: softprob over the classes, `hist`, same depth, bins, eta, lambda. */
export function xgboostParameters(settings: BoostingSettings, classCount: number, threads: number): Readonly<Record<string, string | number>> {
  return {
    objective: 'multi:softprob',
    num_class: classCount,
    tree_method: 'hist',
    max_depth: settings.maxDepth,
    max_bin: settings.maxBin,
    eta: settings.learningRate,
    lambda: settings.l2Regularization,
    min_child_weight: settings.minChildWeight,
    nthread: threads,
    seed: 0,
    verbosity: 0,
  };
}

export interface XGBoostTrainingOptions {
  /** A matrix directory (meta.json, values.f32, labels.i32); rows [0, trainRows) train. */
  readonly matrixDirectory: string;
  readonly classCount: number;
  readonly settings: BoostingSettings;
  readonly threads: number;
  /** Saves the booster here (.json: XGBoost's JSON model). @default not saved */
  readonly modelFile?: string;
  /** Writes the held-out rows' probabilities here (float32 [rows, classes]). @default not predicted */
  readonly probabilitiesFile?: string;
  /** @default SYSTEM_PYTHON */
  readonly python?: string;
}

export interface XGBoostTrainingRun {
  readonly version: string;
  /** Wall and CPU seconds of `xgb.train` alone. */
  readonly seconds: number;
  readonly cpuSeconds: number;
}

/** Trains with bench/xgboost_train.py (a failure's error carries the script's stderr). */
export async function trainXGBoost(options: XGBoostTrainingOptions): Promise<XGBoostTrainingRun> {
  const args = [
    path.join(__dirname, 'xgboost_train.py'),
    options.matrixDirectory,
    JSON.stringify(xgboostParameters(options.settings, options.classCount, options.threads)),
    String(options.settings.rounds),
    String(options.threads),
  ];
  if (options.modelFile !== undefined) args.push('--model-out', options.modelFile);
  if (options.probabilitiesFile !== undefined) args.push('--probabilities-out', options.probabilitiesFile);
  const { stdout } = await promisify(execFile)(options.python ?? SYSTEM_PYTHON, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as XGBoostTrainingRun;
}
