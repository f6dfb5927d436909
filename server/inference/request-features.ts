/**
 * Request bodies → feature rows, as a prediction worker does it: read the body straight into a
 * columnar batch when fast-body.ts can (the common, valid case), else decode the UTF-8 JSON, validate
 * it with the API's zod schemas (schemas.ts: the same schemas the OpenAPI document describes; a valid
 * body passes basket-check.ts's allocation-free check of the same constraints instead) and turn the
 * baskets into a batch (`basketBatchFromBaskets`); then compute each basket's features with
 * `BasketFeatures.compute`, the function batch training uses. A refused body becomes a problem
 * (malformed JSON, schema violation, size limit), never an exception.
 */
import type { ZodError } from 'zod';
import { basketBatchFromBaskets, type BasketBatch } from '../../core/features/basket-batch';
import { BasketFeatures } from '../../core/features/compute';
import { FEATURE_COUNT } from '../../core/features/spec';
import type { FeatureStatistics } from '../../core/features/statistics';
import type { Basket } from '../../core/schema/lgsr';
import { basketSchema, batchRequestSchema, type RequestLimits } from '../schemas';
import { isValidBasket, isValidBatch } from './basket-check';
import { parseBody } from './fast-body';
import type { BodyProblem, BodyShape } from './protocol';

/** Schema violations listed at most in one problem (the count is in `detail`). */
export const MAX_LISTED_ERRORS = 20;

export interface FeaturizedRequests {
  readonly rows: number;
  readonly rowsPerRequest: Uint32Array;
  readonly problems: readonly (BodyProblem | null)[];
  /** rows × FEATURE_COUNT, row-major, in request order. */
  readonly features: Float32Array;
  /** BASKET_ID per row (NaN where none was sent); undefined when no basket of the run had one. */
  readonly basketIds?: Float64Array;
}

export class RequestFeaturizer {
  private readonly features: BasketFeatures;
  private readonly basketSchema: ReturnType<typeof basketSchema>;
  private readonly batchSchema: ReturnType<typeof batchRequestSchema>;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(
    statistics: FeatureStatistics,
    private readonly limits: RequestLimits,
  ) {
    this.features = new BasketFeatures(statistics);
    this.basketSchema = basketSchema(limits);
    this.batchSchema = batchRequestSchema(limits);
  }

  /** The baskets of one body, or why it is refused. */
  decode(shape: BodyShape, body: Uint8Array): { readonly baskets: readonly Basket[] } | { readonly problem: BodyProblem } {
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
      return result.success ? { baskets: [result.data] } : { problem: validationProblem(result.error, this.limits) };
    }
    if (isValidBatch(value, this.limits)) return { baskets: value.baskets };
    const result = this.batchSchema.safeParse(value);
    return result.success ? { baskets: result.data.baskets } : { problem: validationProblem(result.error, this.limits) };
  }

  /** Features of every valid body's baskets, in request order. */
  featurize(shapes: readonly BodyShape[], bodies: readonly Uint8Array[]): FeaturizedRequests {
    const rowsPerRequest = new Uint32Array(bodies.length);
    const problems: (BodyProblem | null)[] = new Array<BodyProblem | null>(bodies.length).fill(null);
    const batches: BasketBatch[] = [];
    let rows = 0;
    for (let index = 0; index < bodies.length; index++) {
      // the fast path when it can (fast-body.ts), JSON.parse and zod when it cannot decide
      let batch = parseBody(shapes[index], bodies[index], this.limits);
      if (!batch) {
        const decoded = this.decode(shapes[index], bodies[index]);
        if ('problem' in decoded) {
          problems[index] = decoded.problem;
          continue;
        }
        batch = basketBatchFromBaskets(decoded.baskets);
      }
      rowsPerRequest[index] = batch.size;
      batches.push(batch);
      rows += batch.size;
    }
    const features = new Float32Array(rows * FEATURE_COUNT);
    let basketIds: Float64Array | undefined;
    let row = 0;
    for (const batch of batches) {
      for (let basket = 0; basket < batch.size; basket++, row++) {
        this.features.compute(batch, basket, features, row * FEATURE_COUNT);
        const id = batch.basketId[basket];
        if (!Number.isNaN(id)) (basketIds ??= new Float64Array(rows).fill(Number.NaN))[row] = id;
      }
    }
    return { rows, rowsPerRequest, problems, features, basketIds };
  }
}

/** A zod failure as a problem: the lines/baskets caps get their own kind; violations listed up to a bound. */
export function validationProblem(error: ZodError, limits: RequestLimits): BodyProblem {
  const issues = error.issues;
  const errors = issues.slice(0, MAX_LISTED_ERRORS).map((issue) => ({ path: jsonPointer(issue.path), message: issue.message }));
  const counted = issues.length > MAX_LISTED_ERRORS ? ` (${issues.length} problems; the first ${MAX_LISTED_ERRORS} are listed)` : '';
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
