/**
 * The main job (`retail-mlops run`, what `npm start` runs): data — LGSR files as they are, or a seeded
 * generated sample — through the pipeline stages ingest → train → evaluate → gate → register, on the
 * embedded local default. It goes through the same pipeline model and local runner as CI (`pipeline
 * run`): only the data, lake, registry and output locations differ, and `register` runs as on the main
 * branch.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { RetailMlopsError } from '../../core/errors';
import type { EvaluationMetrics } from '../../core/evaluation/metrics';
import { generateLgsr } from '../../core/generator/generator';
import type { ProgressReporter } from '../../core/progress';
import { openEnvironment, resolveEnvironment } from '../../providers/environment';
import { createPipelineModel, shellQuote } from '../model';
import { readProjectPipelineOptions } from '../project-pipeline';
import { runPipeline, type PipelineProgressEvent, type PipelineRunSummary } from '../runner';

/** The pipeline stages the main job runs locally: what CI runs after install and tests, up to the candidate. */
export const MAIN_JOB_STAGES = ['ingest', 'train', 'evaluate', 'gate', 'register'] as const;

export interface MainJobOptions {
  /** LGSR files or directories (the real release as it is). @default a generated sample */
  readonly data?: readonly string[];
  /** Lake, registry, generated data and report go here. */
  readonly workdir: string;
  /** Rows to generate when no data is given. */
  readonly rows: number;
  /** Seed of the generated data. */
  readonly seed: number;
  /** The command line of the `retail-mlops` CLI the stages call, quoted for a shell. */
  readonly cli: string;
  /** The generator's progress. @default silent */
  readonly progress?: ProgressReporter;
  /** Told as stages start and end and as each command starts. */
  readonly onPipelineProgress?: (event: PipelineProgressEvent) => void;
  /** A line about the data (generated, reused). */
  readonly onMessage?: (text: string) => void;
  /** Receives the stages' standard output. @default process.stdout */
  readonly stdout?: NodeJS.WritableStream;
}

export interface MainJobSummary {
  readonly generated: boolean;
  readonly data: readonly string[];
  readonly pipeline: PipelineRunSummary;
  readonly candidate: { readonly version: string; readonly algorithm: string; readonly metrics: EvaluationMetrics };
  readonly versions: ReadonlyArray<{ readonly version: string; readonly algorithm: string; readonly accuracy: number; readonly macroF1: number }>;
  readonly report: string;
}

/** A stage of the main job failed; `pipeline` says which and how. */
export class MainJobFailedError extends RetailMlopsError {
  constructor(readonly pipeline: PipelineRunSummary) {
    super('MAIN_JOB_FAILED', `the main job stopped at stage '${pipeline.stages.find((stage) => stage.status === 'failed')?.id}' (its output is above)`);
  }
}

/**
 * Runs the main job.
 * @throws MainJobFailedError when a stage fails
 */
export async function runMainJob(options: MainJobOptions): Promise<MainJobSummary> {
  const workdir = path.resolve(options.workdir);
  let data = (options.data ?? []).map((file) => path.resolve(file));
  const generated = data.length === 0;
  if (generated) {
    const out = path.join(workdir, 'data', `lgsr-${options.rows}-seed${options.seed}`);
    if (!existsSync(out)) {
      const result = await generateLgsr({ rows: options.rows, seed: options.seed, out, progress: options.progress });
      options.onMessage?.(`generated ${result.rows} rows, ${result.weeks} weeks → ${out}`);
    } else {
      options.onMessage?.(`reusing the generated sample ${out}`);
    }
    data = [out];
  }
  const lake = path.join(workdir, 'lake');
  const registryDirectory = path.join(workdir, 'registry');
  const outputDirectory = path.join(workdir, 'out');
  // the repository's own pipeline (its .retail-mlops.json), on local folders, calling the given CLI (a team's installed
  // package or the template's sources); the environment is the CI run's, not the main job's
  const model = createPipelineModel({
    ...readProjectPipelineOptions(),
    cli: options.cli,
    environment: undefined,
    provider: 'local',
    // the main job brings its own data: the CI's steps that land data for the ingest do not run here
    dataSetup: undefined,
    dataFiles: data.map(shellQuote),
    lake,
    registry: registryDirectory,
    outputDirectory,
  });
  const pipeline = await runPipeline(model, { stages: MAIN_JOB_STAGES, branch: model.mainBranch, onProgress: options.onPipelineProgress, stdout: options.stdout });
  if (pipeline.status === 'failed') throw new MainJobFailedError(pipeline);
  // the main job runs on the embedded local default, whatever environment the shell or the settings name
  const environment = await openEnvironment(resolveEnvironment({ flags: { environment: 'local', provider: 'local', lake, registry: registryDirectory }, uses: ['registry'] }));
  const registry = await environment.registry();
  const candidate = await registry.get('candidate');
  const versions = (await registry.list()).filter((version) => version.lineage.lakeVersion === candidate.lineage.lakeVersion);
  return {
    generated,
    data,
    pipeline,
    candidate: { version: candidate.id, algorithm: candidate.lineage.algorithm, metrics: candidate.metrics },
    versions: versions.map((version) => ({ version: version.id, algorithm: version.lineage.algorithm, accuracy: version.metrics.accuracy, macroF1: version.metrics.macroF1 })),
    report: path.join(outputDirectory, 'evaluation', 'report.html'),
  };
}
