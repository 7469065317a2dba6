import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '@im/platform/errors';
import { bucketOf } from './bucketing.js';
import { compareByActivity, decodeCursor, encodeCursor } from './conversation-cursor.js';
import {
  assertMayAdd,
  assertMayRemove,
  assertMayWrite,
  directPairKey,
  mayChangeSettings,
  newConversationMembers,
  validateSettings,
} from './conversation-rules.js';
import type { Role } from './conversation-rules.js';
import { validateSend } from './message-rules.js';

const code = (fn: () => unknown) => {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return err instanceof AppError ? err.code : 'other';
  }
};
const limits = { groupMaxMembers: 5, channelMaxMembers: 10 };

describe('conversation rules', () => {
  it('direct conversations have exactly one other member; the caller is dropped from the list', () => {
    assert.deepEqual(newConversationMembers('direct', 'me', ['me', 'you', 'you'], limits), ['you']);
    assert.equal(
      code(() => newConversationMembers('direct', 'me', ['a', 'b'], limits)),
      'invalid_argument',
    );
    assert.equal(
      code(() => newConversationMembers('direct', 'me', ['me'], limits)),
      'invalid_argument',
    );
    assert.equal(
      code(() => newConversationMembers('party', 'me', [], limits)),
      'invalid_argument',
    );
    assert.equal(
      code(() => newConversationMembers('group', 'me', ['a', 'b', 'c', 'd', 'e'], limits)),
      'invalid_argument',
    );
  });

  it('the direct pair key does not depend on who asks', () => {
    assert.equal(directPairKey('b', 'a'), directPairKey('a', 'b'));
  });

  it('roles decide who may add and remove', () => {
    assert.equal(
      code(() => assertMayAdd('group', 'o', 'owner', ['x'], 'admin')),
      'ok',
    );
    assert.equal(
      code(() => assertMayAdd('group', 'a', 'admin', ['x'], 'member')),
      'ok',
    );
    assert.equal(
      code(() => assertMayAdd('group', 'a', 'admin', ['x'], 'admin')),
      'forbidden',
    );
    assert.equal(
      code(() => assertMayAdd('group', 'm', 'member', ['x'], 'member')),
      'forbidden',
    );
    assert.equal(
      code(() => assertMayAdd('group', 'n', undefined, ['x'], 'member')),
      'not_found',
    );
    assert.equal(
      code(() => assertMayAdd('channel', 'n', undefined, ['n'], 'member')),
      'ok',
      'anyone joins a channel',
    );
    assert.equal(
      code(() => assertMayAdd('direct', 'o', 'owner', ['x'], 'member')),
      'forbidden',
    );

    assert.equal(
      code(() => assertMayRemove('group', 'm', 'member', 'm', 'member')),
      'ok',
      'leave',
    );
    assert.equal(
      code(() => assertMayRemove('group', 'm', 'member', 'x', 'member')),
      'forbidden',
    );
    assert.equal(
      code(() => assertMayRemove('group', 'a', 'admin', 'x', 'member')),
      'ok',
    );
    assert.equal(
      code(() => assertMayRemove('group', 'a', 'admin', 'b', 'admin')),
      'forbidden',
    );
    assert.equal(
      code(() => assertMayRemove('group', 'o', 'owner', 'o', 'owner')),
      'ok',
      'the owner leaves (handing over, or closing as the last member)',
    );
    assert.equal(
      code(() => assertMayRemove('group', 'a', 'admin', 'o', 'owner')),
      'forbidden',
      'nobody removes the owner',
    );
    assert.equal(
      code(() => assertMayRemove('group', 'n', undefined, 'x', 'member')),
      'not_found',
    );
  });
});

describe('message rules', () => {
  const ok = { conversationId: 'c-1', clientMsgId: 'cm-1', text: 'hi', attachments: [] };
  it('accepts a plain message and names each bad field', () => {
    assert.equal(
      code(() => validateSend(ok, 10)),
      'ok',
    );
    assert.equal(
      code(() => validateSend({ ...ok, text: 'x'.repeat(11) }, 10)),
      'invalid_argument',
    );
    assert.equal(
      code(() => validateSend({ ...ok, text: '   ' }, 10)),
      'invalid_argument',
    );
    assert.equal(
      code(() => validateSend({ ...ok, clientMsgId: '' }, 10)),
      'invalid_argument',
    );
    assert.equal(
      code(() => validateSend({ ...ok, clientMsgId: 'has space' }, 10)),
      'invalid_argument',
    );
  });

  it('counts characters, not UTF-16 units', () => {
    assert.equal(
      code(() => validateSend({ ...ok, text: '😀'.repeat(10) }, 10)),
      'ok',
    );
  });
});

describe('bucketing and cursors', () => {
  it('puts 1000 consecutive seqs in a bucket', () => {
    assert.deepEqual([0, 1, 999, 1000, 2500].map(bucketOf), [0, 0, 0, 1, 2]);
  });

  it('round-trips cursors and rejects foreign ones', () => {
    const c = encodeCursor({ activityMs: 1_700_000_000_000, id: 'abc-1' });
    assert.deepEqual(decodeCursor(c), { activityMs: 1_700_000_000_000, id: 'abc-1' });
    assert.equal(
      code(() => decodeCursor('garbage!')),
      'invalid_argument',
    );
    assert.ok(compareByActivity({ activityMs: 2, id: 'a' }, { activityMs: 1, id: 'a' }) < 0, 'newest first');
  });
});

describe('conversation settings', () => {
  const invalid = (err: unknown) => err instanceof AppError && err.code === 'invalid_argument';

  it('needs at least one field; trims the topic; keeps newlines but refuses other control characters', () => {
    assert.throws(() => validateSettings({}), invalid);
    assert.deepEqual(validateSettings({ topic: '  line one\nline two ' }), { topic: 'line one\nline two' });
    assert.throws(() => validateSettings({ topic: 'bell\u0007' }), invalid);
    assert.throws(() => validateSettings({ topic: 'x'.repeat(1_001) }), invalid);
    assert.deepEqual(validateSettings({ archived: false }), { archived: false });
  });

  it('admins and the owner of groups and channels change them; nobody in a direct conversation', () => {
    assert.equal(mayChangeSettings('group', 'admin'), true);
    assert.equal(mayChangeSettings('channel', 'owner'), true);
    assert.equal(mayChangeSettings('group', 'member'), false);
    assert.equal(mayChangeSettings('direct', 'owner'), false);
  });

  it('archived: nobody writes; muted: the member does not write; announcement: only admins send', () => {
    const forbidden = (err: unknown) => err instanceof AppError && err.code === 'forbidden';
    const as = (role: Role, muted = false) => ({ role, muted });
    assert.throws(
      () => assertMayWrite({ archived: true, announcement: false }, as('owner'), 'change'),
      forbidden,
    );
    assert.throws(
      () => assertMayWrite({ archived: false, announcement: true }, as('member'), 'send'),
      forbidden,
    );
    assertMayWrite({ archived: false, announcement: true }, as('admin'), 'send');
    assertMayWrite({ archived: false, announcement: true }, as('member'), 'change');
    for (const what of ['send', 'change'] as const)
      assert.throws(
        () => assertMayWrite({ archived: false, announcement: false }, as('admin', true), what),
        forbidden,
      );
  });
});
