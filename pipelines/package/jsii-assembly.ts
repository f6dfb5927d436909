/**
 * Writes the package's `.jsii` assembly: what `projen new --from retail-mlops` reads to find the project
 * type and its options. Part of `npm run compile` (after `tsc`, which writes lib/).
 *
 * jsii checks every dependency of the package it compiles for an assembly of its own, and the runtime's
 * (DuckDB, ONNX Runtime, the cloud SDKs…) have none. So jsii compiles only the project type's entry, in a
 * scratch project whose package.json holds the same name and version and the project type's own peers
 * (projen, constructs: jsii modules), with this repository's source folders linked in; the assembly it
 * writes is copied to the package root. The JavaScript it emits is thrown away (tsc's is the package's).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/** The project type's entry, relative to the repository root. */
export const ASSEMBLY_ENTRY = 'pipelines/project-type/index.ts';
/** What the entry imports from (linked into the scratch project). */
const SOURCE_FOLDERS = ['core', 'providers', 'server', 'manifests', 'pipelines', 'bin'];

interface PackageManifest {
  readonly name: string;
  readonly version: string;
  readonly description?: string;
  readonly license?: string;
  readonly peerDependencies?: Record<string, string>;
}

/** Builds `<root>/.jsii`; throws with jsii's output when it fails. */
export function writeJsiiAssembly(root: string): string {
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as PackageManifest;
  const cacheDirectory = path.join(root, '.cache');
  mkdirSync(cacheDirectory, { recursive: true });
  const scratch = mkdtempSync(path.join(cacheDirectory, 'jsii-assembly-'));
  try {
    const peers = { projen: manifest.peerDependencies?.projen ?? '*', constructs: manifest.peerDependencies?.constructs ?? '^10.5.0' };
    const entryTypes = `lib/${ASSEMBLY_ENTRY.replace(/\.ts$/, '.d.ts')}`;
    writeFileSync(
      path.join(scratch, 'package.json'),
      JSON.stringify(
        {
          name: manifest.name,
          version: manifest.version,
          description: manifest.description,
          author: { name: manifest.name, organization: true },
          repository: { type: 'git', url: `https://github.com/example-org/${manifest.name}.git` },
          license: manifest.license ?? 'UNLICENSED',
          main: entryTypes.replace(/\.d\.ts$/, '.js'),
          types: entryTypes,
          peerDependencies: peers,
          jsii: { outdir: 'dist', targets: {}, tsconfig: 'tsconfig.json', validateTsconfig: 'off' },
        },
        null,
        2,
      ),
    );
    writeFileSync(
      path.join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          rootDir: '.',
          outDir: 'lib',
          declaration: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'ES2022',
          lib: ['es2023'],
          types: ['node'],
          strict: true,
          skipLibCheck: true,
          esModuleInterop: true,
          resolveJsonModule: true,
        },
        include: [ASSEMBLY_ENTRY],
      }),
    );
    for (const folder of ['node_modules', ...SOURCE_FOLDERS]) symlinkSync(path.join(root, folder), path.join(scratch, folder));
    const jsii = spawnSync(path.join(root, 'node_modules', '.bin', 'jsii'), ['--silence-warnings=reserved-word'], { cwd: scratch, encoding: 'utf8' });
    const output = `${jsii.stdout ?? ''}${jsii.stderr ?? ''}`
      .split('\n')
      .filter((line) => !line.startsWith('!!')) // the runtime's end-of-life banner
      .join('\n');
    if (jsii.status !== 0) throw new Error(`jsii failed to build the assembly of ${ASSEMBLY_ENTRY}:\n${output}`);
    const assembly = path.join(root, '.jsii');
    copyFileSync(path.join(scratch, '.jsii'), assembly);
    return assembly;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const assembly = writeJsiiAssembly(process.cwd());
  process.stdout.write(`jsii: wrote ${path.relative(process.cwd(), assembly)}\n`);
}
