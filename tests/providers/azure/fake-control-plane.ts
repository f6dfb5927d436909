/**
 * Moved to providers/azure/emulator/control-plane.ts (the `npm run emulate -- azure` product). These
 * names keep older imports working: a control plane on a throwaway certificate that answers for any
 * workspace and accepts any bearer token, as the tests' fake did.
 */
import { selfSignedCertificate } from '../../../providers/azure/emulator/certificate';
import { startAzureMlControlPlane, type AzureMlControlPlane, type EmulatedJob, type JobRunner } from '../../../providers/azure/emulator/control-plane';

export type { JsonObject, RecordedRequest } from '../../../providers/azure/emulator/control-plane';
export type FakeControlPlane = AzureMlControlPlane;
export type FakeJob = EmulatedJob;
export type { JobRunner };

export function startFakeControlPlane(options: { readonly apiVersion?: string } = {}): Promise<FakeControlPlane> {
  const { certificate, privateKey } = selfSignedCertificate();
  return startAzureMlControlPlane({ certificate, privateKey, implicitWorkspaces: true, ...options });
}

/** A TokenCredential that hands out a fixed token (this control plane accepts any bearer token). */
export const staticTokenCredential = {
  getToken: async () => ({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};
