import { RetailMlopsError } from '../../core/errors';

/** An emulator could not start, or was used in a way it does not support. */
export class EmulatorError extends RetailMlopsError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('EMULATOR_FAILED', message, options);
  }
}
