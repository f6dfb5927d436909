/**
 * Azure DevOps: the Pipelines Runs API, `POST <organization>/<project>/_apis/pipelines/<id>/runs?api-version=7.1`
 * with the branch and the pipeline's declared runtime parameters. The bearer token is an Entra ID
 * token for Azure DevOps from the pod's workload identity (the identity must be a user of the
 * organization with permission to queue the pipeline), or a token from the named variable. Azure
 * DevOps answers 200 with the run (its id and web link).
 */
import { AZURE_DEVOPS_SCOPE, expectStatus, RetrainTriggerError, send, trimSlashes, type ResolvedTriggerDependencies, type RetrainTrigger } from './trigger-http';
import type { AzureDevOpsTriggerSettings } from '../../core/monitoring/settings';

export function azureDevOpsTrigger(settings: AzureDevOpsTriggerSettings, token: string | undefined, dependencies: ResolvedTriggerDependencies): RetrainTrigger {
  const target = `${trimSlashes(settings.organizationUrl)}/${encodeURIComponent(settings.project)}/_apis/pipelines/${settings.pipelineId}`;
  return {
    kind: 'azure-devops',
    target,
    async trigger() {
      let bearer = token;
      if (bearer === undefined) {
        try {
          bearer = await dependencies.azureToken(AZURE_DEVOPS_SCOPE);
        } catch (error) {
          throw new RetrainTriggerError('azure-devops', target, `no token from workload identity: ${(error as Error).message}`, undefined, { cause: error });
        }
      }
      const body = {
        resources: { repositories: { self: { refName: `refs/heads/${settings.branch ?? 'main'}` } } },
        ...(settings.templateParameters ? { templateParameters: settings.templateParameters } : {}),
      };
      const response = await send('azure-devops', target, dependencies, `${target}/runs?api-version=7.1`, {
        method: 'POST',
        headers: { 'authorization': `Bearer ${bearer}`, 'content-type': 'application/json', 'accept': 'application/json' },
        body: JSON.stringify(body),
      });
      await expectStatus('azure-devops', target, response, [200, 201]);
      const run = (await response.json().catch(() => ({}))) as { id?: number; _links?: { web?: { href?: string } } };
      return { status: response.status, ...(run.id !== undefined ? { id: String(run.id) } : {}), ...(run._links?.web?.href ? { location: run._links.web.href } : {}) };
    },
  };
}
