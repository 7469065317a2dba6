import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedTokenBuckets, TokenBucket } from './index.js';

describe('TokenBucket', () => {
  it('allows a burst, then one request per 1/rate seconds', () => {
    const b = new TokenBucket(10, 3, 0);
    assert.equal(b.take(0), 0);
    assert.equal(b.take(0), 0);
    assert.equal(b.take(0), 0);
    assert.equal(b.take(0), 100, 'the fourth waits 100 ms');
    assert.equal(b.take(50), 50);
    assert.equal(b.take(100), 0, 'a token came back after 100 ms');
  });

  it('never holds more than the burst', () => {
    const b = new TokenBucket(100, 2, 0);
    assert.equal(b.isFull(10_000), true);
    b.take(10_000);
    b.take(10_000);
    assert.ok(b.take(10_000) > 0);
  });
});

describe('KeyedTokenBuckets', () => {
  it('keeps one bucket per key, drops full ones on sweep, and the oldest past maxKeys', () => {
    const b = new KeyedTokenBuckets(1, 2, 3);
    assert.equal(b.take('a', 0), 0);
    assert.equal(b.take('a', 0), 0);
    assert.equal(b.take('a', 0), 1000, 'a is empty: wait a second');
    assert.equal(b.take('b', 0), 0, 'b has its own bucket');
    b.sweep(10_000);
    assert.equal(b.size, 0, 'refilled buckets are dropped');
    for (const k of ['x', 'y', 'z', 'w']) b.take(k, 20_000);
    assert.equal(b.size, 3);
  });
});
