/**
 * A self-signed certificate for 127.0.0.1 and localhost (openssl), for the HTTPS servers of the
 * Azure emulator: Resource Manager and Blob (azurite) take bearer tokens, and the Azure SDKs send
 * bearer tokens over https only. Clients trust it through `NODE_EXTRA_CA_CERTS` (the file's path).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EmulatorError } from '../../emulation/errors';

export interface SelfSignedCertificate {
  readonly certificate: string;
  readonly privateKey: string;
}

export interface CertificateFiles extends SelfSignedCertificate {
  readonly certificatePath: string;
  readonly privateKeyPath: string;
}

/**
 * The certificate in `directory` (`certificate.pem`, `key.pem`), created when missing, so a
 * restarted emulator keeps the one its clients already trust.
 * @throws EmulatorError when openssl cannot make one
 */
export function certificateIn(directory: string): CertificateFiles {
  mkdirSync(directory, { recursive: true });
  const certificatePath = path.join(directory, 'certificate.pem');
  const privateKeyPath = path.join(directory, 'key.pem');
  if (!existsSync(certificatePath) || !existsSync(privateKeyPath)) {
    try {
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', privateKeyPath, '-out', certificatePath, '-days', '825',
          '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
    } catch (error) {
      throw new EmulatorError(`cannot create a self-signed certificate with openssl (install openssl): ${(error as Error).message}`, { cause: error });
    }
  }
  return { certificatePath, privateKeyPath, certificate: readFileSync(certificatePath, 'utf8'), privateKey: readFileSync(privateKeyPath, 'utf8') };
}

let cached: SelfSignedCertificate | undefined;

/** A throwaway certificate, made once per process (tests). */
export function selfSignedCertificate(): SelfSignedCertificate {
  if (cached) return cached;
  const directory = mkdtempSync(path.join(os.tmpdir(), 'self-signed-'));
  try {
    const { certificate, privateKey } = certificateIn(directory);
    cached = { certificate, privateKey };
    return cached;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
