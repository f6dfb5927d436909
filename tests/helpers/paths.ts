import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../..');
/** The real four-week LGSR sample (never committed; CI has ../shared beside the clone). */
export const SAMPLE_DIR = path.resolve(REPO_ROOT, '../shared/data/lgsr-sample');
export const SAMPLE_FILES = ['transactions_200607.csv', 'transactions_200609.csv', 'transactions_200610.csv', 'transactions_200611.csv.gz'].map((name) =>
  path.join(SAMPLE_DIR, name),
);

/** A fresh temp directory, removed by the returned function. */
export function temporaryDirectory(prefix = 'retail-mlops-'): { readonly path: string; readonly remove: () => void } {
  const directory = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { path: directory, remove: () => rmSync(directory, { recursive: true, force: true }) };
}
