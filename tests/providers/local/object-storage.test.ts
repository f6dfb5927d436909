import { createLocalObjectStorage } from '../../../providers/local/object-storage';
import { storageConformance } from '../../conformance/storage';
import { temporaryDirectory } from '../../helpers/paths';

storageConformance('local', async () => {
  const directory = temporaryDirectory('local-storage-');
  return { storage: createLocalObjectStorage({ root: directory.path }), cleanup: async () => directory.remove() };
});
