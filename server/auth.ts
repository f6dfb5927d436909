/**
 * API keys as bearer tokens. Keys are kept only as SHA-256 digests; a presented token is hashed and
 * compared with every digest by `crypto.timingSafeEqual` (equal lengths by construction), without an
 * early exit, so the time taken tells nothing about the keys.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileVariable, SERVER_VARIABLES } from './settings';
import { InvalidOptionsError } from '../core/errors';

/** The shortest key accepted: shorter keys are guessable. */
export const MIN_API_KEY_LENGTH = 16;

export interface ApiKeyAuthenticator {
  /** How many keys are configured. */
  readonly keyCount: number;
  /** Whether `token` is one of the keys. */
  verify(token: string): boolean;
}

/**
 * An authenticator for `keys`.
 * @throws InvalidOptionsError listing every key that is too short or has whitespace (keys are never echoed)
 */
export function createApiKeyAuthenticator(keys: readonly string[], kind = 'API key'): ApiKeyAuthenticator {
  const problems: string[] = [];
  keys.forEach((key, index) => {
    if (key.length < MIN_API_KEY_LENGTH) problems.push(`${kind} #${index + 1} is shorter than ${MIN_API_KEY_LENGTH} characters`);
    if (/\s/.test(key)) problems.push(`${kind} #${index + 1} contains whitespace`);
  });
  if (problems.length > 0) throw new InvalidOptionsError(`${kind}s`, problems);
  const digests = [...new Set(keys)].map(digest);
  return {
    keyCount: digests.length,
    verify(token) {
      const presented = digest(token);
      let matched = false;
      for (const candidate of digests) matched = timingSafeEqual(presented, candidate) || matched;
      return matched;
    },
  };
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ ]+([^\s]+)[ ]*$/i.exec(header);
  return match?.[1];
}

/** Keys from a comma- or newline-separated list (blank entries ignored). */
export function parseApiKeys(text: string): string[] {
  return text
    .split(/[,\n\r]/)
    .map((key) => key.trim())
    .filter((key) => key.length > 0);
}

/**
 * Keys from the environment: `<variable>` (comma-separated) or the file named by `<variable>_FILE`
 * (comma- or newline-separated; e.g. a mounted Kubernetes Secret). Both set is an error (which one
 * wins would be a guess). SERVER_VARIABLES.apiKeys holds the prediction keys, SERVER_VARIABLES.adminKeys
 * the admin keys (server/settings.ts).
 * @throws InvalidOptionsError
 */
export function apiKeysFromEnvironment(
  environment: NodeJS.ProcessEnv,
  variable: typeof SERVER_VARIABLES.apiKeys | typeof SERVER_VARIABLES.adminKeys = SERVER_VARIABLES.apiKeys,
): string[] | undefined {
  const inline = environment[variable];
  const fileName = fileVariable(variable);
  const file = environment[fileName];
  if (inline && file) throw new InvalidOptionsError('server environment', [`set ${variable} or ${fileName}, not both`]);
  if (inline) return parseApiKeys(inline);
  if (file) {
    try {
      return parseApiKeys(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new InvalidOptionsError('server environment', [`${fileName} ${file} cannot be read: ${(error as Error).message}`]);
    }
  }
  return undefined;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
