/**
 * Fault injection for the cloud emulators: "answer the next N requests (of one operation) with this
 * error", so tests can show what the providers do with a 403, a missing resource, throttling or an
 * outage. Set in process (`failNext`) or over HTTP by `POST /_emulator/fail-next` with a JSON body
 * `{ "count": 2, "status": 503, "code": "ServiceUnavailable", "operation": "DescribeTrainingJob" }`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EmulatorError } from './errors';
import { readRequestBody } from './http';

/** The path of the admin route every emulator server answers. */
export const FAIL_NEXT_PATH = '/_emulator/fail-next';

export interface Fault {
  /** The HTTP status, e.g. 403, 404, 429, 500, 503. */
  readonly status: number;
  /** The service's error code, e.g. `AccessDeniedException`, `ThrottlingException`, `AuthorizationFailed`. */
  readonly code: string;
  /** @default - a message naming the code */
  readonly message?: string;
  /**
   * Only requests of this operation fail (e.g. `CreateTrainingJob`, `PUT jobs`); others pass.
   * @default - any request
   */
  readonly operation?: string;
  /**
   * Seconds to put in a Retry-After header.
   * @default - none
   */
  readonly retryAfterSeconds?: number;
}

export class FaultQueue {
  private readonly queue: { fault: Fault; remaining: number }[] = [];

  /** The next `count` matching requests fail with `fault`; a count of 0 clears every queued fault. */
  failNext(count: number, fault: Fault): void {
    if (count === 0) {
      this.queue.length = 0;
      return;
    }
    const problems = faultProblems(count, fault);
    if (problems.length > 0) throw new EmulatorError(`invalid fault: ${problems.join('; ')}`);
    this.queue.push({ fault, remaining: count });
  }

  /** The fault a request of `operation` gets (and counts it), or undefined. */
  take(operation: string): Fault | undefined {
    const entry = this.queue.find((candidate) => candidate.fault.operation === undefined || candidate.fault.operation === operation);
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.queue.splice(this.queue.indexOf(entry), 1);
    return entry.fault;
  }

  /**
   * Answers `POST /_emulator/fail-next` and returns true; returns false for any other request
   * (which the server then handles itself).
   */
  async handleAdminRequest(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    if (!request.url?.startsWith(FAIL_NEXT_PATH)) return false;
    const reply = (status: number, body: object): void => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'POST') {
      reply(405, { error: `${FAIL_NEXT_PATH} takes POST` });
      return true;
    }
    let body: { count?: unknown } & Record<string, unknown>;
    try {
      body = JSON.parse((await readRequestBody(request)).toString('utf8')) as typeof body;
    } catch {
      reply(400, { error: 'the body must be JSON: {"count", "status", "code", "message"?, "operation"?, "retryAfterSeconds"?}' });
      return true;
    }
    const fault: Fault = {
      status: body.status as number,
      code: body.code as string,
      ...(body.message !== undefined ? { message: body.message as string } : {}),
      ...(body.operation !== undefined ? { operation: body.operation as string } : {}),
      ...(body.retryAfterSeconds !== undefined ? { retryAfterSeconds: body.retryAfterSeconds as number } : {}),
    };
    const problems = faultProblems(body.count, fault);
    if (problems.length > 0) {
      reply(400, { error: problems.join('; ') });
      return true;
    }
    this.queue.push({ fault, remaining: body.count as number });
    reply(200, { queued: body.count, fault });
    return true;
  }
}

function faultProblems(count: unknown, fault: Fault): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(count) || (count as number) < 1) problems.push(`count must be a positive integer, got ${JSON.stringify(count)}`);
  if (!Number.isInteger(fault?.status) || fault.status < 400 || fault.status > 599) problems.push(`status must be an HTTP error status (400–599), got ${JSON.stringify(fault?.status)}`);
  if (typeof fault?.code !== 'string' || !/^[A-Za-z][\w.]*$/.test(fault.code)) problems.push(`code must be an error code such as ThrottlingException, got ${JSON.stringify(fault?.code)}`);
  if (fault?.message !== undefined && typeof fault.message !== 'string') problems.push('message must be a string');
  if (fault?.operation !== undefined && typeof fault.operation !== 'string') problems.push('operation must be a string');
  if (fault?.retryAfterSeconds !== undefined && !(Number.isInteger(fault.retryAfterSeconds) && fault.retryAfterSeconds >= 0)) problems.push('retryAfterSeconds must be an integer ≥ 0');
  return problems;
}
