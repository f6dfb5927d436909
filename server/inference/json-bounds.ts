/**
 * Bounds on a request body's JSON, checked in one pass over the bytes before the general path parses
 * it (JSON.parse builds every value, zod visits them): nesting depth, members per object, and JSON
 * tokens (values and keys) per byte. A valid body is shallow (5 levels at most), its objects have 7
 * members at most, and it spends ≈ 10 bytes per token (every key is a column name, every code has its
 * fixed length); a hostile one (`[[[[…`, `[1,1,1,…]`, millions of keys) can make a parser allocate
 * gigabytes and run for seconds from a few megabytes. Such a body is refused in microseconds with a
 * problem saying which bound it broke, before anything is allocated for it; a body within the bounds
 * costs the parser at most a small multiple of its size.
 */
import type { BodyProblem } from './protocol';

/** Levels of nesting allowed (a valid batch body nests 5: object, baskets, basket, lines, line). */
export const MAX_JSON_DEPTH = 16;
/** Members one object may have (a valid one has at most 7; more is a hostile body, not a typo). */
export const MAX_OBJECT_MEMBERS = 64;
/** Bytes per JSON token a body must spend on average (a valid minified body spends ≈ 10). */
export const MIN_BYTES_PER_TOKEN = 6;
/** Tokens allowed on top of that, so that small invalid bodies still get zod's explanation. */
export const TOKEN_ALLOWANCE = 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

/** Whether a byte continues a number or a literal (true, false, null), or is stray text. */
function isBareByte(byte: number): boolean {
  return byte > 0x20 && byte !== QUOTE && byte !== OPEN_BRACE && byte !== CLOSE_BRACE && byte !== OPEN_BRACKET && byte !== CLOSE_BRACKET && byte !== COLON && byte !== COMMA;
}

/** Why the body is beyond the bounds, or undefined when it is within them (it may still be malformed: JSON.parse decides). */
export function jsonBoundsProblem(bytes: Uint8Array): BodyProblem | undefined {
  const length = bytes.length;
  const maxTokens = Math.floor(length / MIN_BYTES_PER_TOKEN) + TOKEN_ALLOWANCE;
  // per open container: 1 for an object, 0 for an array, and an object's members so far
  const objects = new Uint8Array(MAX_JSON_DEPTH + 1);
  const members = new Uint32Array(MAX_JSON_DEPTH + 1);
  let depth = 0;
  let tokens = 0;
  for (let index = 0; index < length; index++) {
    const byte = bytes[index];
    if (byte === QUOTE) {
      tokens += 1;
      for (index += 1; index < length && bytes[index] !== QUOTE; index++) if (bytes[index] === BACKSLASH) index += 1;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      tokens += 1;
      depth += 1;
      if (depth > MAX_JSON_DEPTH) {
        return { kind: 'body-too-complex', detail: `the body nests deeper than ${MAX_JSON_DEPTH} levels (a valid body nests at most 5)` };
      }
      objects[depth] = byte === OPEN_BRACE ? 1 : 0;
      members[depth] = 0;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      if (depth > 0) depth -= 1;
    } else if (byte === COLON) {
      if (objects[depth] === 1 && ++members[depth] > MAX_OBJECT_MEMBERS) {
        return { kind: 'body-too-complex', detail: `an object has more than ${MAX_OBJECT_MEMBERS} members (a valid one has at most 7)` };
      }
    } else if (isBareByte(byte)) {
      tokens += 1;
      while (index + 1 < length && isBareByte(bytes[index + 1])) index += 1;
    }
    if (tokens > maxTokens) {
      return {
        kind: 'body-too-complex',
        detail: `the body holds more than ${maxTokens} JSON values and keys in ${length} bytes (a valid body spends about 10 bytes on each; at most one per ${MIN_BYTES_PER_TOKEN} bytes, plus ${TOKEN_ALLOWANCE}, is accepted)`,
      };
    }
  }
  return undefined;
}
