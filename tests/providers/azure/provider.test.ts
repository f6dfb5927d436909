import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../../core/errors';
import { parseLocation } from '../../../providers/locations';
import { createProvider, providerNames } from '../../../providers/registry';
import { REPO_ROOT } from '../../helpers/paths';

const run = promisify(execFile);

const settings = {
  subscriptionId: '00000000-0000-0000-0000-00000000dddd',
  resourceGroup: 'rg-retail-mlops-dev',
  workspace: 'mlw-retail-mlops-dev',
  image: 'crretailmlopsdev.azurecr.io/retail-mlops:0.1.0',
};
const lake = 'https://stretailmlopsdev.blob.core.windows.net/lake/team-a';

describe('the azure provider', () => {
  it('is registered by name', () => {
    expect(providerNames()).toContain('azure');
  });

  it('opens Blob storage, the Azure ML registry and the Azure ML training backend (no call made until used)', async () => {
    const provider = await createProvider('azure', { azure: settings });
    expect(provider.name).toBe('azure');
    const storage = await provider.openStorage(parseLocation(lake));
    expect(storage.provider).toBe('azure');
    expect(storage.location).toBe(lake);
    expect((await provider.openRegistry(parseLocation('https://stretailmlopsdev.blob.core.windows.net/registry'))).provider).toBe('azure');
    const training = await provider.openTrainingBackend!({ lake: parseLocation(lake), workDirectory: '/tmp' });
    expect(training.provider).toBe('azure');
    expect(training.algorithms).toContain('lr');
  });

  it('reports every problem of its settings at once, and what a use needs when it is used', async () => {
    const error = await createProvider('azure', { azure: { subscriptionId: 'nope', resourceGroup: 'rg/x', workspace: 'w', managementEndpoint: 'http://example.com' } }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).problems).toHaveLength(4);
    const withoutImage = await createProvider('azure', { azure: { ...settings, image: undefined } });
    await expect(withoutImage.openTrainingBackend!({ lake: parseLocation(lake), workDirectory: '/tmp' })).rejects.toThrow(/azure\.image \(RETAIL_MLOPS_AZURE_IMAGE\) is required to train on Azure ML/);
  });

  it('loads no @azure module until an azure provider opens something', async () => {
    const script = [
      "const loaded = () => Object.keys(require.cache).filter((file) => file.includes('/node_modules/@azure/')).length;",
      '(async () => {',
      "  const registry = require('./providers/registry.ts');",
      "  const { parseLocation } = require('./providers/locations.ts');",
      "  const local = await registry.createProvider('local');",
      "  await local.openStorage(parseLocation(require('node:os').tmpdir() + '/retail-mlops-lazy-' + process.pid));",
      '  const before = loaded();',
      `  const azure = await registry.createProvider('azure', { azure: ${JSON.stringify(settings)} });`,
      '  const created = loaded();',
      `  await azure.openStorage(parseLocation(${JSON.stringify(lake)}));`,
      '  console.log(JSON.stringify({ before, created, after: loaded() }));',
      '})();',
    ].join('\n');
    const { stdout } = await run(path.join(REPO_ROOT, 'node_modules/.bin/tsx'), ['-e', script], { cwd: REPO_ROOT });
    const counts = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { before: number; created: number; after: number };
    expect(counts.before).toBe(0);
    expect(counts.created).toBe(0);
    expect(counts.after).toBeGreaterThan(0); // positive control (the SDKs' ESM entries do not show in require.cache)
  });
});
