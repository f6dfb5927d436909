import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { evaluateModel, type EvaluationSummary } from './evaluate-model';
import { gateModel, type GateSummary } from './gate-model';
import { trainModels, type TrainModelsSummary } from './train-models';
import { generateLgsr } from '../../core/data/generator';
import { ingest, type IngestSummary } from '../../core/data/ingest';
import { Lake } from '../../core/data/lake';
import type { GateOptions } from '../../core/evaluation/gate';
import type { ProgressReporter } from '../../core/progress';
import type { ModelRegistry } from '../../core/registry/port';
import type { TrainingBackend } from '../../core/training/contract';

export interface MainJobOptions {
  /** LGSR files or directories; none → a seeded sample is generated. */
  readonly data: readonly string[];
  /** Where the lake, the generated data and the report go. */
  readonly workdir: string;
  readonly registry: ModelRegistry;
  readonly backend: TrainingBackend;
  readonly algorithms: readonly string[];
  /** Rows to generate when no data is given. @default 500000 */
  readonly rows?: number;
  readonly seed?: number;
  readonly thresholds?: GateOptions;
  readonly actor: string;
  readonly progress?: ProgressReporter;
  /** Called as each step finishes (the CLI prints a line). */
  readonly onStep?: (step: string, detail: string) => void;
}

export interface MainJobSummary {
  readonly data: readonly string[];
  readonly generated: boolean;
  readonly ingest: IngestSummary;
  readonly training: TrainModelsSummary;
  readonly evaluation: EvaluationSummary;
  readonly gate: GateSummary;
  readonly report: string;
  readonly seconds: number;
}

/**
 * The whole local pipeline on the embedded default: data (generated when none is given) → ingest →
 * train every algorithm → evaluate the champion on held-out weeks → gate → `candidate` alias → report.
 */
export async function runMainJob(options: MainJobOptions): Promise<MainJobSummary> {
  const started = performance.now();
  const step = options.onStep ?? (() => undefined);
  await fs.mkdir(options.workdir, { recursive: true });
  let data = [...options.data];
  const generated = data.length === 0;
  if (generated) {
    const out = path.join(options.workdir, 'data', `lgsr-${options.rows ?? 500_000}-seed${options.seed ?? 42}`);
    if (!existsSync(out)) {
      const result = await generateLgsr({ rows: options.rows ?? 500_000, seed: options.seed ?? 42, out, progress: options.progress });
      step('generate', `${result.rows} rows, ${result.weeks} weeks → ${out}`);
    } else {step('generate', `reusing ${out}`);}
    data = [out];
  }
  const lakeDirectory = path.join(options.workdir, 'lake');
  const ingested = await ingest({ inputs: data, lake: lakeDirectory, progress: options.progress });
  step('ingest', `${ingested.rowsAccepted} rows accepted, ${ingested.rowsQuarantined} quarantined, lake version ${ingested.lakeVersion}`);
  const lake = await Lake.openExisting(lakeDirectory);
  const training = await trainModels({
    lake,
    registry: options.registry,
    backend: options.backend,
    algorithms: options.algorithms,
    seed: options.seed,
    createdBy: options.actor,
    progress: options.progress,
  });
  step('train', training.runs.map((run) => `${run.algorithm} macro-F1 ${run.metrics.macroF1.toFixed(4)}`).join(', '));
  const gate = await gateModel({
    registry: options.registry,
    model: training.champion.modelVersion,
    lake,
    thresholds: options.thresholds,
    alias: 'candidate',
    actor: options.actor,
  });
  step('gate', gate.passed ? `passed → candidate ${gate.modelVersion}` : `failed: ${gate.reasons.join('; ')}`);
  const report = path.join(options.workdir, 'report.html');
  const evaluation = await evaluateModel({
    registry: options.registry,
    model: training.champion.modelVersion,
    data: [lakeDirectory],
    weeks: training.split.testWeeks,
    report,
    gate,
    runs: training.runs.map((run) => ({ algorithm: run.algorithm, metrics: run.metrics, version: run.modelVersion, trainingSeconds: run.trainSeconds })),
  });
  step('evaluate', `${evaluation.algorithm} accuracy ${evaluation.metrics.accuracy.toFixed(4)} on weeks ${evaluation.weeks.join(' ')} → ${report}`);
  return {
    data,
    generated,
    ingest: ingested,
    training,
    evaluation,
    gate,
    report,
    seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
  };
}
