/** `npm run azure:template`: writes providers/azure/infra/dist/azuredeploy.json from the typed template. */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { renderAzureDeploymentTemplate } from './azure-deployment-template';

export const AZURE_TEMPLATE_FILE = path.join(__dirname, 'dist', 'azuredeploy.json');

if (require.main === module) {
  mkdirSync(path.dirname(AZURE_TEMPLATE_FILE), { recursive: true });
  writeFileSync(AZURE_TEMPLATE_FILE, renderAzureDeploymentTemplate());
  process.stdout.write(`wrote ${path.relative(process.cwd(), AZURE_TEMPLATE_FILE)}\n`);
}
