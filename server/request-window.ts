/**
 * A summary of the prediction requests of the last window (`http.window` log events): how many, how
 * many answered 5xx, and latency percentiles. The server logs one per minute instead of one line per
 * request (at 20k requests/s an access log would cost more than the predictions); log-based alerts
 * (the Azure template's p95 latency and 5xx rate rules) read these events, /metrics has the histograms.
 */
import { TELEMETRY_EVENTS } from '../core/monitoring/telemetry';

/** The log event a window is written as (the telemetry contract's). */
export const HTTP_WINDOW_EVENT = TELEMETRY_EVENTS.httpWindow.name;

export interface RequestWindowSummary {
  readonly windowSeconds: number;
  readonly requests: number;
  readonly errors5xx: number;
  /** Latency percentiles in milliseconds (over every request, or a uniform sample beyond `capacity`). */
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export class RequestWindow {
  private readonly durations: Float64Array;
  private requests = 0;
  private errors = 0;
  private max = 0;
  private started: number;
  /** xorshift state for the reservoir sample */
  private state = 0x9e3779b9;

  /** @param capacity durations kept per window; beyond it, a uniform sample of this size (Algorithm R) */
  constructor(
    private readonly now: () => number = () => performance.now(),
    capacity = 65_536,
  ) {
    this.durations = new Float64Array(capacity);
    this.started = now();
  }

  record(durationMs: number, status: number): void {
    const seen = this.requests++;
    if (status >= 500) this.errors += 1;
    if (durationMs > this.max) this.max = durationMs;
    if (seen < this.durations.length) {
      this.durations[seen] = durationMs;
      return;
    }
    const slot = this.random() % (seen + 1);
    if (slot < this.durations.length) this.durations[slot] = durationMs;
  }

  /** The window so far, and a new window begins; undefined when no request came. */
  flush(): RequestWindowSummary | undefined {
    const now = this.now();
    const windowSeconds = Math.round((now - this.started) / 100) / 10;
    this.started = now;
    const requests = this.requests;
    if (requests === 0) return undefined;
    const kept = this.durations.slice(0, Math.min(requests, this.durations.length)).sort();
    const percentile = (share: number): number => round(kept[Math.min(kept.length - 1, Math.ceil(share * kept.length) - 1)]);
    const summary = { windowSeconds, requests, errors5xx: this.errors, p50Ms: percentile(0.5), p95Ms: percentile(0.95), p99Ms: percentile(0.99), maxMs: round(this.max) };
    this.requests = 0;
    this.errors = 0;
    this.max = 0;
    return summary;
  }

  private random(): number {
    let state = this.state;
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    this.state = state >>> 0;
    return this.state;
  }
}

function round(milliseconds: number): number {
  return Math.round(milliseconds * 100) / 100;
}
