/**
 * How long-running core work reports progress without knowing about terminals. The CLI turns these
 * calls into progress bars on stderr; libraries and tests pass nothing (the silent default).
 */
export interface ProgressReporter {
  /** A new phase begins; `total` in `unit`s when known. */
  start(phase: string, total?: number, unit?: string): void;
  /** Absolute progress within the current phase. */
  update(done: number): void;
  /** The current phase is finished. */
  stop(): void;
}

export const silentProgress: ProgressReporter = {
  start: () => undefined,
  update: () => undefined,
  stop: () => undefined,
};
