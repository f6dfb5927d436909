import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../../core/errors';
import { formatBlobLocation, parseBlobLocation } from '../../../providers/azure/blob-location';
import { createBlobObjectStorage } from '../../../providers/azure/blob-object-storage';
import { azuriteCredential, startAzurite, type RunningAzurite } from '../../../providers/azure/emulator/azurite';
import { storageConformance } from '../../conformance/storage';

let azurite: RunningAzurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

storageConformance('azure (azurite)', async () => {
  const container = `conformance-${randomBytes(4).toString('hex')}`;
  const storage = await createBlobObjectStorage({
    accountUrl: azurite.accountUrl,
    container,
    prefix: 'lake',
    credential: await azuriteCredential(),
    createContainer: true,
    // small blocks, so the conformance suite's 12 MiB file goes through Put Block + Put Block List
    singleRequestMaximumBytes: 4 * 1024 * 1024,
    blockSizeBytes: 4 * 1024 * 1024,
  });
  return { storage, cleanup: async () => undefined };
});

describe('blob object storage', () => {
  it('keeps its objects under the prefix and names its location', async () => {
    const credential = await azuriteCredential();
    const options = { accountUrl: azurite.accountUrl, container: 'prefixes', credential, createContainer: true };
    const lake = await createBlobObjectStorage({ ...options, prefix: '/lake/' });
    const root = await createBlobObjectStorage(options);
    await lake.put('gold/part-0.parquet', new Uint8Array([1, 2, 3]));
    expect(lake.location).toBe(`${azurite.accountUrl}/prefixes/lake`);
    expect(await root.list('')).toEqual([{ key: 'lake/gold/part-0.parquet', size: 3 }]);
    expect(await lake.list('')).toEqual([{ key: 'gold/part-0.parquet', size: 3 }]);
    expect(parseBlobLocation(lake.location)).toEqual({ accountUrl: azurite.accountUrl, container: 'prefixes', prefix: 'lake' });
  });

  it('does not list the directory entries of a hierarchical namespace as objects', async () => {
    const credential = await azuriteCredential();
    const storage = await createBlobObjectStorage({ accountUrl: azurite.accountUrl, container: 'hierarchical', credential, createContainer: true });
    const { BlobServiceClient } = await import('@azure/storage-blob');
    const container = new BlobServiceClient(azurite.accountUrl, credential).getContainerClient('hierarchical');
    // what ADLS Gen2 returns for a directory: an empty blob with hdi_isfolder metadata
    await container.getBlockBlobClient('gold').upload('', 0, { metadata: { hdi_isfolder: 'true' } });
    await storage.put('gold/part-0.parquet', new Uint8Array([1]));
    expect(await storage.list('')).toEqual([{ key: 'gold/part-0.parquet', size: 1 }]);
  });

  it('validates every option at once, before loading anything', async () => {
    const error = await createBlobObjectStorage({
      accountUrl: 'http://storage.example.com/?sv=2024&sig=secret',
      container: 'Bad_Name',
      prefix: 'a/../b',
      blockSizeBytes: 10,
      concurrency: 0,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).problems).toHaveLength(6);
  });

  it('parses and formats blob locations of Azure and of the emulator', () => {
    const azure = parseBlobLocation('https://retailmlopsdata.blob.core.windows.net/lake/team-a/v1/');
    expect(azure).toEqual({ accountUrl: 'https://retailmlopsdata.blob.core.windows.net', container: 'lake', prefix: 'team-a/v1' });
    expect(formatBlobLocation(azure)).toBe('https://retailmlopsdata.blob.core.windows.net/lake/team-a/v1');
    expect(parseBlobLocation('http://127.0.0.1:10000/devstoreaccount1/registry')).toEqual({
      accountUrl: 'http://127.0.0.1:10000/devstoreaccount1',
      container: 'registry',
      prefix: '',
    });
    expect(() => parseBlobLocation('http://retailmlopsdata.blob.core.windows.net/lake')).toThrow(InvalidOptionsError);
    expect(() => parseBlobLocation('https://retailmlopsdata.blob.core.windows.net/')).toThrow(InvalidOptionsError);
  });
});
