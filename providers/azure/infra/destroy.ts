/**
 * `npm run azure:destroy -- <environment> [--resource-group <name>] [--yes] [--allow-production]`:
 * deletes an environment's resource group (everything the template created) with `az group delete`.
 *
 * - Without `--yes` it only says what it would delete and what outlives the deletion.
 * - production is refused unless `--allow-production` is given too; and even then Azure refuses while
 *   the template's CanNotDelete lock on the lake account is there (remove it first, on purpose:
 *   `az lock delete --name lock-<prefix>-lake-production --resource-group <group> --resource-type Microsoft.Storage/storageAccounts --resource <account>`).
 *
 * What outlives the resource group: the Key Vault stays soft-deleted for 90 days with purge
 * protection (its name is taken until then: redeploy with another `namePrefix` or recover it), the
 * Azure ML workspace and the Log Analytics workspace stay soft-deleted for 14 days (recoverable), the
 * Azure DevOps service connection and any Entra groups named in the parameters are untouched.
 * The lake's blobs, the model registry and the images are deleted with their accounts.
 */
import { spawnSync } from 'node:child_process';
import { InputError } from '../../../core/errors';

export const DESTROYABLE_ENVIRONMENTS = ['dev', 'staging', 'production'] as const;

export interface DestroyRequest {
  readonly environment: (typeof DESTROYABLE_ENVIRONMENTS)[number];
  readonly resourceGroup: string;
  readonly confirmed: boolean;
  readonly allowProduction: boolean;
}

/** What survives a deletion (printed before it runs). */
export const KEPT_AFTER_DELETION: readonly string[] = [
  'Key Vault: soft-deleted for 90 days with purge protection (the name stays taken; `az keyvault recover` brings it back)',
  'Azure ML workspace and Log Analytics workspace: soft-deleted for 14 days (recoverable)',
  'the Azure DevOps service connection, Entra groups and anything outside the resource group',
];

/** Parses the arguments. @throws InputError listing what is wrong */
export function parseDestroyArguments(args: readonly string[]): DestroyRequest {
  const positional = args.filter((arg, index) => !arg.startsWith('--') && args[index - 1] !== '--resource-group');
  const environment = positional[0];
  if (!environment || !(DESTROYABLE_ENVIRONMENTS as readonly string[]).includes(environment) || positional.length > 1) {
    throw new InputError(`usage: npm run azure:destroy -- <${DESTROYABLE_ENVIRONMENTS.join('|')}> [--resource-group <name>] [--yes] [--allow-production]`);
  }
  const groupIndex = args.indexOf('--resource-group');
  const resourceGroup = groupIndex >= 0 ? args[groupIndex + 1] : `rg-retail-mlops-${environment}`;
  if (!resourceGroup || !/^[\w.()-]{1,90}$/.test(resourceGroup)) throw new InputError(`--resource-group needs a resource group name, got ${JSON.stringify(resourceGroup)}`);
  const unknown = args.filter((arg) => arg.startsWith('--') && !['--resource-group', '--yes', '--allow-production'].includes(arg));
  if (unknown.length > 0) throw new InputError(`unknown option ${unknown.join(', ')}`);
  return { environment: environment as DestroyRequest['environment'], resourceGroup, confirmed: args.includes('--yes'), allowProduction: args.includes('--allow-production') };
}

/** Runs the deletion (or describes it); returns the process exit code. */
export function destroyEnvironment(request: DestroyRequest, output: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): number {
  if (request.environment === 'production' && !request.allowProduction) {
    output('refusing to delete production: pass --allow-production as well (and remove the lake account\'s CanNotDelete lock first; Azure refuses while it is there)');
    return 2;
  }
  output(`deletes resource group ${request.resourceGroup} (${request.environment}) and everything in it: lake and registry storage, ACR images, AKS or the online endpoint, Azure ML, alerts, budget.`);
  output('kept afterwards:');
  for (const line of KEPT_AFTER_DELETION) output(`  - ${line}`);
  const command = ['group', 'delete', '--name', request.resourceGroup, '--yes'];
  if (!request.confirmed) {
    output(`dry run: add --yes to run  az ${command.join(' ')}`);
    return 0;
  }
  const result = spawnSync('az', command, { stdio: 'inherit' });
  if (result.error) {
    output(`cannot run az: ${result.error.message}`);
    return 1;
  }
  return result.status ?? 1;
}

if (require.main === module) {
  try {
    process.exitCode = destroyEnvironment(parseDestroyArguments(process.argv.slice(2)));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 2;
  }
}
