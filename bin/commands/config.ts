/**
 * `retail-mlops config`: the environment a command would use — its provider, locations, backend
 * and provider settings — and where each value came from (flag, variable, .retail-mlops.json,
 * default). Nothing is opened: it only resolves, so it is safe anywhere and shows every problem.
 */
import type { Command } from 'commander';
import { SETTINGS } from '../../core/config/settings';
import { InvalidOptionsError } from '../../core/errors';
import { resolveEnvironment, type EnvironmentFlags, type ResolvedEnvironment } from '../../providers/environment';
import { withGlobalFlags } from '../cli';
import { withEnvironmentFlags } from '../environment';
import { runCommand, UsageError, type GlobalFlags } from '../output';

interface ConfigFlags extends GlobalFlags, EnvironmentFlags {}

/** What `config --json` prints. */
export interface ConfigSummary {
  readonly environment: string;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly origins: Readonly<Record<string, string>>;
}

function summaryOf(resolved: ResolvedEnvironment): ConfigSummary {
  const settings: Record<string, unknown> = {
    provider: resolved.provider,
    lake: resolved.lake,
    registry: resolved.registry,
    landing: resolved.landing,
    backend: resolved.backend,
    maxQuarantineRate: resolved.maxQuarantineRate,
  };
  const section = resolved.provider === 'aws' ? resolved.aws : resolved.provider === 'azure' ? resolved.azure : {};
  for (const [key, value] of Object.entries(section)) settings[`${resolved.provider}.${key}`] = value;
  return { environment: resolved.name, settings, origins: resolved.origins };
}

export function registerConfig(program: Command): void {
  withGlobalFlags(
    withEnvironmentFlags(
      program
        .command('config')
        .description('show the environment commands would use (provider, locations, backend, provider settings) and where each value comes from')
        .addHelpText(
          'after',
          `\nOrder: flags > environment variables > .retail-mlops.json > the embedded local default. Variables:\n${SETTINGS.map((setting) => `  ${setting.variable.padEnd(40)} ${setting.description}`).join('\n')}`,
        ),
      ['lake', 'registry', 'landing', 'backend', 'maxQuarantineRate'],
    ),
  ).action(async (flags: ConfigFlags) => {
    await runCommand(
      flags,
      async () => {
        try {
          return summaryOf(resolveEnvironment({ flags, uses: ['lake', 'registry', 'training'] }));
        } catch (error) {
          if (error instanceof InvalidOptionsError) throw new UsageError(error.message);
          throw error;
        }
      },
      (summary) =>
        [`environment ${summary.environment} (${summary.origins.environment})`, ...Object.entries(summary.settings).map(([key, value]) => `  ${key.padEnd(24)} ${Array.isArray(value) ? value.join(',') : String(value)}  (${summary.origins[key] ?? 'default'})`)].join('\n'),
    );
  });
}
