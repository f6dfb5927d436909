/**
 * JSON values and their canonical text: object keys sorted, no whitespace, so that equal values
 * always give the same bytes (what content hashes are computed over).
 */
import { RetailMlopsError } from './errors';

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** A value cannot be represented as JSON (a non-finite number, a function, a cycle, …). */
export class NotJsonError extends RetailMlopsError {
  constructor(message: string) {
    super('NOT_JSON', message);
  }
}

/**
 * The canonical JSON text of a value: keys sorted by code unit, no whitespace; object properties that
 * are `undefined` are left out (as `JSON.stringify` does).
 * @throws NotJsonError for NaN, ±Infinity, bigint, functions, symbols, `undefined` array items, cycles and
 *   objects that are not plain (typed arrays, dates, maps, class instances)
 */
export function canonicalJson(value: unknown): string {
  return serialize(value, '$', new Set());
}

function serialize(value: unknown, at: string, ancestors: Set<object>): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new NotJsonError(`${at} is ${value}, which JSON cannot represent`);
    return JSON.stringify(value);
  }
  if (typeof value !== 'object') throw new NotJsonError(`${at} is a ${typeof value}, which JSON cannot represent`);
  const prototype: unknown = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) {
    throw new NotJsonError(`${at} is a ${value.constructor?.name ?? 'non-plain object'}, not a plain object or array`);
  }
  if (ancestors.has(value)) throw new NotJsonError(`${at} refers back to itself`);
  ancestors.add(value);
  let text: string;
  if (Array.isArray(value)) {
    text = `[${value.map((item: unknown, index) => {
      if (item === undefined) throw new NotJsonError(`${at}[${index}] is undefined`);
      return serialize(item, `${at}[${index}]`, ancestors);
    }).join(',')}]`;
  } else {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    text = `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${serialize(item, `${at}.${key}`, ancestors)}`).join(',')}}`;
  }
  ancestors.delete(value);
  return text;
}
