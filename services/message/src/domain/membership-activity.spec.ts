import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  copiedUnread,
  copiesActivity,
  listPage,
  maybeUnread,
  withoutCopy,
  type MembershipActivity,
} from './membership-activity.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

const memberships: MembershipActivity[] = [
  { conversationId: 'a', readSeq: 3, activitySeq: 3, activityAt: at(10) },
  { conversationId: 'b', readSeq: 1, activitySeq: 4, activityAt: at(30) },
  { conversationId: 'c', readSeq: 0 }, // a channel: no copy
  { conversationId: 'd', readSeq: 0, activitySeq: 2, activityAt: at(30) },
  { conversationId: 'e', readSeq: 9 }, // no copy, and its row is gone
];

describe('membership activity copies', () => {
  it('channels get no copy; direct conversations and groups do', () => {
    assert.deepEqual((['direct', 'group', 'channel'] as const).map(copiesActivity), [true, true, false]);
  });

  it('only memberships without a copy need their row to be placed', () => {
    assert.deepEqual(withoutCopy(memberships), ['c', 'e']);
  });

  it('a sync without cursors reads the rows of copies past the read marker and of those without one', () => {
    assert.deepEqual(maybeUnread(memberships), ['b', 'c', 'd', 'e']);
  });

  it('unread counts from the copies never go below zero', () => {
    assert.deepEqual(memberships.map(copiedUnread), [0, 3, 0, 2, 0]);
    assert.equal(copiedUnread({ conversationId: 'x', readSeq: 8, activitySeq: 5, activityAt: at(1) }), 0);
  });

  it('pages by latest activity, ties by id, rows read for those without a copy, missing rows left out', () => {
    const rows = new Map([['c', at(20)]]);
    const first = listPage(memberships, rows, undefined, 2);
    assert.deepEqual(
      first.page.map((p) => p.id),
      ['b', 'd'],
    );
    assert.equal(first.hasMore, true);
    const second = listPage(memberships, rows, first.page[1], 2);
    assert.deepEqual(
      second.page.map((p) => p.id),
      ['c', 'a'],
    );
    assert.equal(second.hasMore, false);
    assert.deepEqual(listPage(memberships, rows, second.page[1], 2), { page: [], hasMore: false });
  });

  it('a cursor past every position gives an empty last page', () => {
    assert.deepEqual(listPage(memberships, new Map(), { activityMs: 0, id: 'zz' }, 5), {
      page: [],
      hasMore: false,
    });
  });
});
