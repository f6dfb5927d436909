import * as os from 'node:os';
import type { Command } from 'commander';
import type { ModelRegistry } from '../../core/registry/port';
import { withGlobalFlags } from '../cli';
import { openCommandEnvironment, withEnvironmentFlags } from '../environment';
import { promoteModel, rollbackModel, type PromotionResult } from '../jobs/promote-model';
import { runCommand, type GlobalFlags } from '../output';

interface PromoteFlags extends GlobalFlags {
  readonly environment?: string;
  readonly provider?: string;
  readonly registry?: string;
  readonly env: string;
  readonly repo: string;
  readonly model?: string;
}

/** The registry of the environment promoted to (`--environment` names another settings environment when they differ). */
async function registryOf(flags: PromoteFlags): Promise<ModelRegistry> {
  return (await openCommandEnvironment({ ...flags, environment: flags.environment ?? flags.env }, ['registry'])).registry();
}

const describe = (result: PromotionResult): string =>
  `${result.environment}: ${result.previous} → ${result.model}, committed ${result.commit.slice(0, 12)} on branch ${result.branch}; open a pull request to deploy`;

export function registerPromote(program: Command): void {
  withGlobalFlags(
    withEnvironmentFlags(
      program
        .command('promote')
        .description("pin a gated model version for an environment: a commit on a new branch, ready for review; the environment's registry holds the version"),
      ['registry'],
    )
      .requiredOption('--model <ref>', 'version id, #n or alias (must have passed the gate)')
      .requiredOption('--env <environment>', 'dev, staging or production')
      .option('--repo <dir>', 'the git repository holding manifests/', '.'),
  ).action(async (flags: PromoteFlags) => {
    await runCommand(
      flags,
      async () =>
        promoteModel({
          registry: await registryOf(flags),
          model: flags.model!,
          environment: flags.env,
          repository: flags.repo,
          actor: os.userInfo().username,
        }),
      describe,
    );
  });
  withGlobalFlags(
    withEnvironmentFlags(program.command('rollback').description("pin the environment's previous model version the same reviewed way"), ['registry'])
      .requiredOption('--env <environment>', 'dev, staging or production')
      .option('--repo <dir>', 'the git repository holding manifests/', '.'),
  ).action(async (flags: PromoteFlags) => {
    await runCommand(
      flags,
      async () => rollbackModel({ registry: await registryOf(flags), environment: flags.env, repository: flags.repo, actor: os.userInfo().username }),
      describe,
    );
  });
}
