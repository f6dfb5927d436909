/**
 * The prediction API's container image, as a projen component: a multi-stage `Dockerfile` and its
 * `.dockerignore`, both generated (marked "do not edit") from `.projenrc.ts`.
 *
 * - build stage: `npm ci` (all dependencies) and `npx tsc -p tsconfig.json`, which compiles to lib/;
 * - runtime stage: production dependencies only (`npm ci --omit=dev`, no CUDA download), lib/ from
 *   the build stage, owned by root and run as an unprivileged uid, `retail-mlops serve` as the
 *   default command, a HEALTHCHECK on /healthz done with node (the slim image has no curl).
 */
import { Component, FileBase, IgnoreFile, type Project } from 'projen';
import { ProblemCollector } from '../core/errors';
import { SERVER_DEFAULTS, SERVER_VARIABLES } from '../server/settings';

export interface ContainerImageOptions {
  /**
   * The Node.js base image of both stages, pinned by tag (`latest` and untagged are rejected).
   * @default 'node:24-slim'
   */
  readonly baseImage?: string;

  /**
   * The uid (and gid) the server runs as; never 0. Kubernetes' `runAsUser` uses the same number.
   * @default 10001
   */
  readonly userId?: number;

  /**
   * The port the server listens on (`PORT`), exposed and health-checked (server/settings.ts).
   * @default 8080
   */
  readonly port?: number;

  /**
   * The compiled CLI entry, relative to the image's working directory: `lib/…` in the template,
   * `node_modules/retail-mlops/lib/…` in a team repository (the installed package's CLI).
   * @default 'lib/bin/retail-mlops.js'
   */
  readonly entrypoint?: string;

  /**
   * The default arguments: the sub-command the container runs.
   * @default ['serve']
   */
  readonly command?: readonly string[];

  /**
   * The path the HEALTHCHECK requests (it must answer 2xx while the process is alive).
   * @default '/healthz'
   */
  readonly healthCheckPath?: string;
}

/** Renders `Dockerfile` and `.dockerignore`; validates its options eagerly (all problems at once). */
export class ContainerImage extends Component {
  readonly baseImage: string;
  readonly userId: number;
  readonly port: number;
  readonly dockerfile: FileBase;
  readonly dockerignore: IgnoreFile;

  constructor(project: Project, options: ContainerImageOptions = {}) {
    super(project);
    const problems = new ProblemCollector('ContainerImage options');
    this.baseImage = options.baseImage ?? 'node:24-slim';
    // the tag follows the last ':' after the last '/' (a ':' before it belongs to a registry port)
    const tagSeparator = this.baseImage.lastIndexOf(':');
    const tag = tagSeparator > this.baseImage.lastIndexOf('/') ? this.baseImage.slice(tagSeparator + 1) : undefined;
    problems.check(
      tag !== undefined && /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag),
      `baseImage must be pinned by tag (e.g. node:24-slim), got ${JSON.stringify(this.baseImage)}`,
    );
    problems.check(tag?.toLowerCase() !== 'latest', 'baseImage must not use the tag "latest"');
    this.userId = options.userId ?? 10001;
    problems.check(Number.isInteger(this.userId) && this.userId > 0, `userId must be a whole number above 0 (never root), got ${this.userId}`);
    this.port = options.port ?? SERVER_DEFAULTS.port;
    problems.check(Number.isInteger(this.port) && this.port >= 1024 && this.port <= 65535, `port must be an unprivileged port (1024–65535), got ${this.port}`);
    const entrypoint = options.entrypoint ?? 'lib/bin/retail-mlops.js';
    problems.check(/^(node_modules\/[\w.-]+\/)?lib\/[\w./-]+\.js$/.test(entrypoint), `entrypoint must be a .js file below lib/ or a package's lib/, got ${JSON.stringify(entrypoint)}`);
    const command = options.command ?? ['serve'];
    const healthCheckPath = options.healthCheckPath ?? '/healthz';
    problems.check(/^\/[\w./-]*$/.test(healthCheckPath), `healthCheckPath must be a URL path, got ${JSON.stringify(healthCheckPath)}`);
    problems.throwIfAny();

    const healthCheck =
      `fetch('http://127.0.0.1:'+(process.env.${SERVER_VARIABLES.port}||${this.port})+'${healthCheckPath}',{signal:AbortSignal.timeout(2500)})` +
      '.then((response)=>process.exit(response.ok?0:1),()=>process.exit(1))';
    const lines = [
      '# The prediction API image: `retail-mlops serve` on port ' + `${this.port} as uid ${this.userId}.`,
      '#   docker build -t ghcr.io/<org>/retail-mlops-api:<version> .',
      '',
      '# build: every dependency, then the TypeScript compiled to lib/',
      `FROM ${this.baseImage} AS build`,
      'WORKDIR /app',
      // onnxruntime-node downloads CUDA binaries at install unless told not to
      'ENV ONNXRUNTIME_NODE_INSTALL=skip',
      'COPY package.json package-lock.json .npmrc ./',
      'RUN npm ci --no-audit --no-fund',
      'COPY . .',
      'RUN npx tsc -p tsconfig.json',
      '',
      '# runtime: production dependencies and lib/ only, owned by root, run unprivileged',
      `FROM ${this.baseImage} AS runtime`,
      `ENV NODE_ENV=production ONNXRUNTIME_NODE_INSTALL=skip ${SERVER_VARIABLES.port}=${this.port}`,
      'WORKDIR /app',
      'COPY package.json package-lock.json .npmrc ./',
      'RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force',
      'COPY --from=build /app/lib ./lib',
      `USER ${this.userId}:${this.userId}`,
      `EXPOSE ${this.port}`,
      `HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ${JSON.stringify(['node', '-e', healthCheck])}`,
      `ENTRYPOINT ${JSON.stringify(['node', entrypoint])}`,
      `CMD ${JSON.stringify([...command])}`,
    ];
    this.dockerfile = new DockerfileFile(project, 'Dockerfile', lines);

    this.dockerignore = new IgnoreFile(project, '.dockerignore', { filterCommentLines: false, filterEmptyLines: false });
    this.dockerignore.addPatterns(
      '# the build context: sources and lockfile only (the image installs its own node_modules)',
      '**/node_modules',
      'lib',
      '.git',
      'tests',
      'manifests/dist',
      '.lake',
      '.registry',
      '.cache',
      'out',
      'coverage',
      '*.log',
      '*.tsbuildinfo',
      '# never send secrets to a build',
      '.env',
      '.env.*',
      '*.pem',
      '*.key',
      'Dockerfile',
      '.dockerignore',
    );
  }
}

/** A Dockerfile: the projen marker as its first comment, then the lines. */
class DockerfileFile extends FileBase {
  constructor(
    project: Project,
    filePath: string,
    private readonly lines: readonly string[],
  ) {
    super(project, filePath);
  }

  protected synthesizeContent(): string {
    const header = this.marker ? [`# ${this.marker}`] : [];
    return `${[...header, ...this.lines].join('\n')}\n`;
  }
}
