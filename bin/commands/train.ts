import * as os from 'node:os';
import type { Command } from 'commander';
import { trainModels, type TrainModelsSummary } from '../../pipelines/workflows/train-models';
import { withGlobalFlags } from '../cli';
import { openCommandEnvironment, withEnvironmentFlags } from '../environment';
import { positiveInteger, progressFor, runCommand, UsageError, type GlobalFlags } from '../output';

const LOCAL_ALGORITHMS = ['lr', 'dt', 'rf', 'gbdt'] as const;

interface TrainFlags extends GlobalFlags {
  readonly environment?: string;
  readonly provider?: string;
  readonly lake?: string;
  readonly registry?: string;
  readonly backend?: string;
  readonly algorithm: string;
  readonly seed: number;
  readonly testWeeks: number;
  readonly validationWeeks: number;
  readonly alias?: string;
  readonly threads?: number;
}

/** 'all' or a comma-separated list → algorithm names, checked against what the backend trains. */
function parseAlgorithms(value: string, available: readonly string[]): string[] {
  const wanted = value === 'all' ? [...available] : value.split(',').map((name) => name.trim());
  const unknown = wanted.filter((name) => !available.includes(name));
  if (unknown.length > 0) throw new UsageError(`unknown algorithm ${unknown.join(', ')}; choose from ${available.join(', ')} or all`);
  return wanted;
}

export function registerTrain(program: Command): void {
  withGlobalFlags(
    withEnvironmentFlags(
      program
        .command('train')
        .description("train models on the lake (time split by week) on the environment's backend, register every version, name the champion"),
      ['lake', 'registry', 'backend'],
    )
      .option('--algorithm <name>', `${LOCAL_ALGORITHMS.join('|')} (and sagemaker-xgboost on SageMaker)|all, or a comma-separated list`, 'all')
      .option('--seed <n>', 'seed', positiveInteger('--seed'), 42)
      .option('--test-weeks <n>', 'held-out weeks at the end', positiveInteger('--test-weeks'), 1)
      .option('--validation-weeks <n>', 'early-stopping weeks before them', positiveInteger('--validation-weeks'), 1)
      .option('--alias <name>', "point this alias at the run's champion (e.g. challenger, for the next pipeline stages)")
      .option('--threads <n>', 'threads to train on (default: every core); the models are the same with any number', positiveInteger('--threads')),
  ).action(async (flags: TrainFlags) => {
    await runCommand(
      flags,
      async () => {
        const services = await openCommandEnvironment(flags, ['lake', 'registry', 'training']);
        const backend = await services.trainingBackend();
        const algorithms = parseAlgorithms(flags.algorithm, backend.algorithms);
        const registry = await services.registry();
        const lake = services.lake();
        return trainModels({
          lake: await lake.openExisting(),
          lakeLocation: lake.location,
          registry,
          backend,
          algorithms,
          seed: flags.seed,
          testWeeks: flags.testWeeks,
          validationWeeks: flags.validationWeeks,
          createdBy: os.userInfo().username,
          progress: progressFor(flags),
          threads: flags.threads,
          alias: flags.alias,
        });
      },
      describeTraining,
    );
  });
}

function describeTraining(summary: TrainModelsSummary): string {
  const header = 'algorithm  version          accuracy  macro-F1  LA-prec  MM-prec  UM-prec  train s';
  const rows = summary.runs.map((run) =>
    [
      run.algorithm.padEnd(9),
      run.modelVersion.padEnd(16),
      run.metrics.accuracy.toFixed(4).padStart(8),
      run.metrics.macroF1.toFixed(4).padStart(8),
      ...['LA', 'MM', 'UM'].map((label) => run.metrics.perClass[label].precision.toFixed(3).padStart(7)),
      run.trainSeconds.toFixed(1).padStart(7),
    ].join('  '),
  );
  return [
    `lake version ${summary.lakeVersion}; train weeks ${summary.split.trainWeeks.join(' ')} + validation ${summary.split.validationWeeks.join(' ')}; test ${summary.split.testWeeks.join(' ')}`,
    header,
    ...rows,
    `champion: ${summary.champion.algorithm} ${summary.champion.modelVersion}`,
  ].join('\n');
}
