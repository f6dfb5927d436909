export * from './port';
export * from './types';
export * from './errors';
export * from './identity';
export * from './verify';
export * from './object-store-registry';
export * from './object-lock';
