/**
 * Request bodies → feature rows, as a prediction worker does it: read the body straight into a
 * columnar batch when fast-body.ts can (the common, valid case), else check the JSON's bounds
 * (json-bounds.ts: a hostile body is refused before it is parsed), decode the UTF-8 JSON, validate
 * it with the API's zod schemas (schemas.ts: the same schemas the OpenAPI document describes; a valid
 * body passes basket-check.ts's allocation-free check of the same constraints instead) and turn the
 * baskets into a batch (`basketBatchFromBaskets`); then compute each basket's features with
 * `BasketFeatures.compute`, the function batch training uses. A refused body becomes a problem
 * (malformed JSON, too complex, schema violation, size limit), never an exception.
 */
import type { ZodError } from 'zod';
import { basketBatchFromBaskets, type BasketBatch } from '../../core/features/basket-batch';
import { BasketFeatures } from '../../core/features/compute';
import { FEATURE_COUNT } from '../../core/features/spec';
import type { FeatureStatistics } from '../../core/features/statistics';
import type { Basket } from '../../core/schema/lgsr';
import { basketSchema, batchEnvelopeSchema, type RequestLimits } from '../schemas';
import { isValidBasket, isValidBatch } from './basket-check';
import { BodyReader } from './fast-body';
import { jsonBoundsProblem } from './json-bounds';
import type { BodyProblem, BodyShape } from './protocol';

/** Schema violations listed at most in one problem (the count is in `detail`). */
export const MAX_LISTED_ERRORS = 20;
/** Schema violations counted at most in one problem: a batch is checked basket by basket until then. */
export const MAX_COUNTED_ERRORS = 1000;

export interface FeaturizedRequests {
  readonly rows: number;
  readonly rowsPerRequest: Uint32Array;
  readonly problems: readonly (BodyProblem | null)[];
  /** rows × FEATURE_COUNT, row-major, in request order (valid until the next `featurize`). */
  readonly features: Float32Array;
  /** BASKET_ID per row (NaN where none was sent), valid until the next `featurize`; undefined when no basket of the run had one. */
  readonly basketIds?: Float64Array;
}

type ZodIssue = ZodError['issues'][number];

export class RequestFeaturizer {
  private readonly features: BasketFeatures;
  private readonly basketSchema: ReturnType<typeof basketSchema>;
  private readonly envelopeSchema: ReturnType<typeof batchEnvelopeSchema>;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private readonly reader: BodyReader;
  /** Reused from run to run (grown when a run needs more). */
  private scratch = new Float32Array(64 * FEATURE_COUNT);
  private basketIdScratch = new Float64Array(64);

  constructor(
    statistics: FeatureStatistics,
    private readonly limits: RequestLimits,
  ) {
    this.features = new BasketFeatures(statistics);
    this.basketSchema = basketSchema(limits);
    this.envelopeSchema = batchEnvelopeSchema(limits);
    this.reader = new BodyReader(limits);
  }

  /** The baskets of one body, or why it is refused. */
  decode(shape: BodyShape, body: Uint8Array): { readonly baskets: readonly Basket[] } | { readonly problem: BodyProblem } {
    const beyondBounds = jsonBoundsProblem(body);
    if (beyondBounds) return { problem: beyondBounds };
    let value: unknown;
    try {
      value = JSON.parse(this.decoder.decode(body));
    } catch (error) {
      return { problem: { kind: 'malformed-json', detail: (error as Error).message } };
    }
    // the common, valid case skips zod (basket-check.ts holds the same constraints); zod decides otherwise
    if (shape === 'basket') {
      if (isValidBasket(value, this.limits)) return { baskets: [value] };
      const result = this.basketSchema.safeParse(value);
      return result.success ? { baskets: [result.data] } : { problem: validationProblem(result.error.issues, this.limits) };
    }
    if (isValidBatch(value, this.limits)) return { baskets: value.baskets };
    return this.validateBatch(value);
  }

