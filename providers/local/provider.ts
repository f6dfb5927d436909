import * as path from 'node:path';
import { ProblemCollector } from '../../core/errors';
import { createInProcessTrainingBackend } from '../../core/training/in-process';
import type { Provider, ProviderOptions } from '../registry';
import { createLocalObjectStorage } from './object-storage';
import { createLocalRegistry } from './registry';

/**
 * The embedded default: object storage and registry on the local disk, training in this process.
 * Options: `root` (directory holding `storage/` and `registry/`; @default '.retail-mlops'),
 * or `storageRoot` / `registryRoot` to place them separately.
 */
export async function createLocalProvider(options: ProviderOptions = {}): Promise<Provider> {
  const problems = new ProblemCollector('local provider options');
  for (const key of ['root', 'storageRoot', 'registryRoot']) {
    problems.check(options[key] === undefined || typeof options[key] === 'string', `${key} must be a directory path`);
  }
  const known = new Set(['root', 'storageRoot', 'registryRoot']);
  for (const key of Object.keys(options)) problems.check(known.has(key), `unknown option '${key}' (known: ${[...known].join(', ')})`);
  problems.throwIfAny();
  const root = (options.root as string | undefined) ?? '.retail-mlops';
  return {
    name: 'local',
    storage: createLocalObjectStorage({ root: (options.storageRoot as string | undefined) ?? path.join(root, 'storage') }),
    registry: createLocalRegistry({ root: (options.registryRoot as string | undefined) ?? path.join(root, 'registry') }),
    training: createInProcessTrainingBackend(),
  };
}
