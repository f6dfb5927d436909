import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../../core/errors';
import { createProvider, providerNames } from '../../../providers/registry';
import { REPO_ROOT } from '../../helpers/paths';

const run = promisify(execFile);

const options = {
  subscriptionId: '00000000-0000-0000-0000-00000000dddd',
  resourceGroup: 'rg-retail-mlops-dev',
  workspace: 'mlw-retail-mlops-dev',
  lake: 'https://stretailmlopsdev.blob.core.windows.net/lake/team-a',
  registry: 'https://stretailmlopsdev.blob.core.windows.net/registry',
  image: 'crretailmlopsdev.azurecr.io/retail-mlops:0.1.0',
};

describe('the azure provider', () => {
  it('is registered by name', () => {
    expect(providerNames()).toContain('azure');
  });

  it('wires Blob storage, the Azure ML registry and the Azure ML training backend (no call made until used)', async () => {
    const provider = await createProvider('azure', options);
    expect(provider.name).toBe('azure');
    expect(provider.storage.provider).toBe('azure');
    expect(provider.storage.location).toBe('https://stretailmlopsdev.blob.core.windows.net/lake/team-a');
    expect(provider.registry.provider).toBe('azure');
    expect(provider.training.provider).toBe('azure');
    expect(provider.training.algorithms).toContain('lr');
  });

  it('reports every problem of its options at once', async () => {
    const error = await createProvider('azure', { ...options, lake: 'http://example.com/lake', image: undefined, pollIntervalMs: 'soon', colour: 'blue' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).problems).toHaveLength(4);
  });

  it('loads no @azure module until an azure provider is created', async () => {
    const script = [
      "const loaded = () => Object.keys(require.cache).filter((file) => file.includes('/node_modules/@azure/')).length;",
      '(async () => {',
      "  const registry = require('./providers/registry.ts');",
      "  await registry.createProvider('local', { root: require('node:os').tmpdir() + '/retail-mlops-lazy-' + process.pid });",
      '  const before = loaded();',
      `  await registry.createProvider('azure', ${JSON.stringify(options)});`,
      '  console.log(JSON.stringify({ before, after: loaded() }));',
      '})();',
    ].join('\n');
    const { stdout } = await run(path.join(REPO_ROOT, 'node_modules/.bin/tsx'), ['-e', script], { cwd: REPO_ROOT });
    const counts = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { before: number; after: number };
    expect(counts.before).toBe(0);
    expect(counts.after).toBeGreaterThan(10);
  });
});
