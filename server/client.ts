/**
 * The typed client for storefront services: Hono's RPC client (`hc`) typed by the app's routes, so
 * request bodies and responses are checked at compile time against the server's own schemas.
 *
 * ```ts
 * const client = createPredictionClient('https://prices.example.com', { apiKey: process.env.RETAIL_MLOPS_API_KEY! });
 * const response = await client.v1.predict.$post({ json: basket });
 * if (response.ok) console.log((await response.json()).label);
 * ```
 *
 * Only a type is imported from the app: at run time this module needs `hono/client` alone.
 */
import { hc, type ClientRequestOptions } from 'hono/client';
import type { AppType } from './app';

export type { AppType } from './app';
export type { BasketRequest, BatchRequest } from './schemas';

export interface PredictionClientOptions {
  /** Sent as `Authorization: Bearer <apiKey>`. */
  readonly apiKey: string;
  /** @default globalThis.fetch */
  readonly fetch?: ClientRequestOptions['fetch'];
  /** Extra headers on every request (e.g. `X-Request-Id`). @default none */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A client of the prediction API at `baseUrl` (e.g. `http://127.0.0.1:8080`). */
export function createPredictionClient(baseUrl: string, options: PredictionClientOptions) {
  return hc<AppType>(baseUrl, {
    fetch: options.fetch,
    headers: { ...options.headers, authorization: `Bearer ${options.apiKey}` },
  });
}

export type PredictionClient = ReturnType<typeof createPredictionClient>;
