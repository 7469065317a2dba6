import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KvStatus } from '@nats-io/kv';
import { createRegistry } from '../registry/index.js';
import { NATS_BUCKETS, bucketDrift, bucketShapeProblems, revocationTtlSec } from './buckets.js';

const settings = { ACCESS_TOKEN_TTL_SEC: 900, GATEWAY_LEASE_TTL_MS: 15_000 };
const status = (s: { history: number; ttl: number; markerTTL: number }) => s as unknown as KvStatus;

describe('NATS buckets (ADR 0023)', () => {
  it('the table has every bucket of the registry', () => {
    assert.deepEqual(Object.keys(NATS_BUCKETS).sort(), Object.keys(createRegistry('p1').buckets).sort());
  });

  it('limits follow the services\u2019 settings', () => {
    assert.deepEqual(NATS_BUCKETS.revokedSessions(settings), { ttl: 960_000, history: 1 });
    assert.equal(revocationTtlSec(settings), 960);
    assert.deepEqual(NATS_BUCKETS.gateways({ GATEWAY_LEASE_TTL_MS: 500 }), {
      ttl: 500,
      markerTTL: 1_000,
      history: 1,
    });
  });

  it('names each limit that differs, and none when they agree', () => {
    const want = NATS_BUCKETS.gateways(settings);
    assert.deepEqual(bucketDrift(status({ history: 1, ttl: 15_000, markerTTL: 15_000 }), want), []);
    assert.deepEqual(bucketDrift(status({ history: 5, ttl: 3_000, markerTTL: 15_000 }), want), [
      'history 5, want 1',
      'ttl 3000 ms, want 15000 ms',
    ]);
    assert.deepEqual(bucketDrift(status({ history: 1, ttl: 0, markerTTL: 0 }), NATS_BUCKETS.presence()), []);
  });

  it('a stream over other subjects, or fed from or feeding elsewhere, is no bucket of ours', () => {
    const stream = (config: object) => ({ streamInfo: { config } }) as unknown as KvStatus;
    assert.deepEqual(bucketShapeProblems('b', stream({ subjects: ['$KV.b.>'] })), []);
    assert.deepEqual(bucketShapeProblems('b', stream({ subjects: ['$KV.b.>', 'im.live.>'] })), [
      'subjects ["$KV.b.>","im.live.>"], want ["$KV.b.>"]',
    ]);
    assert.deepEqual(
      bucketShapeProblems(
        'b',
        stream({
          subjects: ['$KV.b.>'],
          sources: [{ name: 'LIVE' }],
          republish: { src: '>', dest: 'x.>' },
        }),
      ),
      ['sources', 'a republish'],
    );
    assert.deepEqual(bucketShapeProblems('b', stream({ mirror: { name: 'LIVE' } })), [
      'subjects [], want ["$KV.b.>"]',
      'a mirror of another stream',
    ]);
  });

  it('replicas count only when the provisioning names them', () => {
    const have = { history: 1, ttl: 0, markerTTL: 0, replicas: 1 } as unknown as KvStatus;
    assert.deepEqual(bucketDrift(have, { history: 1 }), []);
    assert.deepEqual(bucketDrift(have, { history: 1, replicas: 3 }), ['replicas 1, want 3']);
  });
});
