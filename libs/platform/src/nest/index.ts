export * from './tokens.js';
export * from './readiness.js';
export * from './platform.module.js';
