import { createLocalObjectStorage } from './object-storage';
import { createLocalRegistry } from './registry';
import { InvalidOptionsError } from '../../core/errors';
import type { ParsedLocation } from '../locations';
import type { Provider } from '../registry';

function directoryOf(location: ParsedLocation): string {
  if (location.provider !== 'local') throw new InvalidOptionsError('local provider', [`the local provider opens directories, not ${location.provider} locations`]);
  return location.directory;
}

/**
 * The embedded default: object storage and the registry are directories on this machine; training
 * runs in this process (the resolver's in-process backend), so there is no managed backend.
 */
export async function createLocalProvider(): Promise<Provider> {
  return {
    name: 'local',
    openStorage: async (location) => createLocalObjectStorage({ root: directoryOf(location) }),
    openRegistry: async (location) => createLocalRegistry({ root: directoryOf(location) }),
  };
}
