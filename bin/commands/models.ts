import * as os from 'node:os';
import type { Command } from 'commander';
import type { ModelRegistry } from '../../core/registry/port';
import { withGlobalFlags } from '../cli';
import { openCommandEnvironment, withEnvironmentFlags } from '../environment';
import { runCommand, type GlobalFlags } from '../output';

interface ModelsFlags extends GlobalFlags {
  readonly environment?: string;
  readonly provider?: string;
  readonly registry?: string;
}

async function registryOf(flags: ModelsFlags): Promise<ModelRegistry> {
  return (await openCommandEnvironment(flags, ['registry'])).registry();
}

interface AliasFlags extends ModelsFlags {
  readonly reason: string;
  readonly actor?: string;
}

export function registerModels(program: Command): void {
  const models = program.command('models').description('the model registry: list versions, show one, move an alias');
  withGlobalFlags(withEnvironmentFlags(models.command('list').description('every version with its metrics and aliases'), ['registry'])).action(
    async (flags: ModelsFlags) => {
      await runCommand(
        flags,
        async () => {
          const registry = await registryOf(flags);
          const [versions, aliases] = await Promise.all([registry.list(), registry.aliases()]);
          return versions.map((version) => ({
            version: version.id,
            sequence: version.sequence,
            algorithm: version.lineage.algorithm,
            accuracy: version.metrics.accuracy,
            macroF1: version.metrics.macroF1,
            createdAt: version.createdAt,
            aliases: aliases.filter((alias) => alias.version === version.id).map((alias) => alias.alias),
          }));
        },
        (rows) =>
          rows.length === 0
            ? 'no model versions'
            : rows
              .map((row) => `#${row.sequence} ${row.version} ${row.algorithm.padEnd(5)} accuracy ${row.accuracy.toFixed(4)} macro-F1 ${row.macroF1.toFixed(4)} ${row.aliases.join(',')}`)
              .join('\n'),
      );
    },
  );
  withGlobalFlags(
    withEnvironmentFlags(models.command('show').description('one version: metrics, lineage, artifacts').argument('<ref>', 'version id, #n or alias'), ['registry']),
  ).action(async (reference: string, flags: ModelsFlags) => {
    await runCommand(flags, async () => (await registryOf(flags)).get(reference), (version) => JSON.stringify(version, null, 2));
  });
  withGlobalFlags(
    withEnvironmentFlags(
      models
        .command('alias')
        .description('point an alias at a version (recorded with who, when and why)')
        .argument('<alias>', 'e.g. candidate, staging, production')
        .argument('<ref>', 'version id, #n or alias'),
      ['registry'],
    )
      .requiredOption('--reason <text>', 'why (kept in the alias history)')
      .option('--actor <name>', 'who', os.userInfo().username),
  ).action(async (alias: string, reference: string, flags: AliasFlags) => {
    await runCommand(
      flags,
      async () => (await registryOf(flags)).setAlias(alias, reference, { actor: flags.actor ?? os.userInfo().username, reason: flags.reason }),
      (result) => `${alias}: ${result.change.from ?? '(none)'} → ${result.change.to}${result.changed ? '' : ' (unchanged)'}`,
    );
  });
}
