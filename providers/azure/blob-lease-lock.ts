/**
 * A writers' lock on Blob Storage: an exclusive lease on one lock blob. Whoever holds the lease
 * writes; the others retry until it is free or their patience ends. A holder renews its lease while
 * it works; if it dies, the lease runs out by itself (15 s), so a crash never locks the registry
 * for good. Writes made under the lock still carry ETag conditions, so even a holder that lost its
 * lease unnoticed cannot overwrite what another wrote.
 */
import type { ContainerClient } from '@azure/storage-blob' with { 'resolution-mode': 'import' };
import { azureFailure, hasStatus } from './errors';
import { RegistryBusyError } from '../../core/registry/errors';

export interface BlobLeaseLockOptions {
  /** How long to wait for the lease before failing with RegistryBusyError. */
  readonly timeoutMs: number;
  /** Lease duration in seconds (Azure: 15–60). @default 15 */
  readonly leaseSeconds?: number;
}

const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** The lease while it is held. */
export interface HeldBlobLease {
  /**
   * Renews the lease now: proves it is still held (and good for another `leaseSeconds`).
   * @throws AzureRequestError when the lease was lost (it ran out and another writer took it)
   */
  renew(): Promise<void>;
}

/** Runs `body` while holding the lease on `blobName` (created empty when missing). */
export async function withBlobLease<T>(
  container: ContainerClient,
  blobName: string,
  options: BlobLeaseLockOptions,
  body: (held: HeldBlobLease) => Promise<T>,
): Promise<T> {
  const blob = container.getBlockBlobClient(blobName);
  const leaseSeconds = options.leaseSeconds ?? 15;
  try {
    await blob.upload('', 0, { conditions: { ifNoneMatch: '*' } });
  } catch (error) {
    // 409: it exists; 412: it exists and is leased. Either way there is a lock blob.
    if (!hasStatus(error, 409) && !hasStatus(error, 412)) throw azureFailure(`create lock blob '${blobName}'`, error);
  }
  const lease = blob.getBlobLeaseClient();
  const deadline = Date.now() + options.timeoutMs;
  let delay = 10;
  for (;;) {
    try {
      await lease.acquireLease(leaseSeconds);
      break;
    } catch (error) {
      if (!hasStatus(error, 409)) throw azureFailure(`acquire the lease on '${blobName}'`, error);
      if (Date.now() >= deadline) throw new RegistryBusyError(`the lease on '${blobName}' stayed taken for ${options.timeoutMs} ms`);
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 500);
    }
  }
  let renewalFailure: unknown;
  const renewal = setInterval(() => {
    lease.renewLease().catch((error: unknown) => {
      renewalFailure = error;
    });
  }, (leaseSeconds * 1000) / 3);
  renewal.unref();
  try {
    const result = await body({
      async renew() {
        await lease.renewLease().catch((error: unknown) => {
          throw azureFailure(`renew the lease on '${blobName}'`, error);
        });
      },
    });
    if (renewalFailure !== undefined) throw azureFailure(`renew the lease on '${blobName}'`, renewalFailure);
    return result;
  } finally {
    clearInterval(renewal);
    // A failed release needs no handling: the lease runs out by itself within leaseSeconds.
    await lease.releaseLease().catch(() => undefined);
  }
}
