import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServiceProcess } from '@im/testing';

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
});
