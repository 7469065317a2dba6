import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../config/index.js';
import { kafkaAuthFromEnv } from './client.js';

describe('Kafka login from the environment (ADR 0028)', () => {
  it('no user: no SASL and no TLS', () => {
    assert.deepEqual(kafkaAuthFromEnv({}), {});
  });

  it('a user logs in with SCRAM-SHA-512 unless told otherwise', () => {
    assert.deepEqual(kafkaAuthFromEnv({ KAFKA_USERNAME: 'message', KAFKA_PASSWORD: 's3cret' }), {
      sasl: { mechanism: 'scram-sha-512', username: 'message', password: 's3cret' },
    });
    assert.equal(
      kafkaAuthFromEnv({ KAFKA_USERNAME: 'm', KAFKA_PASSWORD: 'p', KAFKA_SASL_MECHANISM: 'plain' }).sasl
        ?.mechanism,
      'plain',
    );
  });

  it('refuses a user without a password and an unknown mechanism, naming the variable and not the secret', () => {
    assert.throws(
      () => kafkaAuthFromEnv({ KAFKA_USERNAME: 'message' }),
      (err) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /KAFKA_PASSWORD/);
        return true;
      },
    );
    assert.throws(() => kafkaAuthFromEnv({ KAFKA_PASSWORD: 'hunter2' }), /KAFKA_USERNAME/);
    assert.throws(() => kafkaAuthFromEnv({ KAFKA_TLS_CA_FILE: '/etc/ca.crt' }), /KAFKA_TLS/);
    assert.throws(
      () =>
        kafkaAuthFromEnv({ KAFKA_USERNAME: 'm', KAFKA_PASSWORD: 'hunter2', KAFKA_SASL_MECHANISM: 'gssapi' }),
      (err: Error) => /KAFKA_SASL_MECHANISM/.test(err.message) && !err.message.includes('hunter2'),
    );
  });

  it('TLS with the system CAs, or with the CA file given', () => {
    assert.deepEqual(kafkaAuthFromEnv({ KAFKA_TLS: 'true' }), { ssl: true });
    const ca = join(mkdtempSync(join(tmpdir(), 'kafka-ca-')), 'ca.crt');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    assert.deepEqual(kafkaAuthFromEnv({ KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: ca }).ssl, {
      ca: ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'],
    });
  });
});
