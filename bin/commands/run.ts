import * as os from 'node:os';
import * as path from 'node:path';
import type { Command } from 'commander';
import { GateFailedError } from '../../core/evaluation/gate';
import { createInProcessTrainingBackend } from '../../core/training/in-process';
import { createLocalRegistry } from '../../providers/local/registry';
import { withGlobalFlags } from '../cli';
import { runMainJob, type MainJobSummary } from '../jobs/main-job';
import { positiveInteger, progressFor, runCommand, say, type GlobalFlags } from '../output';
import { readProjectConfig } from '../project-config';
import { describeTraining, parseAlgorithms } from './train';

interface RunFlags extends GlobalFlags {
  readonly data?: string[];
  readonly workdir: string;
  readonly rows: number;
  readonly seed: number;
  readonly algorithm: string;
}

export function registerRun(program: Command): void {
  withGlobalFlags(
    program
      .command('run')
      .description('the main job on the local default: data → ingest → train all → gate → candidate → report')
      .option('--data <paths...>', 'LGSR files or directories (the real release as it is); default: generate a sample')
      .option('--workdir <dir>', 'lake, registry, generated data and report', '.retail-mlops')
      .option('--rows <n>', 'rows to generate when no --data is given', positiveInteger('--rows'), 500_000)
      .option('--seed <n>', 'seed for generation and training', positiveInteger('--seed'), 42)
      .option('--algorithm <name>', 'lr|dt|rf|gbdt|all, or a comma-separated list', 'all'),
  ).action(async (flags: RunFlags) => {
    await runCommand(
      flags,
      async () => {
        const backend = createInProcessTrainingBackend();
        const summary = await runMainJob({
          data: flags.data ?? [],
          workdir: flags.workdir,
          registry: createLocalRegistry({ root: path.join(flags.workdir, 'registry') }),
          backend,
          algorithms: parseAlgorithms(flags.algorithm, backend.algorithms),
          rows: flags.rows,
          seed: flags.seed,
          thresholds: readProjectConfig().gate,
          actor: os.userInfo().username,
          progress: progressFor(flags),
          onStep: (step, detail) => say({ ...flags, json: true }, `✓ ${step}: ${detail}`),
        });
        if (!summary.gate.passed) {
          if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
          else process.stdout.write(`${describeRun(summary)}\n`);
          throw new GateFailedError(summary.gate);
        }
        return summary;
      },
      describeRun,
    );
  });
}

function describeRun(summary: MainJobSummary): string {
  return [
    '',
    describeTraining(summary.training),
    `gate: ${summary.gate.passed ? `passed, candidate = ${summary.gate.modelVersion}` : `FAILED (${summary.gate.reasons.join('; ')})`}`,
    `report: ${summary.report}`,
    `done in ${summary.seconds} s`,
  ].join('\n');
}
