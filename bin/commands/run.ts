/**
 * `retail-mlops run`: the main job (what `npm start` runs) on the embedded local default — data
 * through the pipeline stages ingest, train, evaluate, gate, register — through this very CLI.
 */
import type { Command } from 'commander';
import { shellQuote } from '../../pipelines/model';
import { MainJobFailedError, runMainJob, type MainJobSummary } from '../../pipelines/workflows/main-job';
import { withGlobalFlags } from '../cli';
import { positiveInteger, progressFor, runCommand, say, type GlobalFlags } from '../output';
import { describePipelineRun, pipelineProgressPrinter } from '../pipeline-output';

interface RunFlags extends GlobalFlags {
  readonly data?: string[];
  readonly workdir: string;
  readonly rows: number;
  readonly seed: number;
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
    await runCommand(
      flags,
      async () => {
        try {
          return await runMainJob({
            data: flags.data,
            workdir: flags.workdir,
            rows: flags.rows,
            seed: flags.seed,
            cli: selfInvocation(),
            progress: progressFor(flags),
            onPipelineProgress: pipelineProgressPrinter(flags),
            onMessage: (text) => say({ ...flags, json: true }, text),
            // under --json stdout holds only the summary: the stages' output goes to stderr
            stdout: flags.json ? process.stderr : process.stdout,
          });
        } catch (error) {
          if (error instanceof MainJobFailedError && !flags.quiet) process.stderr.write(`${describePipelineRun(error.pipeline)}\n`);
          throw error;
        }
      },
      describeRun,
    );
  });
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
    describePipelineRun(summary.pipeline),
    'models trained on this lake version:',
    ...rows,
    `candidate: ${summary.candidate.algorithm} ${summary.candidate.version} (passed the gate)`,
    `report: ${summary.report}`,
  ].join('\n');
}
