/**
 * Screenshots of the self-contained HTML reports in Debian's headless Chromium (bin/setup installs it;
 * without it the screenshot tests skip locally but fail in CI), read back as pixels.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';

const run = promisify(execFile);

export const CHROMIUM = process.env.RETAIL_MLOPS_CHROMIUM ?? '/usr/bin/chromium';

/** Whether the screenshot tests run: Chromium is there, or this is CI (where its absence is a failure). */
export const chromiumAvailable = existsSync(CHROMIUM) || Boolean(process.env.CI);

export interface Screenshot {
  readonly image: PNG;
  /** Bytes of the PNG file. */
  readonly bytes: number;
}

/**
 * Opens `file` in headless Chromium (no network, a throwaway profile) and screenshots `width` × `height`;
 * with RETAIL_MLOPS_KEEP_SCREENSHOT set, the PNG is copied there too.
 */
export async function screenshotPage(file: string, width: number, height: number): Promise<Screenshot> {
  const profile = await mkdtemp(path.join(tmpdir(), 'retail-mlops-chromium-'));
  const screenshot = path.join(profile, 'page.png');
  try {
    await run(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        `--screenshot=${screenshot}`,
        `--window-size=${width},${height}`,
        `file://${file}`,
      ],
      { timeout: 90_000 },
    );
    if (process.env.RETAIL_MLOPS_KEEP_SCREENSHOT) await copyFile(screenshot, process.env.RETAIL_MLOPS_KEEP_SCREENSHOT);
    return { image: PNG.sync.read(await readFile(screenshot)), bytes: (await stat(screenshot)).size };
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}
