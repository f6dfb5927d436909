/**
 * `retail-mlops pipeline list|run`: shows the CI pipeline's stages and runs them on this machine,
 * from the same model the Jenkinsfile, .travis.yml and azure-pipelines.yml are rendered from.
 */
import { execFileSync } from 'node:child_process';
import type { Command } from 'commander';
import { RetailMlopsError } from '../../core/errors';
import type { PipelineModel, PipelineStage } from '../../pipelines/model';
import { createProjectPipeline } from '../../pipelines/project-pipeline';
import { runPipeline, selectStages, type PipelineRunSummary } from '../../pipelines/runner';
import { withGlobalFlags } from '../cli';
import { EXIT_FAILURE, UsageError, runCommand, type GlobalFlags } from '../output';
import { describePipelineRun, pipelineProgressPrinter } from '../pipeline-output';

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

export function registerPipeline(program: Command): void {
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
          onProgress: pipelineProgressPrinter(flags),
          // under --json stdout holds only the summary: the commands' output goes to stderr
          stdout: flags.json ? process.stderr : process.stdout,
        });
        return outcome;
      },
      describePipelineRun,
    );
    if (outcome?.status === 'failed') {
      if (!flags.quiet) process.stderr.write(`retail-mlops: pipeline failed at stage '${outcome.stages.find((stage) => stage.status === 'failed')?.id}'\n`);
      process.exitCode = EXIT_FAILURE;
    }
  });
}
