/** The AWS infrastructure's public API (a team's CDK app builds its stacks from it). Exports only. */
export { FEATURE_FLAGS, createRetailMlopsApp, type RetailMlopsAppOptions } from './app';
export { RetailMlopsStack, type RetailMlopsStackProps } from './retail-mlops-stack';
export * from './environments';
