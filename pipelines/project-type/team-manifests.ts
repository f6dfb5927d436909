/**
 * A team repository's Kubernetes manifests: the deployment targets from its options
 * (`manifests/deployment-targets.json`, generated), the model pins (`manifests/pins.json`, written once,
 * then rewritten by every promotion), the manifests app (`manifests/app.ts`, `npm run synth:manifests`)
 * and the rendered `manifests/dist/`, which `npx projen`, the app and `promote` all render the same way.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Component, JsonFile, SampleFile, SourceCode, type Project } from 'projen';
import { TEMPLATE_PACKAGE } from './project-settings';
import { environments } from '../../manifests/environments';
import { parseModelPins, serializeModelPins, type ModelPins } from '../../manifests/model-pins';
import { renderManifests, writeRenderedManifestsSync } from '../../manifests/render';
import { DEPLOYMENT_TARGETS_FILE, deploymentTargetsFromSettings, type DeploymentTargetSettings } from '../../manifests/target-settings';

/** The pin of a repository no model was promoted in yet (the first promotion replaces it). */
export const UNPROMOTED_MODEL = 'v-000000000000';

export interface TeamManifestsOptions {
  readonly targets: DeploymentTargetSettings;
}

export class TeamManifests extends Component {
  private readonly targets: DeploymentTargetSettings;
  private readonly initialPins: ModelPins;

  /** Validates every chart's props with placeholder pins (throws `InvalidOptionsError`). */
  constructor(project: Project, options: TeamManifestsOptions) {
    super(project, 'TeamManifests');
    this.targets = options.targets;
    const initialPins = Object.fromEntries(environments.map((environment) => [environment, { model: UNPROMOTED_MODEL }])) as unknown as ModelPins;
    this.initialPins = initialPins;
    renderManifests(initialPins, deploymentTargetsFromSettings(this.targets));

    new JsonFile(project, `manifests/${DEPLOYMENT_TARGETS_FILE}`, { obj: this.targets });
    new SampleFile(project, 'manifests/pins.json', { contents: serializeModelPins(initialPins) });
    const app = new SourceCode(project, 'manifests/app.ts');
    for (const line of [
      `// ${app.marker}`,
      '/**',
      ' * The manifests app: renders manifests/dist/ from manifests/pins.json (rewritten by every promotion) and',
      ' * manifests/deployment-targets.json (rendered from .projenrc.ts). `npx projen` and `retail-mlops promote` render the same.',
      ' */',
      `import { synthesizeManifests } from '${TEMPLATE_PACKAGE}/manifests';`,
      '',
      "synthesizeManifests({ pinsFile: 'manifests/pins.json', outputDirectory: 'manifests/dist' }).then(",
      '  (files) => process.stdout.write(`synth:manifests: wrote ${files.length} files to manifests/dist\\n`),',
      '  (error: unknown) => {',
      '    process.stderr.write(`synth:manifests: ${error instanceof Error ? error.message : String(error)}\\n`);',
      '    process.exitCode = 1;',
      '  },',
      ');',
    ]) app.line(line);
  }

  addTasks(): void {
    this.project.addTask('synth:manifests', { description: 'Renders manifests/dist/ from manifests/pins.json and the deployment targets', exec: 'tsx manifests/app.ts' });
  }

  /**
   * Renders `manifests/dist/` from the pins on disk (a promotion's; a new repository's are the initial
   * ones its pins.json is written with) and the targets of the options. During synthesis, not after it:
   * `projen --no-post` renders them too.
   */
  synthesize(): void {
    const pinsFile = path.join(this.project.outdir, 'manifests', 'pins.json');
    const pins = existsSync(pinsFile) ? parseModelPins(readFileSync(pinsFile, 'utf8'), pinsFile) : this.initialPins;
    writeRenderedManifestsSync(path.join(this.project.outdir, 'manifests', 'dist'), renderManifests(pins, deploymentTargetsFromSettings(this.targets)));
  }
}
