/** A throwaway self-signed certificate for 127.0.0.1 (openssl), for HTTPS test servers on loopback. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { temporaryDirectory } from './paths';

export interface SelfSignedCertificate {
  readonly certificate: string;
  readonly privateKey: string;
}

let cached: SelfSignedCertificate | undefined;

export function selfSignedCertificate(): SelfSignedCertificate {
  if (cached) return cached;
  const directory = temporaryDirectory('self-signed-');
  try {
    const key = path.join(directory.path, 'key.pem');
    const certificate = path.join(directory.path, 'certificate.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', certificate, '-days', '2',
        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
      { stdio: 'ignore' },
    );
    cached = { certificate: readFileSync(certificate, 'utf8'), privateKey: readFileSync(key, 'utf8') };
    return cached;
  } finally {
    directory.remove();
  }
}
