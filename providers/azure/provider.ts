/**
 * The Azure provider: the lake on Blob Storage (ADLS Gen2), the model registry on Azure ML model
 * versions + Blob, training as Azure ML command jobs. Credentials come from DefaultAzureCredential
 * (workload identity on AKS, the service connection's federated identity in Azure Pipelines,
 * `az login` on a laptop): the options hold no secrets.
 *
 * Options (flat; every problem is reported at once):
 * - `subscriptionId`, `resourceGroup`, `workspace`: the Azure ML workspace
 * - `lake`: the lake's location, `https://<account>.blob.core.windows.net/<container>[/<prefix>]`
 * - `registry`: the registry's location, same form
 * - `image`: the project's container image in ACR (training runs in it)
 * - `lakeDatastore` (@default 'lake'), `registryDatastore` (@default 'registry'): the workspace
 *   datastores on the lake's and the registry's containers
 * - `modelName` (@default 'retail-mlops-price-sensitivity'), `computeName` (@default 'cpu-cluster'),
 *   `environmentName` (@default 'retail-mlops'), `experimentName` (@default 'retail-mlops'),
 *   `cli` (@default 'node /app/lib/bin/retail-mlops.js': how the image runs the CLI),
 *   `pollIntervalMs` (@default 15000), `managementEndpoint` (@default 'https://management.azure.com')
 *
 * The SDKs load inside the factories below, so importing this module loads none of them.
 */
import { formatBlobLocation, parseBlobLocation } from './blob-location';
import { createBlobObjectStorage } from './blob-object-storage';
import { createDefaultCredential } from './credential';
import { createAzureMlModelRegistry } from './model-registry';
import { createAzureMlTrainingBackend } from './training-backend';
import { InvalidOptionsError, ProblemCollector } from '../../core/errors';
import type { Provider, ProviderOptions } from '../registry';

const REQUIRED = ['subscriptionId', 'resourceGroup', 'workspace', 'lake', 'registry', 'image'] as const;
const OPTIONAL_STRINGS = ['lakeDatastore', 'registryDatastore', 'modelName', 'computeName', 'environmentName', 'experimentName', 'cli', 'managementEndpoint'] as const;
const KNOWN = new Set<string>([...REQUIRED, ...OPTIONAL_STRINGS, 'pollIntervalMs']);

/**
 * Creates the Azure provider.
 * @throws InvalidOptionsError listing every problem of the options (including those of its parts)
 */
export async function createAzureProvider(options: ProviderOptions = {}): Promise<Provider> {
  const problems = new ProblemCollector('azure provider options');
  for (const key of Object.keys(options)) problems.check(KNOWN.has(key), `unknown option '${key}' (known: ${[...KNOWN].join(', ')})`);
  for (const key of REQUIRED) problems.check(typeof options[key] === 'string' && options[key] !== '', `${key} is required (a string)`);
  for (const key of OPTIONAL_STRINGS) problems.check(options[key] === undefined || typeof options[key] === 'string', `${key} must be a string`);
  problems.check(options.pollIntervalMs === undefined || typeof options.pollIntervalMs === 'number', 'pollIntervalMs must be a number');
  for (const key of ['lake', 'registry'] as const) {
    if (typeof options[key] !== 'string') continue;
    try {
      parseBlobLocation(options[key] as string);
    } catch (error) {
      if (!(error instanceof InvalidOptionsError)) throw error;
      for (const problem of error.problems) problems.check(false, `${key}: ${problem}`);
    }
  }
  problems.throwIfAny();
  const text = (key: string): string | undefined => options[key] as string | undefined;
  const credential = await createDefaultCredential();
  const lake = parseBlobLocation(text('lake') as string);
  const common = {
    subscriptionId: text('subscriptionId') as string,
    resourceGroup: text('resourceGroup') as string,
    workspace: text('workspace') as string,
    credential,
    managementEndpoint: text('managementEndpoint'),
  };
  const [storage, registry, training] = await Promise.all([
    createBlobObjectStorage({ accountUrl: lake.accountUrl, container: lake.container, prefix: lake.prefix, credential }),
    createAzureMlModelRegistry({ ...common, location: text('registry') as string, datastore: text('registryDatastore'), modelName: text('modelName') }),
    createAzureMlTrainingBackend({
      ...common,
      image: text('image') as string,
      datastore: text('lakeDatastore'),
      datastoreLocation: formatBlobLocation({ ...lake, prefix: '' }),
      computeName: text('computeName'),
      environmentName: text('environmentName'),
      experimentName: text('experimentName'),
      cli: text('cli'),
      pollIntervalMs: options.pollIntervalMs as number | undefined,
    }),
  ]);
  return { name: 'azure', storage, registry, training };
}
