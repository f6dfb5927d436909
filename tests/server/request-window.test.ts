import { describe, expect, it } from 'vitest';
import { API_KEY, AUTHORIZED } from './harness';
import type { LogFields } from '../../server/logger';
import { startServer } from '../../server/main';
import { HTTP_WINDOW_EVENT, RequestWindow } from '../../server/request-window';
import { servedModelFixture } from '../helpers/served-model';

describe('RequestWindow: one summary of the requests per window', () => {
  it('counts requests and 5xx exactly and gives nearest-rank percentiles, then starts over', () => {
    let now = 1_000;
    const window = new RequestWindow(() => now);
    // durations 1 … 100 ms in a scrambled order; statuses: 3 × 5xx, a 4xx that is not an error
    for (let index = 0; index < 100; index++) window.record(((index * 37) % 100) + 1, index < 3 ? 503 : index === 3 ? 422 : 200);
    now += 60_000;
    expect(window.flush()).toEqual({ windowSeconds: 60, requests: 100, errors5xx: 3, p50Ms: 50, p95Ms: 95, p99Ms: 99, maxMs: 100 });
    now += 60_000;
    expect(window.flush()).toBeUndefined();
    window.record(7, 200);
    expect(window.flush()).toMatchObject({ requests: 1, errors5xx: 0, p50Ms: 7, p95Ms: 7, maxMs: 7 });
  });

  it('beyond its capacity keeps counts and the maximum exact and the percentiles from a uniform sample', () => {
    const window = new RequestWindow(() => 0, 1_000);
    // 100,000 requests, durations uniform in 0 … 100 ms (one slow outlier)
    for (let index = 0; index < 100_000; index++) window.record((index * 7919) % 100_000 / 1_000, 200);
    window.record(5_000, 500);
    const summary = window.flush()!;
    expect(summary).toMatchObject({ requests: 100_001, errors5xx: 1, maxMs: 5_000 });
    expect(summary.p50Ms).toBeGreaterThan(45);
    expect(summary.p50Ms).toBeLessThan(55);
    expect(summary.p95Ms).toBeGreaterThan(92);
    expect(summary.p95Ms).toBeLessThan(98);
  });
});

describe('the server logs an http.window event per interval, for /v1/* requests only', () => {
  it('with the fields the Azure alerts read (requests, errors5xx, p95Ms)', async () => {
    const fixture = await servedModelFixture();
    const events: Array<{ event: string; fields: LogFields }> = [];
    const server = await startServer({
      registry: fixture.registry,
      port: 0,
      host: '127.0.0.1',
      apiKeys: [API_KEY],
      pollIntervalMs: 0,
      requestWindowMs: 60_000,
      logger: { log: (_level, event, fields = {}) => events.push({ event, fields }) },
      environment: {},
    });
    try {
      for (const basket of fixture.baskets.slice(0, 5)) {
        expect((await fetch(`${server.url}/v1/predict`, { method: 'POST', headers: AUTHORIZED, body: JSON.stringify(basket) })).status).toBe(200);
      }
      expect((await fetch(`${server.url}/v1/predict`, { method: 'POST', headers: AUTHORIZED, body: '{' })).status).toBe(400);
      // probes and metrics are not prediction traffic
      for (const route of ['/healthz', '/readyz', '/metrics']) await fetch(`${server.url}${route}`);
    } finally {
      // closing logs the last window
      await server.close();
      fixture.remove();
    }
    const windows = events.filter((entry) => entry.event === HTTP_WINDOW_EVENT);
    expect(windows).toHaveLength(1);
    expect(windows[0].fields).toMatchObject({ requests: 6, errors5xx: 0 });
    for (const field of ['p50Ms', 'p95Ms', 'p99Ms', 'maxMs', 'windowSeconds']) expect(typeof windows[0].fields[field]).toBe('number');
  });
});
