/**
 * Real XGBoost for the tests: Debian's python3-xgboost (1.7) through /usr/bin/python3 (the
 * `python3` on PATH may be an interpreter without it). bin/setup installs the package.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SYSTEM_PYTHON } from './onnx';

/** Why the XGBoost tests cannot run, or undefined when they can. */
export function xgboostUnavailableReason(): string | undefined {
  const result = spawnSync(SYSTEM_PYTHON, ['-c', 'import xgboost, numpy; print(xgboost.__version__)'], { encoding: 'utf8' });
  if (result.status === 0) return undefined;
  return `${SYSTEM_PYTHON} cannot import xgboost (install Debian's python3-xgboost: bin/setup does): ${(result.stderr || result.error?.message || '').trim().split('\n').at(-1)}`;
}

const TRAIN_SCRIPT = `
import json, sys
import numpy as np
import xgboost as xgb
job = json.load(open(sys.argv[1]))
columns = job["columns"]
def matrix(name):
    values = np.fromfile(job[name], dtype=np.float32).reshape(-1, columns)
    labels = np.fromfile(job[name + "_labels"], dtype=np.int32) if job.get(name + "_labels") else None
    return xgb.DMatrix(values, label=labels, nthread=1)
train = matrix("train")
evals = [(matrix("validation"), "validation")] if job.get("validation") else []
params = dict(job["params"])
booster = xgb.train(params, train, num_boost_round=job["rounds"], evals=evals,
                    early_stopping_rounds=job.get("early_stopping_rounds"), verbose_eval=False)
booster.save_model(job["out"] + ".json")
booster.save_model(job["out"])   # no extension: the legacy binary format, as SageMaker's 1.7-1 container saves it
test = matrix("test")
best = booster.attr("best_iteration")
full = booster.predict(test)
best_probabilities = booster.predict(test, iteration_range=(0, int(best) + 1)) if best is not None else full
full.astype(np.float32).tofile(job["out"] + ".full.bin")
best_probabilities.astype(np.float32).tofile(job["out"] + ".best.bin")
print(json.dumps({"best_iteration": None if best is None else int(best), "trees": len(booster.get_dump())}))
`;

export interface XGBoostTrainingInput {
  readonly columns: number;
  readonly train: { readonly values: Float32Array; readonly labels: Int32Array };
  readonly validation?: { readonly values: Float32Array; readonly labels: Int32Array };
  readonly test: Float32Array;
  readonly params: Readonly<Record<string, string | number>>;
  readonly rounds: number;
  readonly earlyStoppingRounds?: number;
}

export interface XGBoostTrainingOutput {
  readonly json: Uint8Array;
  readonly binary: Uint8Array;
  /** XGBoost's predict() on the test rows with every tree. */
  readonly probabilities: Float32Array;
  /** With the trees up to best_iteration (= probabilities without early stopping). */
  readonly bestProbabilities: Float32Array;
  readonly bestIteration: number | null;
}

/** Trains with xgboost.train in /usr/bin/python3 and predicts the test rows. */
export function trainWithXGBoost(input: XGBoostTrainingInput): XGBoostTrainingOutput {
  const directory = mkdtempSync(path.join(tmpdir(), 'retail-mlops-xgboost-'));
  try {
    const file = (name: string, content: ArrayBufferView): string => {
      const target = path.join(directory, name);
      writeFileSync(target, new Uint8Array(content.buffer, content.byteOffset, content.byteLength));
      return target;
    };
    const job = {
      columns: input.columns,
      train: file('train.bin', input.train.values),
      train_labels: file('train-labels.bin', input.train.labels),
      validation: input.validation ? file('validation.bin', input.validation.values) : undefined,
      validation_labels: input.validation ? file('validation-labels.bin', input.validation.labels) : undefined,
      test: file('test.bin', input.test),
      params: input.params,
      rounds: input.rounds,
      early_stopping_rounds: input.earlyStoppingRounds,
      out: path.join(directory, 'xgboost-model'),
    };
    writeFileSync(path.join(directory, 'job.json'), JSON.stringify(job));
    const result = spawnSync(SYSTEM_PYTHON, ['-c', TRAIN_SCRIPT, path.join(directory, 'job.json')], { encoding: 'utf8', timeout: 300_000 });
    if (result.status !== 0) throw new Error(`xgboost training failed: ${result.stderr}`);
    const summary = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { best_iteration: number | null };
    const floats = (name: string): Float32Array => {
      const bytes = readFileSync(path.join(directory, name));
      return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    };
    return {
      json: new Uint8Array(readFileSync(`${job.out}.json`)),
      binary: new Uint8Array(readFileSync(job.out)),
      probabilities: floats('xgboost-model.full.bin'),
      bestProbabilities: floats('xgboost-model.best.bin'),
      bestIteration: summary.best_iteration,
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** A change to a JSON model: tree `tree`'s node `node` gets split condition `value`. */
export interface SplitConditionEdit {
  readonly tree: number;
  readonly node: number;
  readonly value: number;
}

/**
 * Predicts `values` with a JSON model in XGBoost itself, after applying `edits` in Python (whose JSON
 * writer keeps floats as floats, which XGBoost's reader insists on). Returns the edited model too.
 */
export function predictWithXGBoost(
  model: Uint8Array,
  values: Float32Array,
  columns: number,
  edits: readonly SplitConditionEdit[] = [],
): { readonly model: Uint8Array; readonly probabilities: Float32Array } {
  const directory = mkdtempSync(path.join(tmpdir(), 'retail-mlops-xgboost-'));
  try {
    writeFileSync(path.join(directory, 'model.json'), model);
    writeFileSync(path.join(directory, 'edits.json'), JSON.stringify(edits));
    writeFileSync(path.join(directory, 'values.bin'), new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    const script = `
import json, sys, numpy as np, xgboost as xgb
directory = sys.argv[1]
document = json.load(open(directory + "/model.json"))
for edit in json.load(open(directory + "/edits.json")):
    document["learner"]["gradient_booster"]["model"]["trees"][edit["tree"]]["split_conditions"][edit["node"]] = float(edit["value"])
json.dump(document, open(directory + "/edited.json", "w"))
booster = xgb.Booster(model_file=directory + "/edited.json")
values = np.fromfile(directory + "/values.bin", dtype=np.float32).reshape(-1, ${columns})
booster.predict(xgb.DMatrix(values, nthread=1)).astype(np.float32).tofile(directory + "/out.bin")
`;
    const result = spawnSync(SYSTEM_PYTHON, ['-c', script, directory], { encoding: 'utf8', timeout: 120_000 });
    if (result.status !== 0) throw new Error(`xgboost predict failed: ${result.stderr}`);
    const bytes = readFileSync(path.join(directory, 'out.bin'));
    return {
      model: new Uint8Array(readFileSync(path.join(directory, 'edited.json'))),
      probabilities: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)),
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
