/** The Azure infrastructure's public API: the ARM template built from typed TypeScript. Exports only. */
export { AZURE_TEMPLATE_NAMES, buildAzureDeploymentTemplate, renderAzureDeploymentTemplate } from './azure-deployment-template';
