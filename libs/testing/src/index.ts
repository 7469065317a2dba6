export * from './infra.js';
export * from './isolation.js';
export * from './eventually.js';
export * from './paths.js';
export * from './service-process.js';
export * from './platform.js';
export * from './ports.js';
export * from './local-push-service.js';
