export * from './metrics';
export * from './gate';
export * from './report';
export { heatmapColor } from './svg-charts';
