import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DelayedCommits } from './delayed-commits.js';

function clock(start = 1_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('DelayedCommits', () => {
  it('an offset is due only after a store write that started a window after its batch succeeded', () => {
    const c = clock();
    const d = new DelayedCommits(20_000, c.now);
    d.handled('cmds', 0, '9');
    c.t += 60_000;
    assert.deepEqual(d.takeDue(), [], 'time alone does not make it due: the store may have lost it');
    d.confirmWrite(1_000 + 19_999);
    assert.deepEqual(d.takeDue(), [], 'a write started less than a window later proves nothing');
    d.confirmWrite(1_000 + 20_000);
    assert.deepEqual(d.takeDue(), [{ topic: 'cmds', partition: 0, offset: '10' }]);
    assert.deepEqual(d.takeDue(), [], 'taken once');
  });

  it('per partition the newest due offset; later batches wait', () => {
    const c = clock();
    const d = new DelayedCommits(10, c.now);
    d.handled('cmds', 0, '4');
    d.handled('my/topic', 1, '7');
    c.t += 5;
    d.handled('cmds', 0, '8');
    c.t += 100;
    d.handled('cmds', 0, '12');
    d.confirmWrite(c.t - 50);
    assert.deepEqual(
      d.takeDue().sort((a, b) => a.topic.localeCompare(b.topic)),
      [
        { topic: 'cmds', partition: 0, offset: '9' },
        { topic: 'my/topic', partition: 1, offset: '8' },
      ],
    );
  });

  it('held: nothing is due until released, and a release forgets what the replay covers', () => {
    const c = clock();
    const d = new DelayedCommits(10, c.now);
    d.handled('cmds', 0, '4');
    d.hold();
    c.t += 100;
    d.confirmWrite(c.t);
    assert.deepEqual(d.takeDue(), []);
    const token = d.releaseToken();
    d.release(token);
    assert.equal(d.held, false);
    assert.deepEqual(d.takeDue(), [], 'replayed from the committed offset: nothing of before is committed');
  });

  it('a hold during a release keeps commits held for its own replay', () => {
    const c = clock();
    const d = new DelayedCommits(10, c.now);
    d.hold();
    const token = d.releaseToken();
    d.hold(); // the store went down again while the replay was being set up
    d.release(token);
    assert.equal(d.held, true);
    d.handled('cmds', 0, '4');
    c.t += 100;
    d.confirmWrite(c.t);
    assert.deepEqual(d.takeDue(), []);
    d.release(d.releaseToken());
    assert.equal(d.held, false);
  });

  it('awaits a write when a batch handled a window ago has no acknowledged write after it: not before, not while held', () => {
    const c = clock();
    const d = new DelayedCommits(20_000, c.now);
    assert.equal(d.awaitsWrite(), false, 'nothing pending');
    d.handled('cmds', 0, '9');
    c.t += 19_999;
    assert.equal(d.awaitsWrite(), false, 'a write now would start too soon to prove anything');
    c.t += 1;
    assert.equal(d.awaitsWrite(), true);
    d.confirmWrite(c.t);
    assert.equal(d.awaitsWrite(), false, 'the write it waited for came');
    assert.deepEqual(d.takeDue(), [{ topic: 'cmds', partition: 0, offset: '10' }]);
    d.handled('cmds', 0, '19');
    c.t += 20_000;
    d.hold();
    assert.equal(d.awaitsWrite(), false, 'held: the batches are replayed, not confirmed');
  });
});
