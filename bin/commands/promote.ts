import * as os from 'node:os';
import type { Command } from 'commander';
import { createLocalRegistry } from '../../providers/local/registry';
import { withGlobalFlags } from '../cli';
import { promoteModel, rollbackModel, type PromotionResult } from '../jobs/promote-model';
import { runCommand, type GlobalFlags } from '../output';

interface PromoteFlags extends GlobalFlags {
  readonly registry: string;
  readonly env: string;
  readonly repo: string;
  readonly model?: string;
}

const describe = (result: PromotionResult): string =>
  `${result.environment}: ${result.previous} → ${result.model}, committed ${result.commit.slice(0, 12)} on branch ${result.branch}; open a pull request to deploy`;

export function registerPromote(program: Command): void {
  withGlobalFlags(
    program
      .command('promote')
      .description('pin a gated model version for an environment: a commit on a new branch, ready for review')
      .requiredOption('--model <ref>', 'version id, #n or alias (must have passed the gate)')
      .requiredOption('--env <environment>', 'dev, staging or production')
      .option('--registry <dir>', 'model registry directory', '.registry')
      .option('--repo <dir>', 'the git repository holding manifests/', '.'),
  ).action(async (flags: PromoteFlags) => {
    await runCommand(
      flags,
      () =>
        promoteModel({
          registry: createLocalRegistry({ root: flags.registry }),
          model: flags.model!,
          environment: flags.env,
          repository: flags.repo,
          actor: os.userInfo().username,
        }),
      describe,
    );
  });
  withGlobalFlags(
    program
      .command('rollback')
      .description("pin the environment's previous model version the same reviewed way")
      .requiredOption('--env <environment>', 'dev, staging or production')
      .option('--registry <dir>', 'model registry directory', '.registry')
      .option('--repo <dir>', 'the git repository holding manifests/', '.'),
  ).action(async (flags: PromoteFlags) => {
    await runCommand(
      flags,
      () => rollbackModel({ registry: createLocalRegistry({ root: flags.registry }), environment: flags.env, repository: flags.repo, actor: os.userInfo().username }),
      describe,
    );
  });
}
