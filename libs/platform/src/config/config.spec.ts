import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import {
  baseEnv,
  ConfigError,
  describeConfig,
  env,
  kafkaEnv,
  loadConfig,
  natsEnv,
  tenantSetting,
} from './index.js';

const schema = z.object({ ...baseEnv, ...kafkaEnv, ...natsEnv, PUBLIC_PORT: env.port('public port', 8080) });

describe('loadConfig', () => {
  it('parses valid variables and applies defaults', () => {
    const c = loadConfig(schema, { KAFKA_BROKERS: 'a:9092, b:9093', NATS_URL: 'nats://127.0.0.1:4222' });
    assert.deepEqual(c.KAFKA_BROKERS, ['a:9092', 'b:9093']);
    assert.equal(c.PUBLIC_PORT, 8080);
    assert.equal(c.LOG_LEVEL, 'info');
    assert.equal(c.KAFKA_TOPIC_PARTITIONS, 12);
  });

  it('names a missing required variable', () => {
    assert.throws(
      () => loadConfig(schema, { NATS_URL: 'nats://x:1' }),
      (err: unknown) => err instanceof ConfigError && /KAFKA_BROKERS: .*missing/.test(err.message),
    );
  });

  it('names each malformed variable and says what was expected', () => {
    try {
      loadConfig(schema, {
        KAFKA_BROKERS: 'no-port',
        NATS_URL: 'http://x',
        PUBLIC_PORT: 'eighty',
        LOG_LEVEL: 'loud',
      });
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      const names = err.problems.map((p) => p.split(':')[0]).sort();
      assert.deepEqual(names, ['KAFKA_BROKERS', 'LOG_LEVEL', 'NATS_URL', 'PUBLIC_PORT']);
      assert.match(err.message, /PUBLIC_PORT: .*got "eighty"/);
    }
  });

  it('treats an empty variable as unset', () => {
    const c = loadConfig(schema, { KAFKA_BROKERS: 'a:1', NATS_URL: 'nats://x:1', PUBLIC_PORT: '' });
    assert.equal(c.PUBLIC_PORT, 8080);
  });

  it('rejects a port out of range', () => {
    assert.throws(
      () => loadConfig(schema, { KAFKA_BROKERS: 'a:1', NATS_URL: 'nats://x:1', PUBLIC_PORT: '70000' }),
      /PUBLIC_PORT/,
    );
  });
});

describe('describeConfig', () => {
  it('lists every variable with required flag, default and description', () => {
    const rows = describeConfig(schema);
    const kafka = rows.find((r) => r.name === 'KAFKA_BROKERS')!;
    assert.equal(kafka.required, true);
    const port = rows.find((r) => r.name === 'PUBLIC_PORT')!;
    assert.equal(port.required, false);
    assert.equal(port.default, '8080');
    assert.match(port.description, /public port/);
  });
});

describe('tenantSetting', () => {
  it('takes the tenant’s override, else the default', () => {
    assert.equal(tenantSetting('acme=60,globex=0', 'acme', 5), 60);
    assert.equal(tenantSetting('acme=60,globex=0', 'globex', 5), 0);
    assert.equal(tenantSetting('acme=60', 'initech', 5), 5);
    assert.equal(tenantSetting(undefined, 'acme', 5), 5);
  });
});