  /**
   * A batch that basket-check refused, through zod: the envelope (keys, number of baskets), then basket
   * by basket, until MAX_COUNTED_ERRORS problems (zod would otherwise build every problem of every
   * basket, millions for a large hostile body).
   */
  private validateBatch(value: unknown): { readonly baskets: readonly Basket[] } | { readonly problem: BodyProblem } {
    const envelope = this.envelopeSchema.safeParse(value);
    if (!envelope.success) return { problem: validationProblem(envelope.error.issues, this.limits) };
    const issues: ZodIssue[] = [];
    const baskets: Basket[] = [];
    const items = envelope.data.baskets;
    for (let index = 0; index < items.length && issues.length < MAX_COUNTED_ERRORS; index++) {
      const result = this.basketSchema.safeParse(items[index]);
      if (result.success) baskets.push(result.data);
      else for (const issue of result.error.issues) issues.push({ ...issue, path: ['baskets', index, ...issue.path] });
    }
    return issues.length === 0 ? { baskets } : { problem: validationProblem(issues, this.limits) };
  }

  /** Features of every valid body's baskets, in request order. */
  featurize(shapes: readonly BodyShape[], bodies: readonly Uint8Array[]): FeaturizedRequests {
    const rowsPerRequest = new Uint32Array(bodies.length);
    const problems: (BodyProblem | null)[] = new Array<BodyProblem | null>(bodies.length).fill(null);
    let rows = 0;
    let anyBasketId = false;
    for (let index = 0; index < bodies.length; index++) {
      // the fast path when it can (fast-body.ts), JSON.parse and zod when it cannot decide
      let batch: BasketBatch;
      let size = this.reader.read(shapes[index], bodies[index]);
      if (size !== undefined) {
        batch = this.reader.batch;
      } else {
        const decoded = this.decode(shapes[index], bodies[index]);
        if ('problem' in decoded) {
          problems[index] = decoded.problem;
          continue;
        }
        batch = basketBatchFromBaskets(decoded.baskets);
        size = batch.size;
      }
      this.reserve(rows + size);
      for (let basket = 0; basket < size; basket++) {
        this.features.compute(batch, basket, this.scratch, (rows + basket) * FEATURE_COUNT);
        const id = batch.basketId[basket];
        this.basketIdScratch[rows + basket] = id;
        if (!Number.isNaN(id)) anyBasketId = true;
      }
      rowsPerRequest[index] = size;
      rows += size;
    }
    return {
      rows,
      rowsPerRequest,
      problems,
      features: this.scratch.subarray(0, rows * FEATURE_COUNT),
      ...(anyBasketId ? { basketIds: this.basketIdScratch.subarray(0, rows) } : {}),
    };
  }

  /** Room for `rows` feature rows in the scratch buffer (what is in it is kept). */
  private reserve(rows: number): void {
    if (rows * FEATURE_COUNT <= this.scratch.length) return;
    const capacity = Math.max(rows, (this.scratch.length / FEATURE_COUNT) * 2);
    const grown = new Float32Array(capacity * FEATURE_COUNT);
    grown.set(this.scratch);
    this.scratch = grown;
    const ids = new Float64Array(capacity);
    ids.set(this.basketIdScratch);
    this.basketIdScratch = ids;
  }
}

/** Zod's problems as one problem: the lines/baskets caps get their own kind; violations listed up to a bound. */
export function validationProblem(issues: readonly ZodIssue[], limits: RequestLimits): BodyProblem {
  const errors = issues.slice(0, MAX_LISTED_ERRORS).map((issue) => ({ path: jsonPointer(issue.path), message: issue.message }));
  const count = issues.length >= MAX_COUNTED_ERRORS ? `at least ${MAX_COUNTED_ERRORS}` : String(issues.length);
  const counted = issues.length > MAX_LISTED_ERRORS ? ` (${count} problems; the first ${MAX_LISTED_ERRORS} are listed)` : '';
  const limitIssue = issues.find(
    (issue) => issue.code === 'too_big' && issue.origin === 'array' && ['lines', 'baskets'].includes(String(issue.path[issue.path.length - 1])),
  );
  if (limitIssue) {
    const field = limitIssue.path[limitIssue.path.length - 1];
    const what = field === 'lines' ? `a basket has more than ${limits.maxLinesPerBasket} lines` : `more than ${limits.maxBasketsPerBatch} baskets`;
    return { kind: 'limit-exceeded', detail: `${what} (at ${jsonPointer(limitIssue.path)})${counted}`, errors };
  }
  const first = errors[0];
  return { kind: 'invalid-request', detail: `${first ? `${first.path || '/'}: ${first.message}` : 'invalid body'}${counted}`, errors };
}

/** A JSON Pointer (RFC 6901) to a field of the body. */
export function jsonPointer(path: readonly PropertyKey[]): string {
  return path.map((part) => `/${String(part).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}
