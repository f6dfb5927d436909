/**
 * Blob locations as URLs: `https://<account>.blob.core.windows.net/<container>/<prefix>` in Azure,
 * `http://127.0.0.1:<port>/<account>/<container>/<prefix>` on a local emulator (azurite), where the
 * account is the first path segment. This is the form of `DatasetReference.uri` and of a registry
 * location (`RETAIL_MLOPS_REGISTRY`) on Azure.
 */
import { InvalidOptionsError } from '../../core/errors';

export interface BlobLocation {
  /** The account's Blob endpoint, without a trailing slash (azurite: including the account segment). */
  readonly accountUrl: string;
  readonly container: string;
  /** '/'-separated, without leading or trailing '/'; '' for the container's root. */
  readonly prefix: string;
}

/** Lowercase letters, digits and single hyphens, 3–63 characters (Azure's container naming rule). */
export const CONTAINER_NAME_PATTERN = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;

/** True for `localhost`, `127.x.x.x` or `[::1]`: hosts where plain http is acceptable (an emulator). */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || /^127(\.\d{1,3}){3}$/.test(hostname) || hostname === '[::1]' || hostname === '::1';
}

/** Removes leading and trailing '/' and collapses nothing else. */
export function normalizePrefix(prefix: string): string {
  return prefix.replace(/^\/+|\/+$/g, '');
}

/** Problems of an account URL: https, or http on a loopback host; no query, no fragment. */
export function accountUrlProblems(accountUrl: unknown, label = 'accountUrl'): string[] {
  if (typeof accountUrl !== 'string') return [`${label} must be a URL string, got ${JSON.stringify(accountUrl)}`];
  let url: URL;
  try {
    url = new URL(accountUrl);
  } catch {
    return [`${label} '${accountUrl}' is not a URL`];
  }
  const problems: string[] = [];
  if (!(url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname)))) {
    problems.push(`${label} '${accountUrl}' must use https (plain http only on a loopback emulator)`);
  }
  if (url.search || url.hash) problems.push(`${label} '${accountUrl}' must not carry a query or fragment (no SAS tokens: credentials come from Entra ID)`);
  return problems;
}

/**
 * Parses a blob URL into account, container and prefix.
 * @throws InvalidOptionsError when it is not one
 */
export function parseBlobLocation(location: string): BlobLocation {
  const problems = accountUrlProblems(location, 'blob location');
  if (problems.length > 0) throw new InvalidOptionsError('blob location', problems);
  const url = new URL(location);
  const segments = url.pathname.split('/').filter((segment) => segment.length > 0).map(decodeURIComponent);
  const emulator = isLoopbackHost(url.hostname);
  const accountSegments = emulator ? 1 : 0;
  const container = segments[accountSegments];
  if (container === undefined || !CONTAINER_NAME_PATTERN.test(container) || (emulator && segments.length < 2)) {
    throw new InvalidOptionsError('blob location', [
      `'${location}' must be ${emulator ? 'http://<host>:<port>/<account>/<container>[/<prefix>]' : 'https://<account>.blob.core.windows.net/<container>[/<prefix>]'}`,
    ]);
  }
  const accountPath = emulator ? `/${segments[0]}` : '';
  return { accountUrl: `${url.protocol}//${url.host}${accountPath}`, container, prefix: segments.slice(accountSegments + 1).join('/') };
}

/** The URL of a location (the inverse of parseBlobLocation). */
export function formatBlobLocation(location: BlobLocation): string {
  const prefix = normalizePrefix(location.prefix);
  return `${location.accountUrl}/${location.container}${prefix ? `/${prefix}` : ''}`;
}
