/** The manifests' public API: charts, their props, the model pins and rendering. Exports only. */
export * from './environments';
export * from './model-pins';
export * from './api-chart-props';
export * from './api-chart';
export * from './eks-api-chart';
export * from './aks-api-chart';
export * from './monitor-cron-job';
export * from './argo-cd-application-chart';
export * from './deployment-targets';
export * from './render';
export * from './target-settings';
