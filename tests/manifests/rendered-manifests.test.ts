/**
 * The committed `manifests/dist/`: identical to a fresh render (fails when stale), deterministic,
 * and every object in it valid for kubernetes-models; the pins and sync policies it carries are the
 * ones pins.json and the environments call for.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Yaml } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clouds,
  environments,
  modelPinChecksum,
  readModelPins,
  registryCloud,
  renderedManifestHeader,
  renderManifests,
  repositoryDeploymentTargets,
  synthesizeManifests,
  type ModelPins,
} from '../../manifests';
import { validateKubernetesObject, type KubernetesObject } from '../helpers/kubernetes-models';

const manifestsDirectory = path.resolve(__dirname, '../../manifests');
const distDirectory = path.join(manifestsDirectory, 'dist');

/** Every file below `directory`, as sorted '/'-separated relative paths. */
async function listFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(directory, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .sort();
}

function objectsIn(relativePath: string): KubernetesObject[] {
  return Yaml.load(path.join(distDirectory, relativePath)).filter((document: unknown) => document !== null) as KubernetesObject[];
}

let pins: ModelPins;
let freshDirectory: string;
beforeAll(async () => {
  pins = await readModelPins(path.join(manifestsDirectory, 'pins.json'));
  freshDirectory = await mkdtemp(path.join(tmpdir(), 'retail-mlops-dist-'));
  await synthesizeManifests({ pinsFile: path.join(manifestsDirectory, 'pins.json'), outputDirectory: freshDirectory });
});
afterAll(async () => {
  await rm(freshDirectory, { recursive: true, force: true });
});

describe('manifests/dist', () => {
  it('is up to date: a fresh render into a temporary directory matches it file for file (else run `npm run synth:manifests`)', async () => {
    const committed = await listFiles(distDirectory);
    const fresh = await listFiles(freshDirectory);
    expect(committed, 'the files in manifests/dist (run `npm run synth:manifests`)').toEqual(fresh);
    for (const file of fresh) {
      const [committedText, freshText] = await Promise.all([readFile(path.join(distDirectory, file), 'utf8'), readFile(path.join(freshDirectory, file), 'utf8')]);
      expect(committedText, `manifests/dist/${file} is stale: run \`npm run synth:manifests\``).toBe(freshText);
    }
  });

  it('renders deterministically', () => {
    expect(renderManifests(pins)).toEqual(renderManifests(pins));
  });

  it('holds one API file per cloud and environment, and their Argo CD Applications', async () => {
    const expected = clouds.flatMap((cloud) =>
      environments.flatMap((environment) => [`${cloud}/${environment}/retail-mlops-api.k8s.yaml`, `${cloud}/argocd/retail-mlops-api-${environment}.k8s.yaml`]),
    );
    expect(await listFiles(distDirectory)).toEqual(expected.sort());
  });

  it('validates every object of every file with kubernetes-models', async () => {
    let count = 0;
    for (const file of await listFiles(distDirectory)) {
      expect((await readFile(path.join(distDirectory, file), 'utf8')).startsWith(renderedManifestHeader), `${file} starts with the generated-file header`).toBe(true);
      for (const object of objectsIn(file)) {
        await validateKubernetesObject(object);
        count += 1;
      }
    }
    expect(count).toBe(clouds.length * environments.length * 11); // 10 API objects + 1 Application per cloud and environment
  });

  it('the validator does reject a malformed object (so a pass means something)', async () => {
    const deployment = objectsIn('eks/dev/retail-mlops-api.k8s.yaml').find((object) => object.kind === 'Deployment')!;
    const spec = deployment.spec as Record<string, unknown>;
    await expect(validateKubernetesObject({ ...deployment, spec: { ...spec, replicas: 'three' } })).rejects.toThrow(/replicas/);
    await expect(validateKubernetesObject({ ...deployment, spec: { ...spec, selector: undefined } })).rejects.toThrow(/selector/);
    await expect(validateKubernetesObject({ apiVersion: 'example.com/v1', kind: 'Widget' })).rejects.toThrow();
  });

  describe.each(clouds.flatMap((cloud) => environments.map((environment) => ({ cloud, environment }))))('$cloud/$environment', ({ cloud, environment }) => {
    it("carries the pin of pins.json and the environment's registry on its own cloud in its ConfigMap and pod template", () => {
      const objects = objectsIn(`${cloud}/${environment}/retail-mlops-api.k8s.yaml`);
      const configMap = objects.find((object) => object.kind === 'ConfigMap') as Record<string, any>;
      const { modelPin } = repositoryDeploymentTargets[cloud](environment, pins[environment]);
      expect(configMap.data).toEqual({ RETAIL_MLOPS_REGISTRY: modelPin.registry, RETAIL_MLOPS_MODEL: pins[environment].model });
      expect(registryCloud(configMap.data.RETAIL_MLOPS_REGISTRY)).toBe(cloud);
      const deployment = objects.find((object) => object.kind === 'Deployment') as Record<string, any>;
      expect(deployment.spec.template.metadata.annotations['checksum/model-pin']).toBe(modelPinChecksum(modelPin));
      expect(deployment.spec).not.toHaveProperty('replicas');
      expect(deployment.spec.template.spec.containers[0].image).toMatch(/^ghcr\.io\/[a-z0-9-]+\/retail-mlops-api:(?!latest$)[\w.-]+$/);
    });

    it(`syncs ${environment === 'production' ? 'by hand' : 'automatically with prune and self-heal'} from manifests/dist/${cloud}/${environment}`, () => {
      const [application] = objectsIn(`${cloud}/argocd/retail-mlops-api-${environment}.k8s.yaml`) as Record<string, any>[];
      expect(application).toMatchObject({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: `retail-mlops-api-${environment}`, namespace: 'argocd' } });
      expect(application.spec.source).toEqual({
        repoURL: repositoryDeploymentTargets.argoCd(cloud, environment).gitRepositoryUrl,
        targetRevision: 'main',
        path: `manifests/dist/${cloud}/${environment}`,
        directory: { recurse: false },
      });
      expect(application.spec.destination).toEqual({ server: 'https://kubernetes.default.svc', namespace: `retail-mlops-${environment}` });
      if (environment === 'production') {
        expect(application.spec.syncPolicy).not.toHaveProperty('automated');
      } else {
        expect(application.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
      }
    });
  });
});
