import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, hintedDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('doubles the ceiling per attempt up to the maximum, with full jitter below it', () => {
    const top = () => 0.999999;
    assert.deepEqual(
      [0, 1, 2, 3, 10].map((a) => backoffDelay(a, { baseMs: 100, maxMs: 1_000 }, top)),
      [99, 199, 399, 799, 999],
    );
    assert.equal(
      backoffDelay(5, { baseMs: 100 }, () => 0),
      0,
    );
    assert.equal(
      backoffDelay(3, { baseMs: 100 }, () => 0.5),
      400,
    );
  });

  it('never overflows for huge attempt counts', () => {
    assert.equal(
      backoffDelay(10_000, { baseMs: 500, maxMs: 30_000 }, () => 0.5),
      15_000,
    );
  });
});

describe('hintedDelay', () => {
  it('waits the hint plus up to half of it at random, and the backoff once hints keep coming', () => {
    const half = () => 0.5;
    assert.equal(
      hintedDelay(1_000, 0, { baseMs: 500 }, () => 0),
      1_000,
    );
    assert.equal(hintedDelay(1_000, 0, { baseMs: 500 }, half), 1_250);
    // the fifth refusal in a row: the backoff (ceiling 8 s, half of it) outgrows the hint
    assert.equal(hintedDelay(1_000, 4, { baseMs: 500 }, half), 4_000);
  });
});
