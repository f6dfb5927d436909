import { AliasConflictError } from './errors';
import type { AliasChange, SetAliasOptions } from './types';

/**
 * The next step of an alias's append-only history, the same for every registry: checks the
 * compare-and-set precondition, and returns the latest change unchanged when the alias already points
 * at the target, or the change to append. Providers differ only in how they append it atomically.
 * @throws AliasConflictError when `expectedCurrent` is given and differs from where the alias points
 */
export function nextAliasChange(
  alias: string,
  history: readonly AliasChange[],
  targetId: string,
  options: SetAliasOptions,
): { readonly changed: false; readonly change: AliasChange } | { readonly changed: true; readonly change: AliasChange } {
  const latest = history.at(-1);
  const current = latest?.to ?? null;
  if (options.expectedCurrent !== undefined && options.expectedCurrent !== current) {
    throw new AliasConflictError(alias, options.expectedCurrent, current);
  }
  if (latest && current === targetId) return { changed: false, change: latest };
  return {
    changed: true,
    change: {
      alias,
      from: current,
      to: targetId,
      actor: options.actor,
      reason: options.reason,
      at: new Date().toISOString(),
      sequence: (latest?.sequence ?? 0) + 1,
    },
  };
}

/** The order of the merged history of all aliases: by time, then alias name, then sequence. */
export function compareAliasChanges(a: AliasChange, b: AliasChange): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  if (a.alias !== b.alias) return a.alias < b.alias ? -1 : 1;
  return a.sequence - b.sequence;
}
