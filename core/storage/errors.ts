import { RetailMlopsError } from '../errors';

/** The object does not exist in the store. */
export class ObjectNotFoundError extends RetailMlopsError {
  constructor(readonly location: string, readonly key: string) {
    super('OBJECT_NOT_FOUND', `${location}: no object '${key}'`);
  }
}

/** A key that is empty, absolute, or climbs out of the store's root. */
export class InvalidObjectKeyError extends RetailMlopsError {
  constructor(readonly key: string) {
    super('INVALID_OBJECT_KEY', `invalid object key '${key}': keys are relative '/'-separated paths without '.' or '..' segments`);
  }
}

/** Checks an object key; every provider calls this before touching its store. */
export function assertObjectKey(key: string): void {
  const segments = key.split('/');
  if (key.length === 0 || key.startsWith('/') || segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new InvalidObjectKeyError(key);
  }
}
