import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStageBuckets, stageTimesBetween } from './stage-times.js';

/**
 * Stage histogram lines as @opentelemetry/exporter-prometheus writes them (the scope label between
 * ours and le; count and sum before the buckets), with other metrics around.
 */
function exposition(read: number[], store: number[]): string {
  const bounds = ['1', '2', '5', '+Inf'];
  const labels = (stage: string) => `stage="${stage}",otel_scope_name="message"`;
  const series = (stage: string, counts: number[]) => [
    `im_message_sequencer_stage_ms_count{${labels(stage)}} ${counts.at(-1)}`,
    `im_message_sequencer_stage_ms_sum{${labels(stage)}} 123.5`,
    ...bounds.map(
      (le, i) => `im_message_sequencer_stage_ms_bucket{${labels(stage)},le="${le}"} ${counts[i]}`,
    ),
  ];
  return [
    '# HELP im_message_sequencer_stage_ms time in each stage',
    '# TYPE im_message_sequencer_stage_ms histogram',
    ...series('read', read),
    ...series('store', store),
    'im_message_sequencer_batch_ms_bucket{le="1"} 999',
    'im_message_sequenced_total 5',
  ].join('\n');
}

describe('sequencer stage times', () => {
  it('gives percentiles per stage of what happened between two readings, interpolated in the bucket', () => {
    const before = parseStageBuckets(exposition([10, 10, 10, 10], [0, 0, 0, 0]));
    // since: read 100 observations, all in (1, 2]; store 98 in (2, 5] and 2 beyond 5
    const after = parseStageBuckets(exposition([10, 110, 110, 110], [0, 0, 98, 100]));
    const times = stageTimesBetween(before, after);
    assert.deepEqual(Object.keys(times).sort(), ['read', 'store']);
    assert.deepEqual(times.read, { count: 100, p50: 1.5, p90: 1.9, p95: 1.95, p99: 1.99 });
    assert.equal(times.store!.count, 100);
    assert.equal(times.store!.p50, 3.53);
    assert.equal(times.store!.p99, 5, 'beyond the last bound reads as the bound');
  });

  it('leaves out stages nothing was observed in (or whose counts went back: a restart), and other metrics', () => {
    const same = parseStageBuckets(exposition([3, 3, 3, 3], [1, 1, 1, 1]));
    assert.deepEqual(stageTimesBetween(same, same), {});
    const restarted = parseStageBuckets(exposition([0, 1, 1, 1], [0, 0, 0, 0]));
    assert.deepEqual(stageTimesBetween(same, restarted), {});
    assert.deepEqual(stageTimesBetween(new Map(), parseStageBuckets('im_message_sequenced_total 5')), {});
  });
});
