export * from './port';
export * from './types';
export * from './errors';
export * from './identity';
