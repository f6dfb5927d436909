/**
 * Eager validation: invalid props throw one InvalidOptionsError that lists ALL problems (not the
 * first one), before any object is built.
 */
import { App } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { InvalidOptionsError, RetailMlopsError } from '../../core/errors';
import { AksApiChart, ArgoCdApplicationChart, EksApiChart, type AksApiChartProps, type EksApiChartProps } from '../../manifests';

const validEks: EksApiChartProps = {
  environment: 'dev',
  modelPin: { registry: 's3://retail-models/registry', model: 'v-0123456789ab' },
  imageRepository: 'example-org/retail-mlops-api',
  imageTag: '1.2.3',
  host: 'predict.example.com',
  iamRoleArn: 'arn:aws:iam::111122223333:role/retail-mlops-api',
};

const validAks: AksApiChartProps = {
  environment: 'dev',
  modelPin: { registry: 'https://retailmodels.blob.core.windows.net/registry', model: 'v-0123456789ab' },
  imageRepository: 'example-org/retail-mlops-api',
  imageTag: '1.2.3',
  host: 'predict.example.com',
  workloadIdentityClientId: '11111111-2222-3333-4444-555555555555',
  keyVaultCertificateUri: 'https://retail-kv.vault.azure.net/certificates/predict',
};

/** The problems of the InvalidOptionsError `build` throws (fails if it does not throw one). */
function problemsOf(build: () => unknown): readonly string[] {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect(RetailMlopsError.isInstance(error) && error.code).toBe('INVALID_OPTIONS');
    return (error as InvalidOptionsError).problems;
  }
  throw new Error('expected an InvalidOptionsError, nothing was thrown');
}

describe('EksApiChart props', () => {
  it('accepts the valid props', () => {
    expect(() => new EksApiChart(new App(), 'api', validEks)).not.toThrow();
  });

  it('rejects an unpinned image: latest, in any case', () => {
    expect(problemsOf(() => new EksApiChart(new App(), 'api', { ...validEks, imageTag: 'latest' }))).toEqual([
      'imageTag must pin a released version, not "latest" (a moving tag makes a rollout unreproducible)',
    ]);
    expect(problemsOf(() => new EksApiChart(new App(), 'api', { ...validEks, imageTag: 'LATEST' }))).toHaveLength(1);
  });

  it('lists every problem at once', () => {
    const problems = problemsOf(
      () =>
        new EksApiChart(new App(), 'api', {
          ...validEks,
          environment: 'production',
          modelPin: { registry: '/local/registry', model: 'latest' },
          imageRegistry: 'GHCR.IO',
          imageRepository: 'Example/Retail',
          imageTag: 'latest',
          imageDigest: 'md5:abc',
          host: 'not a host',
          namespace: 'Retail_Prod',
          minReplicas: 2,
          maxReplicas: 1,
          targetCpuUtilizationPercent: 150,
          cpuRequestMillicores: 2000,
          cpuLimitMillicores: 1000,
          memoryRequestMebibytes: 0,
          minAvailablePods: 2,
          maxUnavailablePods: 1,
          terminationGracePeriodSeconds: 10,
          preStopSleepSeconds: 10,
          storefrontNamespace: 'Store Front',
          modelStoreCidrs: ['10.0.0.0/33'],
          iamRoleArn: 'role/retail',
          certificateArn: 'arn:aws:acm:eu-west-1:1:certificate/x',
          loadBalancerSourceCidrs: [],
        }),
    );
    expect(problems).toEqual([
      'modelPin.registry must be the s3:// or https://<account>.blob.core.windows.net/ URL of the model registry (a pod has no local registry), got "/local/registry"',
      'modelPin.model must pin a version, not "latest"',
      'imageRegistry must be a registry host such as ghcr.io, got "GHCR.IO"',
      'imageRepository must be a lowercase repository path such as example-org/retail-mlops-api, got "Example/Retail"',
      'imageTag must pin a released version, not "latest" (a moving tag makes a rollout unreproducible)',
      'imageDigest must be sha256: and 64 hex digits, got "md5:abc"',
      'host must be a DNS name such as predict.retail.example.com, got "not a host"',
      'namespace must be a DNS label (lowercase letters, digits, \'-\'), got "Retail_Prod"',
      'maxReplicas (1) must be ≥ minReplicas (2)',
      'production needs minReplicas ≥ 3 (one pod per zone), got 2',
      'targetCpuUtilizationPercent must be a whole number from 1 to 100, got 150',
      'cpuLimitMillicores (1000) must be ≥ cpuRequestMillicores (2000)',
      'memoryRequestMebibytes must be a whole number ≥ 1, got 0',
      'set at most one of minAvailablePods and maxUnavailablePods',
      'minAvailablePods (2) must be below minReplicas (2), or no pod can ever be evicted and node drains block',
      'preStopSleepSeconds (10) must be shorter than terminationGracePeriodSeconds (10), or the server never gets to drain',
      'storefrontNamespace must be a DNS label, got "Store Front"',
      'modelStoreCidrs: "10.0.0.0/33" is not an IPv4 CIDR block',
      'iamRoleArn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), got "role/retail"',
      'certificateArn must be an ACM certificate ARN, got "arn:aws:acm:eu-west-1:1:certificate/x"',
      'loadBalancerSourceCidrs must list at least one CIDR block (the ALB could not reach the pods)',
    ]);
  });

  it('names the chart in the error message', () => {
    expect(() => new EksApiChart(new App(), 'api', { ...validEks, imageTag: 'latest', host: '' })).toThrow(/^invalid EksApiChart props: imageTag .*; host /);
  });

  it('keeps a production deployment at three or more pods and the budget below the minimum', () => {
    expect(problemsOf(() => new EksApiChart(new App(), 'api', { ...validEks, environment: 'production', minReplicas: 1, maxReplicas: 5 }))).toEqual([
      'production needs minReplicas ≥ 3 (one pod per zone), got 1',
      'minAvailablePods (2) must be below minReplicas (1), or no pod can ever be evicted and node drains block',
    ]);
    expect(problemsOf(() => new EksApiChart(new App(), 'api', { ...validEks, maxUnavailablePods: 0 }))).toEqual([
      'maxUnavailablePods must be a whole number ≥ 1 (0 blocks node drains), got 0',
    ]);
  });
});

