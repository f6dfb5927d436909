/**
 * The API's request and response schemas (zod, with OpenAPI metadata). Requests are validated with
 * exactly these, and the OpenAPI document and the typed client are generated from them.
 *
 * Request bodies use the LGSR column names (see core/schema/lgsr.ts); codes are checked against the
 * LGSR code formats and categories against their vocabularies. Products, classes or stores the model
 * never saw are valid: the features fall back to their parents' statistics (not an error).
 */
import { z } from '@hono/zod-openapi';
import {
  BASKET_MISSIONS,
  BASKET_TYPES,
  CODE_PATTERNS,
  PRICE_SENSITIVITY_CLASSES,
  STORE_FORMATS,
  STORE_REGIONS,
} from '../core/schema/lgsr';

/** Limits the schemas enforce. */
export interface RequestLimits {
  /** Lines one basket may hold. */
  readonly maxLinesPerBasket: number;
  /** Baskets one batch request may hold. */
  readonly maxBasketsPerBatch: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = { maxLinesPerBasket: 200, maxBasketsPerBatch: 10_000 };

/** QUANTITY above this is refused as implausible (LGSR quantities are small integers). */
export const MAX_QUANTITY = 10_000;
/** SPEND above this is refused as implausible. */
export const MAX_SPEND = 1e9;

const code = (pattern: RegExp, example: string, description: string) =>
  z.string().regex(pattern, { message: `must match ${pattern.source}` }).openapi({ example, description });

export const BasketContextSchema = z
  .object({
    STORE_CODE: code(CODE_PATTERNS.STORE_CODE, 'STORE00001', 'STORE + 5 digits; a store the model never saw falls back to the prior'),
    STORE_FORMAT: z.enum(STORE_FORMATS).openapi({ example: 'LS' }),
    STORE_REGION: z.enum(STORE_REGIONS).openapi({ example: 'E02' }),
    SHOP_WEEKDAY: z.int().min(1).max(7).openapi({ example: 7, description: '1 = Sunday … 7 = Saturday' }),
    SHOP_HOUR: z.int().min(0).max(23).openapi({ example: 19 }),
    BASKET_TYPE: z.enum(BASKET_TYPES).openapi({ example: 'Full Shop' }),
    BASKET_DOMINANT_MISSION: z.enum(BASKET_MISSIONS).openapi({ example: 'Mixed' }),
    BASKET_ID: code(
      CODE_PATTERNS.BASKET_ID,
      '994100100000020',
      "optional: the basket's id (15 digits), logged with the prediction so that its label, ingested later, measures live accuracy",
    ).optional(),
  })
  .openapi('BasketContext', { description: 'What is known at the till besides the lines (LGSR column names).' });

export const BasketLineSchema = z
  .object({
    PROD_CODE: code(CODE_PATTERNS.PROD_CODE, 'PRD0900033', 'PRD + 7 digits'),
    PROD_CODE_10: code(CODE_PATTERNS.PROD_CODE_10, 'CL00201', 'the product class: CL + 5 digits'),
    PROD_CODE_20: code(CODE_PATTERNS.PROD_CODE_20, 'DEP00067', 'the department: DEP + 5 digits'),
    PROD_CODE_30: code(CODE_PATTERNS.PROD_CODE_30, 'G00021', 'the group: G + 5 digits'),
    PROD_CODE_40: code(CODE_PATTERNS.PROD_CODE_40, 'D00005', 'the division: D + 5 digits'),
    QUANTITY: z.int().min(1).max(MAX_QUANTITY).openapi({ example: 1, description: 'a positive integer' }),
    SPEND: z.number().min(0).max(MAX_SPEND).openapi({ example: 0.93, description: 'a finite number ≥ 0' }),
  })
  .openapi('BasketLine', { description: 'One product line (LGSR column names).' });

/** One basket: the request body of POST /v1/predict. */
export function basketSchema(limits: RequestLimits = DEFAULT_REQUEST_LIMITS) {
  return z
    .object({
      context: BasketContextSchema,
      lines: z
        .array(BasketLineSchema)
        .min(1)
        .max(limits.maxLinesPerBasket)
        .openapi({ description: `1 to ${limits.maxLinesPerBasket} lines` }),
    })
    .openapi('Basket');
}

/** One basket as a client sends it (the body of POST /v1/predict). */
export type BasketRequest = z.input<ReturnType<typeof basketSchema>>;

/** The request body of POST /v1/predict/batch. */
export function batchRequestSchema(limits: RequestLimits = DEFAULT_REQUEST_LIMITS) {
  return z
    .object({
      baskets: z
        .array(basketSchema(limits))
        .min(1)
        .max(limits.maxBasketsPerBatch)
        .openapi({ description: `1 to ${limits.maxBasketsPerBatch} baskets; predictions come back in the same order` }),
    })
    .openapi('BatchRequest');
}

/**
 * The batch body with its baskets not looked into: the same keys, array bounds and messages as
 * batchRequestSchema. A prediction worker checks a refused batch with it first, then basket by
 * basket (basketSchema), so that it can stop counting problems early.
 */
export function batchEnvelopeSchema(limits: RequestLimits = DEFAULT_REQUEST_LIMITS) {
  return z.object({ baskets: z.array(z.unknown()).min(1).max(limits.maxBasketsPerBatch) });
}

/** The body of POST /v1/predict/batch, as a client sends it. */
export type BatchRequest = z.input<ReturnType<typeof batchRequestSchema>>;

const probability = z.number().min(0).max(1);

export const ProbabilitiesSchema = z
  .object({ LA: probability, MM: probability, UM: probability })
  .openapi('Probabilities', { description: 'Class probabilities (they sum to 1).', example: { LA: 0.08, MM: 0.83, UM: 0.09 } });

export const PriceSensitivitySchema = z.enum(PRICE_SENSITIVITY_CLASSES).openapi('PriceSensitivity', {
  description: 'LA = less affluent, MM = mid market, UM = up market',
});

const predictionFields = {
  label: PriceSensitivitySchema,
  probabilities: ProbabilitiesSchema,
};

const servingFields = {
  modelVersion: z.string().openapi({ example: 'v-36acfa5976b5', description: 'the registry version that made the prediction' }),
  featureSpecVersion: z.string().openapi({ example: '1.0.0' }),
  requestId: z.string().openapi({ example: '3f1e2d7c-0a4b-4c55-9e43-51c1f9b3f2aa', description: 'also in the X-Request-Id header' }),
};

export const PredictionSchema = z.object(predictionFields).openapi('Prediction');

export const PredictResponseSchema = z.object({ ...predictionFields, ...servingFields }).openapi('PredictResponse');

export const BatchPredictResponseSchema = z
  .object({ predictions: z.array(PredictionSchema), ...servingFields })
  .openapi('BatchPredictResponse');

/** RFC 9457 problem details: every error response has this shape (`application/problem+json`). */
export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'urn:retail-mlops:problem:invalid-request', description: 'stable URI per kind of problem' }),
    title: z.string().openapi({ example: 'The request body does not match the schema' }),
    status: z.int().openapi({ example: 422 }),
    detail: z.string().optional().openapi({ example: 'lines.0.QUANTITY: Too small: expected number to be >=1' }),
    instance: z.string().optional().openapi({ example: 'urn:request:3f1e2d7c-0a4b-4c55-9e43-51c1f9b3f2aa' }),
    requestId: z.string().optional(),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .openapi({ description: 'every schema violation (invalid-request only)' }),
  })
  .openapi('Problem');

export const HealthSchema = z.object({ status: z.literal('alive') }).openapi('Health');

export const ReadinessSchema = z
  .object({
    status: z.literal('ready'),
    modelVersion: z.string(),
    featureSpecVersion: z.string(),
    loadedAt: z.string().openapi({ description: 'ISO 8601' }),
  })
  .openapi('Readiness');

export const ReloadResponseSchema = z
  .object({
    changed: z.boolean().openapi({ description: 'false when the reference still resolves to the version being served' }),
    modelVersion: z.string(),
    previousVersion: z.string().nullable(),
    reference: z.string().openapi({ example: 'production' }),
  })
  .openapi('ReloadResult');
