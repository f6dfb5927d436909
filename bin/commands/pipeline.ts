/**
 * `retail-mlops pipeline list|run`: shows the CI pipeline's stages and runs them on this machine,
 * from the same model the Jenkinsfile, .travis.yml and azure-pipelines.yml are rendered from.
 */
import { execFileSync } from 'node:child_process';
import type { Command } from 'commander';
import { RetailMlopsError } from '../../core/errors';
import type { PipelineModel, PipelineStage } from '../../pipelines/model';
import { createProjectPipeline } from '../../pipelines/project-pipeline';
import type { PipelineProgressEvent, PipelineRunSummary } from '../../pipelines/runner';
import { runPipeline, selectStages } from '../../pipelines/runner';
import type { CommandRegistration } from '../cli';
import { withGlobalFlags } from '../cli';
import type { GlobalFlags } from '../output';
import { EXIT_FAILURE, UsageError, runCommand } from '../output';

interface RunFlags extends GlobalFlags {
  readonly stage?: readonly string[];
  readonly branch?: string;
}

/** The checked-out branch, or undefined outside git or on a detached HEAD. */
function currentBranch(cwd: string): string | undefined {
  try {
    const branch = execFileSync('git', ['rev-parse', '--abbrev-ref', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return branch === 'HEAD' || branch.length === 0 ? undefined : branch;
  } catch {
    return undefined;
  }
}

function describeStage(stage: PipelineStage): string {
  const tags = [
    stage.condition.branches.length > 0 ? `branch ${stage.condition.branches.join('|')}` : undefined,
    stage.condition.approval ? `approval by ${stage.condition.approval.group}` : undefined,
    stage.credentials.cloud !== 'none' ? `${stage.credentials.cloud} credentials` : undefined,
  ].filter((tag): tag is string => tag !== undefined);
  return `${stage.id} — ${stage.name}${tags.length > 0 ? ` [${tags.join(', ')}]` : ''}`;
}

function formatListing(model: PipelineModel): string {
  return model.stages
    .map((stage, index) => [`${index + 1}. ${describeStage(stage)}`, ...stage.commands.map((command) => `     $ ${command}`)].join('\n'))
    .join('\n');
}

export function formatSummary(summary: PipelineRunSummary): string {
  const width = Math.max(...summary.stages.map((stage) => stage.name.length), 5);
  const lines = summary.stages.map((stage) => {
    const detail = stage.status === 'passed' || stage.status === 'failed' ? `${stage.seconds.toFixed(1)} s` : (stage.reason ?? '');
    const failure = stage.failedCommand === undefined ? '' : ` — exit ${stage.exitCode}: ${stage.failedCommand}`;
    return `${stage.status.padEnd(8)} ${stage.name.padEnd(width)}  ${detail}${failure}`;
  });
  return [...lines, `pipeline ${summary.status} in ${summary.seconds.toFixed(1)} s${summary.branch ? ` (branch ${summary.branch})` : ''}`].join('\n');
}

/** Progress lines on stderr: `[i/N] Stage …` as it starts, then its outcome and time. */
export function progressLogger(flags: GlobalFlags): (event: PipelineProgressEvent) => void {
  return (event) => {
    if (flags.quiet) return;
    const position = `[${event.index}/${event.total}]`;
    if (event.kind === 'stage-start') process.stderr.write(`${position} ${event.stage.name}\n`);
    if (event.kind === 'command') process.stderr.write(`${position} $ ${event.command}\n`);
    if (event.kind === 'stage-end') {
      const result = event.result;
      const detail = result.status === 'passed' || result.status === 'failed' ? `in ${result.seconds.toFixed(1)} s` : `— ${result.reason}`;
      process.stderr.write(`${position} ${event.stage.name} ${result.status} ${detail}\n`);
    }
  };
}

export const registerPipelineCommand: CommandRegistration = (program: Command) => {
  const pipeline = program
    .command('pipeline')
    .description('the CI pipeline (the model behind Jenkinsfile, .travis.yml, azure-pipelines.yml): list or run its stages');

  withGlobalFlags(pipeline.command('list').description('list the stages in order, with conditions and commands')).action(async (flags: GlobalFlags) => {
    const model = createProjectPipeline();
    await runCommand(flags, async () => ({ name: model.name, provider: model.provider, stages: model.stages }), () => formatListing(model));
  });

  withGlobalFlags(
    pipeline
      .command('run')
      .description('run the stages on this machine, in order, stopping at the first failure (cloud, approval and other-branch stages are skipped)')
      .option('--stage <name...>', 'run only these stages (ids or names)')
      .option('--branch <name>', 'evaluate branch conditions against this branch (default: the checked-out branch)'),
  ).action(async (flags: RunFlags) => {
    const model = createProjectPipeline();
    try {
      selectStages(model, flags.stage);
    } catch (error) {
      if (RetailMlopsError.isInstance(error)) throw new UsageError(error.message);
      throw error;
    }
    const cwd = process.cwd();
    const branch = flags.branch ?? currentBranch(cwd);
    let outcome: PipelineRunSummary | undefined;
    await runCommand(
      flags,
      async () => {
        outcome = await runPipeline(model, {
          stages: flags.stage,
          cwd,
          branch,
          onProgress: progressLogger(flags),
          // under --json stdout holds only the summary: the commands' output goes to stderr
          stdout: flags.json ? process.stderr : process.stdout,
        });
        return outcome;
      },
      formatSummary,
    );
    if (outcome?.status === 'failed') {
      if (!flags.quiet) process.stderr.write(`retail-mlops: pipeline failed at stage '${outcome.stages.find((stage) => stage.status === 'failed')?.id}'\n`);
      process.exitCode = EXIT_FAILURE;
    }
  });
};