describe('AksApiChart props', () => {
  it('accepts the valid props', () => {
    expect(() => new AksApiChart(new App(), 'api', validAks)).not.toThrow();
  });

  it('lists every problem at once, common and AKS-specific', () => {
    expect(
      problemsOf(
        () =>
          new AksApiChart(new App(), 'api', {
            ...validAks,
            imageTag: 'latest',
            workloadIdentityClientId: 'my-identity',
            workloadIdentityTenantId: 'tenant',
            keyVaultCertificateUri: 'https://example.com/cert',
            ingressControllerNamespace: 'App Routing',
            additionalHttpsEgressCidrs: ['login.microsoftonline.com'],
          }),
      ),
    ).toEqual([
      'imageTag must pin a released version, not "latest" (a moving tag makes a rollout unreproducible)',
      'additionalHttpsEgressCidrs: "login.microsoftonline.com" is not an IPv4 CIDR block',
      'workloadIdentityClientId must be the managed identity\'s client id (a GUID), got "my-identity"',
      'workloadIdentityTenantId must be a GUID, got "tenant"',
      'keyVaultCertificateUri must be https://<vault>.vault.azure.net/certificates/<name>, got "https://example.com/cert"',
      'ingressControllerNamespace must be a DNS label, got "App Routing"',
    ]);
  });
});

describe('ArgoCdApplicationChart props', () => {
  it('lists every problem at once', () => {
    expect(
      problemsOf(
        () =>
          new ArgoCdApplicationChart(new App(), 'application', {
            cloud: 'gke' as 'eks',
            environment: 'qa' as 'dev',
            gitRepositoryUrl: 'github.com/example-org/retail-mlops',
            gitRevision: '',
            destinationServer: 'http://kubernetes.default.svc',
            argoCdNamespace: 'Argo CD',
          }),
      ),
    ).toEqual([
      'cloud must be one of eks, aks, got "gke"',
      'environment must be one of dev, staging, production, got "qa"',
      'gitRepositoryUrl must be an https://, ssh:// or git@ URL of this repository, got "github.com/example-org/retail-mlops"',
      'gitRevision must be a branch, tag or commit, got ""',
      'destinationServer must be an https:// URL, got "http://kubernetes.default.svc"',
      'argoCdNamespace must be a DNS label, got "Argo CD"',
    ]);
  });
});
