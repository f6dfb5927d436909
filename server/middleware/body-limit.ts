import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnvironment } from '../app-environment';
import { ProblemException } from '../problems';

/**
 * Body size: a Content-Length over the limit is refused before reading (Node's parser holds the body
 * to its Content-Length); a chunked body is counted as it streams (Hono's bodyLimit). The header
 * check matters for speed too: touching `c.req.raw.body` would build a full WHATWG Request.
 */
export function limitBody(maxBytes: number): MiddlewareHandler<AppEnvironment> {
  const tooLarge = (): never => {
    throw new ProblemException('payload-too-large', { detail: `the body exceeds ${maxBytes} bytes` });
  };
  const streaming = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async (c, next) => {
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(length) > maxBytes) tooLarge();
      return next();
    }
    return streaming(c, next);
  };
}
