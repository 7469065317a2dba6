import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { messageFixture } from '../domain/message.fixture.js';
import { SequencerState } from './sequencer-state.js';

/** A state over a conversations table that counts its reads (and finds nothing). */
function fresh() {
  const table = { reads: 0, get: async () => void table.reads++ };
  const changes = { latestFrom: async (_id: string, version: number) => version };
  return { state: new SequencerState(table as never, {} as never, changes as never), table };
}

describe('SequencerState', () => {
  it('never moves last_seq, the version or a message back within a generation', async () => {
    const { state, table } = fresh();
    const gen = state.generation;
    const at = (version: number) => ({ message: messageFixture(4, { version }), reactors: new Map() });
    state.advance(gen, 'c', 9, new Map(), new Map());
    state.advanceUpdates(gen, 'c', 7, new Map([[4, at(7)]]));
    // a batch of the same generation that finishes late, with what it saw before the newer one
    state.advance(gen, 'c', 8, new Map(), new Map());
    state.advanceUpdates(gen, 'c', 6, new Map([[4, at(6)]]));
    assert.equal(await state.lastSeq('c'), 9);
    assert.equal(await state.lastVersion('c'), 7);
    assert.equal(state.recentMessage('c', 4)?.message.version, 7);
    assert.equal(table.reads, 0, 'all of it known, none read');
  });

  it('ignores what a batch of an earlier generation learnt', async () => {
    const { state, table } = fresh();
    const before = state.generation;
    state.advance(before, 'c', 3, new Map(), new Map());
    state.clear();
    state.advance(before, 'c', 5, new Map(), new Map());
    state.advance(state.generation, 'd', 2, new Map(), new Map());
    assert.equal(await state.lastSeq('d'), 2);
    assert.equal(await state.lastSeq('c'), 0, 'c is unknown again: read from the table');
    assert.equal(table.reads, 1);
  });
});
