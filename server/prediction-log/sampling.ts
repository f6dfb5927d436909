/**
 * What the prediction log keeps when its writer falls behind: a deterministic sample, never the
 * first or last predictions of a burst. The rate follows the backlog (records accepted and not yet
 * written): every prediction while the backlog is below `samplingStartsAt` of its bound, then half,
 * a quarter, … down to `minimumRate`, one halving per further eighth of the bound. Whether a
 * prediction is kept depends only on its request id and position (a hash), never on its features,
 * so the sample is unbiased; a rate of 2^-k keeps the predictions whose hash has its k top bits zero,
 * so the sample at a lower rate is a subset of the sample at a higher one. Each kept record carries
 * its rate, and readers weigh it by 1 / rate.
 */

/** The rate for a backlog filled to `fill` (0…1): 1, ½, ¼, … ≥ minimumRate (a power of two). */
export function sampleRateFor(fill: number, samplingStartsAt: number, minimumRate: number): number {
  if (!(fill >= samplingStartsAt)) return 1;
  const halvings = Math.min(Math.floor((fill - samplingStartsAt) * 8) + 1, Math.round(-Math.log2(minimumRate)));
  return 2 ** -halvings;
}

/** FNV-1a of a string, 32 bits. */
export function hashRequestId(requestId: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < requestId.length; index++) {
    hash ^= requestId.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A 32-bit mix of a request's hash and a basket's position (murmur3's finaliser). */
function mix(requestHash: number, index: number): number {
  let value = (requestHash ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  value ^= value >>> 16;
  value = Math.imul(value, 0x85ebca6b);
  value ^= value >>> 13;
  value = Math.imul(value, 0xc2b2ae35);
  value ^= value >>> 16;
  return value >>> 0;
}

/** Whether the prediction at `index` of the request hashing to `requestHash` is in the sample at `rate` (a power of two ≤ 1). */
export function isSampled(requestHash: number, index: number, rate: number): boolean {
  if (rate >= 1) return true;
  const bits = Math.round(-Math.log2(rate));
  return mix(requestHash, index) >>> (32 - bits) === 0;
}
