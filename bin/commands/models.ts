import * as os from 'node:os';
import type { Command } from 'commander';
import { InvalidOptionsError } from '../../core/errors';
import { parseReference, validateAliasChange } from '../../core/registry/identity';
import type { ModelRegistry } from '../../core/registry/port';
import { listModelVersions, showModelVersion } from '../../pipelines/workflows/model-versions';
import { withGlobalFlags } from '../cli';
import { openCommandEnvironment, withEnvironmentFlags } from '../environment';
import { runCommand, UsageError, type GlobalFlags } from '../output';

interface ModelsFlags extends GlobalFlags {
  readonly environment?: string;
  readonly provider?: string;
  readonly registry?: string;
}

/** The environment's registry; reading needs no mirror into the cloud's own registry, moving an alias does. */
async function registryOf(flags: ModelsFlags, use: 'serving' | 'registry' = 'serving'): Promise<ModelRegistry> {
  return (await openCommandEnvironment(flags, [use])).registry({ mirror: use === 'registry' });
}

interface AliasFlags extends ModelsFlags {
  readonly reason: string;
  readonly actor?: string;
}

/** Malformed arguments (a reference or an alias name that cannot exist, an empty reason) are usage errors. */
function checkArguments(check: () => void): void {
  try {
    check();
  } catch (error) {
    if (error instanceof InvalidOptionsError) throw new UsageError(error.message);
    throw error;
  }
}

export function registerModels(program: Command): void {
  const models = program.command('models').description('the model registry: list versions, show one, move an alias (each checks the versions\' files against their hashes)');
  withGlobalFlags(withEnvironmentFlags(models.command('list').description('every version with its metrics, aliases and whether its files match their hashes'), ['registry'])).action(
    async (flags: ModelsFlags) => {
      await runCommand(
        flags,
        async () => listModelVersions(await registryOf(flags)),
        (rows) =>
          rows.length === 0
            ? 'no model versions'
            : rows
              .map(
                (row) =>
                  `#${row.sequence} ${row.version} ${row.algorithm.padEnd(5)} accuracy ${row.accuracy.toFixed(4)} macro-F1 ${row.macroF1.toFixed(4)} ${row.aliases.join(',')}` +
                  (row.verified ? '' : ` FILES DO NOT MATCH: ${row.problems.join('; ')}`),
              )
              .join('\n'),
      );
    },
  );
  withGlobalFlags(
    withEnvironmentFlags(
      models
        .command('show')
        .description('one version: metrics, lineage, artifacts, and whether its files match their hashes (exit 1 when not)')
        .argument('<ref>', 'version id, #n or alias'),
      ['registry'],
    ),
  ).action(async (reference: string, flags: ModelsFlags) => {
    let refused: string | undefined;
    await runCommand(
      flags,
      async () => {
        checkArguments(() => parseReference(reference));
        const version = await showModelVersion(await registryOf(flags), reference);
        const { verified, problems } = version.verification;
        if (!verified) refused = `the files of ${version.id} do not match its record: ${problems.join('; ')}`;
        return version;
      },
      (version) => JSON.stringify(version, null, 2),
    );
    if (refused !== undefined) {
      process.stderr.write(`retail-mlops: REGISTRY_CORRUPT: ${refused}\n`);
      process.exitCode = 1;
    }
  });
  withGlobalFlags(
    withEnvironmentFlags(
      models
        .command('alias')
        .description('point an alias at a version (recorded with who, when and why); refused when the version\'s files do not match their hashes')
        .argument('<alias>', 'e.g. candidate, staging, production')
        .argument('<ref>', 'version id, #n or alias'),
      ['registry'],
    )
      .requiredOption('--reason <text>', 'why (kept in the alias history)')
      .option('--actor <name>', 'who', os.userInfo().username),
  ).action(async (alias: string, reference: string, flags: AliasFlags) => {
    const change = { actor: flags.actor ?? os.userInfo().username, reason: flags.reason };
    await runCommand(
      flags,
      async () => {
        checkArguments(() => {
          parseReference(reference);
          validateAliasChange(alias, change);
        });
        return (await registryOf(flags, 'registry')).setAlias(alias, reference, change);
      },
      (result) => `${alias}: ${result.change.from ?? '(none)'} → ${result.change.to}${result.changed ? '' : ' (unchanged)'}`,
    );
  });
}
