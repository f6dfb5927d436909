/**
 * One base error class with a stable machine-readable `code`; every failure the project raises on
 * purpose is a subclass. Callers test with `RetailMlopsError.isInstance(error)` (works across
 * package copies) and branch on `code`, never on `message`.
 */
const marker = Symbol.for('retail-mlops.error');

export class RetailMlopsError extends Error {
  /** True for any retail-mlops error, even one thrown by another copy of the package. */
  static isInstance(error: unknown): error is RetailMlopsError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }

  readonly [marker] = true;

  constructor(
    /** Stable identifier, e.g. `INVALID_OPTIONS`; safe to branch on and to show to clients. */
    readonly code: string,
    message: string,
    options?: { readonly cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Options failed validation; `problems` lists every problem found, not just the first. */
export class InvalidOptionsError extends RetailMlopsError {
  constructor(readonly subject: string, readonly problems: readonly string[]) {
    super('INVALID_OPTIONS', `invalid ${subject}: ${problems.join('; ')}`);
  }
}

/** An input file could not be used at all (missing, unreadable, not LGSR). */
export class InputError extends RetailMlopsError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('INPUT_ERROR', message, options);
  }
}

/** The lake on disk is missing or inconsistent with its manifest. */
export class LakeError extends RetailMlopsError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('LAKE_ERROR', message, options);
  }
}

/** Collects option problems and throws them together (CDK style: report everything at once). */
export class ProblemCollector {
  private readonly problems: string[] = [];

  constructor(private readonly subject: string) {}

  check(condition: boolean, problem: string): void {
    if (!condition) this.problems.push(problem);
  }

  throwIfAny(): void {
    if (this.problems.length > 0) throw new InvalidOptionsError(this.subject, this.problems);
  }
}
