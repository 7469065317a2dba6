import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '@im/platform/config';
import { authConfigSchema } from './config.js';

describe('auth configuration defaults', () => {
  it('is closed unless told otherwise: no tenant is made by registering into it, and the default tenant takes invites only', () => {
    const config = loadConfig(authConfigSchema, {
      CASSANDRA_CONTACT_POINTS: '127.0.0.1:9042',
      CASSANDRA_LOCAL_DC: 'datacenter1',
      NATS_URL: 'nats://127.0.0.1:4222',
      AUTH_KEY_ENCRYPTION_KEY: 'k'.repeat(43),
    });
    assert.equal(config.AUTH_ALLOW_TENANT_CREATION, false);
    assert.equal(config.DEFAULT_TENANT_REGISTRATION, 'invite');
  });
});
