/**
 * `npm run synth:manifests` (= `tsx manifests/synth.ts`, run from the repository root): renders
 * `manifests/dist/` from `manifests/pins.json` and `manifests/deployment-targets.ts`. Commit the result;
 * a test fails while the committed files differ from a fresh render.
 */
import * as path from 'node:path';
import { synthesizeManifests } from './render';
import { RetailMlopsError } from '../core/errors';

const manifestsDirectory = path.resolve(process.cwd(), 'manifests');

synthesizeManifests({ pinsFile: path.join(manifestsDirectory, 'pins.json'), outputDirectory: path.join(manifestsDirectory, 'dist') }).then(
  (files) => {
    process.stdout.write(`synth:manifests: wrote ${files.length} files to ${path.relative(process.cwd(), path.join(manifestsDirectory, 'dist'))}\n`);
  },
  (error: unknown) => {
    const code = RetailMlopsError.isInstance(error) ? `${error.code}: ` : '';
    process.stderr.write(`synth:manifests: ${code}${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
