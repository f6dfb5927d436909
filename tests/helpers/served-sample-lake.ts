/**
 * For a describe block: the served-model fixture (its registry copy) and the real sample ingested
 * through the CLI into a scratch lake, set up before its tests and removed after them.
 */
import * as path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { cli } from './cli';
import { SAMPLE_DIR, temporaryDirectory } from './paths';
import { servedModelFixture, type ServedModelFixture } from './served-model';

export interface ServedSampleLake {
  /** The fixture (available once the block's tests run). */
  readonly fixture: () => ServedModelFixture;
  readonly lake: string;
  /** A scratch directory for the block's files (removed with the lake). */
  readonly scratch: string;
}

export function useServedModelAndSampleLake(): ServedSampleLake {
  const scratch = temporaryDirectory();
  const lake = path.join(scratch.path, 'lake');
  let fixture: ServedModelFixture | undefined;
  beforeAll(async () => {
    fixture = await servedModelFixture();
    expect((await cli(['ingest', SAMPLE_DIR, '--lake', lake, '--quiet'])).code).toBe(0);
  });
  afterAll(() => {
    fixture?.remove();
    scratch.remove();
  });
  return { fixture: () => fixture!, lake, scratch: scratch.path };
}
