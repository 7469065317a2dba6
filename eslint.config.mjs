import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Which kind of project may import which (Nx tags in each package.json). Services only reach
// each other over gRPC/NATS/Kafka: a service importing another service fails here.
const depConstraints = [
  { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'type:platform', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts'] },
  { sourceTag: 'type:sdk', onlyDependOnLibsWithTags: ['type:contracts'] },
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:sdk', 'type:contracts'] },
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', 'type:sdk'] },
  {
    sourceTag: 'type:service',
    onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', 'type:testing'],
  },
  {
    sourceTag: 'type:e2e',
    onlyDependOnLibsWithTags: ['type:testing', 'type:sdk', 'type:contracts', 'type:platform'],
  },
  // the platform's names (registry): load scenarios that seed through Kafka address the real topics
  {
    sourceTag: 'type:load-test',
    onlyDependOnLibsWithTags: ['type:testing', 'type:sdk', 'type:contracts', 'type:platform'],
  },
  { sourceTag: 'scope:shared', notDependOnLibsWithTags: ['type:service'] },
  ...['gateway', 'auth', 'presence', 'message', 'media', 'notification'].map((s) => ({
    sourceTag: `scope:${s}`,
    onlyDependOnLibsWithTags: [`scope:${s}`, 'scope:shared'],
  })),
];

export default [
  {
    ignores: ['**/dist/**', '**/node_modules/**', '.cache/**', '.run/**', '.nx/**', 'libs/proto/src/gen/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['apps/web/src/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': ['error', { depConstraints, enforceBuildableLibDependency: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-unsafe-function-type': 'off',
    },
  },
  prettier,
];
