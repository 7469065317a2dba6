export * from './client.js';
export * from './migrations.js';
export * from './roles.js';
export * from './group-commit.js';
