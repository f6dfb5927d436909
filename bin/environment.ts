/**
 * How commands get their environment: every command takes `--environment` and `--provider` plus the
 * location flags it uses; `openCommandEnvironment` resolves them with the environment variables and
 * `.retail-mlops.json` (providers/environment.ts) and turns every settings problem into one usage
 * error (exit 2) before anything talks to a cloud.
 */
import { Option, type Command } from 'commander';
import { UsageError } from './output';
import { ENVIRONMENT_VARIABLE, settingOf } from '../core/config/settings';
import { InvalidOptionsError } from '../core/errors';
import { openEnvironment, resolveEnvironment, type EnvironmentFlags, type EnvironmentServices, type EnvironmentUse } from '../providers/environment';

/** The settings a command may take as flags. */
export type EnvironmentFlagName = 'lake' | 'registry' | 'landing' | 'backend' | 'maxQuarantineRate';

const PLACEHOLDERS: Readonly<Record<'provider' | EnvironmentFlagName, string>> = {
  provider: '<name>',
  lake: '<location>',
  registry: '<location>',
  landing: '<location>',
  backend: '<name>',
  maxQuarantineRate: '<rate>',
};

/** Adds `--environment`, `--provider` and the given settings' flags (their help names the variable that sets them too). */
export function withEnvironmentFlags(command: Command, names: readonly EnvironmentFlagName[]): Command {
  command.addOption(new Option('--environment <name>', `the environment of .retail-mlops.json to use [env ${ENVIRONMENT_VARIABLE}, default: its defaultEnvironment, else local]`));
  for (const key of ['provider', ...names] as const) {
    const setting = settingOf(key);
    if (setting?.flag) command.addOption(new Option(`${setting.flag} ${PLACEHOLDERS[key]}`, `${setting.description} [env ${setting.variable}]`));
  }
  return command;
}

/** The environment flags of a command's parsed options. */
function environmentFlagsOf(flags: EnvironmentFlags): EnvironmentFlags {
  return {
    environment: flags.environment,
    provider: flags.provider,
    lake: flags.lake,
    registry: flags.registry,
    landing: flags.landing,
    backend: flags.backend,
    maxQuarantineRate: flags.maxQuarantineRate === undefined ? undefined : String(flags.maxQuarantineRate),
  };
}

/**
 * Resolves and opens the command's environment.
 * @throws UsageError listing every problem of the settings (exit 2)
 */
export async function openCommandEnvironment(flags: EnvironmentFlags, uses: readonly EnvironmentUse[]): Promise<EnvironmentServices> {
  try {
    return await openEnvironment(resolveEnvironment({ flags: environmentFlagsOf(flags), uses }));
  } catch (error) {
    if (error instanceof InvalidOptionsError) throw new UsageError(error.message);
    throw error;
  }
}
