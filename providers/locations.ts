/**
 * Lakes, registries and landing areas are named by location URIs; the form says which provider
 * can open it:
 *
 * | form | provider |
 * | --- | --- |
 * | a directory path, or `file:///…` | local |
 * | `s3://<bucket>/<prefix>` | aws |
 * | `https://<account>.blob.core.windows.net/<container>/<prefix>`, or an emulator's `http://127.0.0.1:<port>/<account>/<container>/<prefix>` | azure |
 *
 * Parsing is pure (no SDK): the resolver checks every location before anything talks to a cloud.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProviderName } from '../core/config/settings';
import { InvalidOptionsError } from '../core/errors';
import { parseBlobLocation, type BlobLocation } from './azure/blob-location';

export type ParsedLocation =
  | { readonly provider: 'local'; readonly directory: string }
  | { readonly provider: 'aws'; readonly bucket: string; readonly prefix: string }
  | { readonly provider: 'azure'; readonly blob: BlobLocation };

/** The forms a location may take, for error messages. */
export const LOCATION_FORMS: Readonly<Record<ProviderName, string>> = {
  local: 'a directory or file:///…',
  aws: 's3://<bucket>/<prefix>',
  azure: 'https://<account>.blob.core.windows.net/<container>/<prefix>',
};

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Parses a location. Relative directories resolve against `base`.
 * @throws InvalidOptionsError naming what is wrong and the forms known
 */
export function parseLocation(location: string, base = process.cwd()): ParsedLocation {
  const scheme = SCHEME.exec(location)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (location.trim().length === 0) throw new InvalidOptionsError('location', ['a location must not be empty']);
    return { provider: 'local', directory: path.resolve(base, location) };
  }
  if (scheme === 'file') return { provider: 'local', directory: fileURLToPath(location) };
  if (scheme === 's3') {
    const [bucket = '', ...rest] = location.slice('s3://'.length).split('/');
    const prefix = rest.filter((segment) => segment.length > 0).join('/');
    const problems: string[] = [];
    if (!BUCKET_PATTERN.test(bucket)) problems.push(`'${location}': '${bucket}' is not an S3 bucket name`);
    if (rest.some((segment) => segment === '.' || segment === '..')) problems.push(`'${location}': the prefix must not hold '.' or '..'`);
    if (problems.length > 0) throw new InvalidOptionsError('location', problems);
    return { provider: 'aws', bucket, prefix };
  }
  if (scheme === 'https' || scheme === 'http') return { provider: 'azure', blob: parseBlobLocation(location) };
  throw new InvalidOptionsError('location', [`'${location}' is not a location; use ${Object.values(LOCATION_FORMS).join(', or ')}`]);
}

/** The location as a canonical string (absolute directory, `s3://bucket/prefix`, the blob URL). */
export function formatLocation(location: ParsedLocation): string {
  switch (location.provider) {
    case 'local':
      return location.directory;
    case 'aws':
      return `s3://${location.bucket}${location.prefix ? `/${location.prefix}` : ''}`;
    case 'azure':
      return `${location.blob.accountUrl}/${location.blob.container}${location.blob.prefix ? `/${location.blob.prefix}` : ''}`;
  }
}

/** A location below another: `<parent>/<child>` in the parent's form. */
export function childLocation(parent: string, child: string): string {
  const parsed = parseLocation(parent);
  if (parsed.provider === 'local') return path.join(parsed.directory, child);
  return `${formatLocation(parsed)}/${child}`;
}
