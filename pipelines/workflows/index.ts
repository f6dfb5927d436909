/**
 * The workflows: what the CLI's commands, the pipeline's stages, the benchmarks and a team's own code
 * run — train models, evaluate, gate, batch-score to a file, drift, monitor, promote, the main job.
 * Each takes its inputs (a registry, a lake, an opened environment) and returns a summary; printing
 * is the caller's. The package exports this entry as `retail-mlops/workflows`. Exports only.
 */
export * from './data-source';
export * from './drift-report';
export * from './endpoint-deploy';
export * from './evaluate-model';
export * from './gate-model';
export * from './ingest-inputs';
export * from './input-files';
export * from './main-job';
export * from './model-versions';
export * from './monitor';
export * from './promote-model';
export * from './pull-requests';
export * from './score-to-file';
export * from './train-models';
export * from './training-job';
