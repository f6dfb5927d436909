import * as os from 'node:os';
import type { Command } from 'commander';
import type { ModelRegistry } from '../../core/registry/port';
import { promoteModel, rollbackModel, type PromotionOptions, type PromotionResult } from '../../pipelines/workflows/promote-model';
import { withGlobalFlags } from '../cli';
import { openCommandEnvironment, withEnvironmentFlags } from '../environment';
import { runCommand, type GlobalFlags } from '../output';

interface PromoteFlags extends GlobalFlags {
  readonly environment?: string;
  readonly provider?: string;
  readonly registry?: string;
  readonly env: string;
  readonly repo: string;
  readonly model?: string;
  /** commander's negated `--no-push`. */
  readonly push: boolean;
  readonly remote: string;
  readonly base?: string;
  readonly imageDigest?: string;
}

/** The registry of the environment promoted to (`--environment` names another settings environment when they differ). */
async function registryOf(flags: PromoteFlags): Promise<ModelRegistry> {
  return (await openCommandEnvironment({ ...flags, environment: flags.environment ?? flags.env }, ['registry'])).registry();
}

const describe = (result: PromotionResult): string =>
  `${result.environment}: ${result.previous} → ${result.model}, committed ${result.commit.slice(0, 12)} on branch ${result.branch}; ` +
  (result.pullRequest ? `pull request ${result.pullRequest.updated ? 'updated' : 'opened'}: ${result.pullRequest.url}` : 'open a pull request to deploy') +
  (result.endpoint ? `; endpoint ${result.endpoint.endpointName}: ${result.endpoint.changed ? result.endpoint.strategy : 'already serving it'}` : '');

/** What both commands' flags say: where the pin is committed and where it goes (the gate and endpoint come from the repository's settings). */
async function promotionOptions(flags: PromoteFlags): Promise<PromotionOptions> {
  return {
    registry: await registryOf(flags),
    environment: flags.env,
    repository: flags.repo,
    actor: os.userInfo().username,
    push: flags.push,
    remote: flags.remote,
    baseBranch: flags.base,
    imageDigest: flags.imageDigest,
  };
}

/** Adds the flags that decide where the promotion goes (shared by promote and rollback). */
function withPullRequestFlags(command: Command): Command {
  return command
    .option('--no-push', 'keep a local commit on a new branch: push nothing, open no pull request')
    .option('--remote <name>', 'the remote to push to; its URL names the host (GitHub or Azure Repos)', 'origin')
    .option('--base <branch>', 'the branch the pull request merges into [default: the current branch, else main]')
    .option('--image-digest <sha256:…>', "pin the API image by this digest too (the pipeline's build-image stage writes it)")
    .addHelpText(
      'after',
      '\nThe branch promote/<environment> is pushed and its pull request opened, or updated when one is open.\n' +
        'Tokens from the environment: GITHUB_TOKEN (GitHub), SYSTEM_ACCESSTOKEN or AZURE_DEVOPS_EXT_PAT (Azure Repos).',
    );
}

export function registerPromote(program: Command): void {
  withGlobalFlags(
    withPullRequestFlags(
      withEnvironmentFlags(
        program
          .command('promote')
          .description("pin a gated model version for an environment: a pull request (or a local commit), ready for review; the environment's registry holds the version"),
        ['registry'],
      )
        .requiredOption('--model <ref>', 'version id, #n or alias (must have passed the gate)')
        .requiredOption('--env <environment>', 'dev, staging or production')
        .option('--repo <dir>', 'the git repository holding manifests/', '.'),
    ),
  ).action(async (flags: PromoteFlags) => {
    await runCommand(
      flags,
      async () => promoteModel({ ...(await promotionOptions(flags)), model: flags.model! }),
      describe,
    );
  });
  withGlobalFlags(
    withPullRequestFlags(
      withEnvironmentFlags(program.command('rollback').description("pin the environment's previous model version the same reviewed way"), ['registry'])
        .requiredOption('--env <environment>', 'dev, staging or production')
        .option('--repo <dir>', 'the git repository holding manifests/', '.'),
    ),
  ).action(async (flags: PromoteFlags) => {
    await runCommand(
      flags,
      async () => rollbackModel(await promotionOptions(flags)),
      describe,
    );
  });
}
