import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { generateLgsr } from '../../core/data/generator';
import { RetailMlopsError } from '../../core/errors';
import type { EvaluationMetrics } from '../../core/evaluation/metrics';
import { createPipelineModel, shellQuote } from '../../pipelines/model';
import { readProjectPipelineOptions } from '../../pipelines/project-pipeline';
import { runPipeline, type PipelineRunSummary } from '../../pipelines/runner';
import { withGlobalFlags } from '../cli';
import { openCommandEnvironment } from '../environment';
import { positiveInteger, progressFor, runCommand, say, type GlobalFlags } from '../output';
import { formatSummary, progressLogger } from './pipeline';

/** The pipeline stages the main job runs locally: what CI runs after install and tests, up to the candidate. */
export const MAIN_JOB_STAGES = ['ingest', 'train', 'evaluate', 'gate', 'register'] as const;

interface RunFlags extends GlobalFlags {
  readonly data?: string[];
  readonly workdir: string;
  readonly rows: number;
  readonly seed: number;
}

interface MainJobSummary {
  readonly generated: boolean;
  readonly data: readonly string[];
  readonly pipeline: PipelineRunSummary;
  readonly candidate: { readonly version: string; readonly algorithm: string; readonly metrics: EvaluationMetrics };
  readonly versions: ReadonlyArray<{ readonly version: string; readonly algorithm: string; readonly accuracy: number; readonly macroF1: number }>;
  readonly report: string;
}

class MainJobFailedError extends RetailMlopsError {
  constructor(stage: string | undefined) {
    super('MAIN_JOB_FAILED', `the main job stopped at stage '${stage}' (its output is above)`);
  }
}

export function registerRun(program: Command): void {
  withGlobalFlags(
    program
      .command('run')
      .description('the main job on the local default: data → the pipeline stages ingest, train, evaluate, gate, register → candidate + report')
      .option('--data <paths...>', 'LGSR files or directories (the real release as it is); default: generate a sample')
      .option('--workdir <dir>', 'lake, registry, generated data and report', '.retail-mlops')
      .option('--rows <n>', 'rows to generate when no --data is given', positiveInteger('--rows'), 500_000)
      .option('--seed <n>', 'seed for the generated data', positiveInteger('--seed'), 42),
  ).action(async (flags: RunFlags) => {
    await runCommand(flags, () => runMainJob(flags), describeRun);
  });
}

/**
 * The main job goes through the same pipeline model and local runner as CI (`pipeline run`): only the
 * data, lake, registry and output locations differ, and `register` runs as on the main branch.
 */
async function runMainJob(flags: RunFlags): Promise<MainJobSummary> {
  const workdir = path.resolve(flags.workdir);
  let data = (flags.data ?? []).map((file) => path.resolve(file));
  const generated = data.length === 0;
  if (generated) {
    const out = path.join(workdir, 'data', `lgsr-${flags.rows}-seed${flags.seed}`);
    if (!existsSync(out)) {
      const result = await generateLgsr({ rows: flags.rows, seed: flags.seed, out, progress: progressFor(flags) });
      say({ ...flags, json: true }, `generated ${result.rows} rows, ${result.weeks} weeks → ${out}`);
    } else {say({ ...flags, json: true }, `reusing the generated sample ${out}`);}
    data = [out];
  }
  const lake = path.join(workdir, 'lake');
  const registryDirectory = path.join(workdir, 'registry');
  const outputDirectory = path.join(workdir, 'out');
  // the repository's own pipeline (its .retail-mlops.json), on local folders, calling this very CLI (a team's installed
  // package or the template's sources); the environment is the CI run's, not the main job's
  const model = createPipelineModel({
    ...readProjectPipelineOptions(),
    cli: selfInvocation(),
    environment: undefined,
    provider: 'local',
    dataFiles: data.map(shellQuote),
    lake,
    registry: registryDirectory,
    outputDirectory,
  });
  const pipeline = await runPipeline(model, {
    stages: MAIN_JOB_STAGES,
    branch: model.mainBranch,
    onProgress: progressLogger(flags),
    // under --json stdout holds only the summary: the stages' output goes to stderr
    stdout: flags.json ? process.stderr : process.stdout,
  });
  if (pipeline.status === 'failed') {
    if (!flags.quiet) process.stderr.write(`${formatSummary(pipeline)}\n`);
    throw new MainJobFailedError(pipeline.stages.find((stage) => stage.status === 'failed')?.id);
  }
  // the main job runs on the embedded local default, whatever environment the shell or the settings name
  const registry = await (await openCommandEnvironment({ environment: 'local', provider: 'local', lake, registry: registryDirectory }, ['registry'])).registry();
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

/** The command line that started this CLI (node, its loader flags such as tsx's, the entry script), quoted for a shell. */
function selfInvocation(): string {
  return [process.execPath, ...process.execArgv, process.argv[1]].map(shellQuote).join(' ');
}

function describeRun(summary: MainJobSummary): string {
  const rows = summary.versions.map(
    (version) =>
      `  ${version.algorithm.padEnd(5)} ${version.version}  accuracy ${version.accuracy.toFixed(4)}  macro-F1 ${version.macroF1.toFixed(4)}${version.version === summary.candidate.version ? '  ← candidate' : ''}`,
  );
  return [
    '',
    formatSummary(summary.pipeline),
    'models trained on this lake version:',
    ...rows,
    `candidate: ${summary.candidate.algorithm} ${summary.candidate.version} (passed the gate)`,
    `report: ${summary.report}`,
  ].join('\n');
}
