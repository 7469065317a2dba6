import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServiceProcess, TEST_KEY_ENCRYPTION_KEY } from '@im/testing';

async function failsWith(env: Record<string, string>): Promise<{ code: number | null; problems: string[] }> {
  const proc = ServiceProcess.spawn('auth', { env });
  const exit = await proc.exited;
  const fatal = proc.logs.find((l) => l.level === 'fatal');
  assert.ok(fatal, `a fatal line on stderr, got: ${proc.tail()}`);
  return { code: exit.code, problems: fatal.problems as string[] };
}

describe('auth configuration', () => {
  const valid = {
    CASSANDRA_CONTACT_POINTS: '127.0.0.1:9042',
    CASSANDRA_LOCAL_DC: 'datacenter1',
    NATS_URL: 'nats://127.0.0.1:4222',
    AUTH_KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
  };

  it('stops with exit 78 and names a missing required variable', async () => {
    const { CASSANDRA_CONTACT_POINTS: _, ...missing } = valid;
    const { code, problems } = await failsWith(missing);
    assert.equal(code, 78);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^CASSANDRA_CONTACT_POINTS: .*missing/);
  });

  it('names every malformed variable', async () => {
    const { code, problems } = await failsWith({
      ...valid,
      GRPC_PORT: 'fifty',
      NATS_URL: 'http://nats',
      LOG_LEVEL: 'chatty',
    });
    assert.equal(code, 78);
    assert.deepEqual(problems.map((p) => p.split(':')[0]).sort(), ['GRPC_PORT', 'LOG_LEVEL', 'NATS_URL']);
    assert.match(
      problems.find((p) => p.startsWith('GRPC_PORT'))!,
      /got "fifty"/,
    );
  });

  it('refuses to keep signing keys in clear unless told so, and never echoes a secret it refuses', async () => {
    const { AUTH_KEY_ENCRYPTION_KEY: _, ...noKey } = valid;
    const missing = await failsWith(noKey);
    assert.equal(missing.code, 78);
    assert.match(missing.problems.join('\n'), /^AUTH_KEY_ENCRYPTION_KEY: required/m);

    const secret = 'hunter2-this-is-a-real-secret-value';
    // a mail server's password with "/" and a space makes the URL malformed, and must not show
    const smtp = 'smtp://im:pa ss/w@rd@mail.example:587';
    const bad = await failsWith({
      ...valid,
      AUTH_KEY_ENCRYPTION_KEY: secret,
      AUTH_OPERATOR_TOKEN: 'short',
      SMTP_URL: smtp,
    });
    const text = bad.problems.join('\n');
    assert.match(text, /AUTH_KEY_ENCRYPTION_KEY: .*got a value of 35 characters/);
    assert.match(text, /AUTH_OPERATOR_TOKEN: .*got a value of 5 characters/);
    assert.match(text, /SMTP_URL: .*got a value of 37 characters/);
    assert.ok(!text.includes(secret) && !text.includes('"short"') && !text.includes('ss/w'), text);
    // TLS follows SMTP_REQUIRE_TLS: nodemailer would let ?ignoreTLS=true in the URL override it
    const plain = await failsWith({ ...valid, SMTP_URL: 'smtp://mail.example:587?ignoreTLS=true' });
    assert.match(plain.problems.join('\n'), /SMTP_URL: .*without query parameters/);
  });
});
