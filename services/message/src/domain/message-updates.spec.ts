import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message } from '@im/proto/client/v1';
import { AppError } from '@im/platform/errors';
import { applyUpdate, asSeenBy, type MessageState, type UpdateCommand } from './message-updates.js';
import { validateEmoji, validateEmojiToRemove } from './message-rules.js';
import { messageFixture } from './message.fixture.js';
import { SequencingState } from './sequencing.js';

const sentAt = new Date('2026-01-01T00:00:00Z');
const message = (seq: number, senderId = 'ana'): Message => messageFixture(seq, { senderId });
const state = (seq: number, senderId = 'ana'): MessageState => ({
  message: message(seq, senderId),
  reactors: new Map(),
});
const at = (seconds: number) => new Date(sentAt.getTime() + seconds * 1000);
const edit = (text: string, userId = 'ana', seconds = 10, windowSeconds = 0): UpdateCommand => ({
  kind: 'edit',
  seq: 1,
  userId,
  text,
  at: at(seconds),
  windowSeconds,
});
const react = (userId: string, emoji: string, add = true, maxDistinct = 20, seconds = 1): UpdateCommand => ({
  kind: 'react',
  seq: 1,
  userId,
  emoji,
  add,
  at: at(seconds),
  maxDistinct,
});
const del = (userId = 'ana', asModerator = false): UpdateCommand => ({
  kind: 'delete',
  seq: 1,
  userId,
  asModerator,
});

describe('message updates', () => {
  it('an edit by the sender replaces the text, sets editedAt and keeps the previous text', () => {
    const s = state(1);
    const out = applyUpdate(s, edit('fixed'), 7);
    assert.equal(out.kind, 'updated');
    if (out.kind !== 'updated') return;
    assert.equal(out.message.text, 'fixed');
    assert.equal(out.message.editedAt, at(10).toISOString());
    assert.equal(out.message.version, 7);
    assert.equal(out.previousText, 'text 1');
    assert.equal(s.message.text, 'fixed');
  });

  it('each edit is later than the one before, also within one millisecond', () => {
    const s = state(1);
    applyUpdate(s, edit('five'), 2);
    const out = applyUpdate(s, edit('six'), 3);
    assert.equal(
      out.kind === 'updated' && out.message.editedAt,
      new Date(at(10).getTime() + 1).toISOString(),
    );
    // a clock that went back on another replica still moves editedAt on
    const back = applyUpdate(s, edit('seven', 'ana', 5), 4);
    assert.equal(
      back.kind === 'updated' && back.message.editedAt,
      new Date(at(10).getTime() + 2).toISOString(),
    );
  });

  it('refuses an edit by another member, after the window, or to blank text; nothing changes', () => {
    const s = state(1);
    for (const [cmd, code] of [
      [edit('x', 'bo'), 'forbidden'],
      [edit('x', 'ana', 61, 60), 'edit_window_closed'],
      [edit('   '), 'invalid_argument'],
    ] as const) {
      const out = applyUpdate(s, cmd, 2);
      assert.equal(out.kind === 'refused' && out.code, code);
      assert.equal(s.message.text, 'text 1');
    }
    assert.equal(applyUpdate(s, edit('x', 'ana', 59, 60), 2).kind, 'updated');
  });

  it('delete: the sender or a moderator; removes text, attachments and reactions; repeating is harmless', () => {
    const s = state(1);
    applyUpdate(s, react('bo', '👍'), 1);
    assert.equal(applyUpdate(s, del('bo'), 2).kind, 'refused');
    const out = applyUpdate(s, del('bo', true), 2);
    assert.equal(out.kind, 'updated');
    assert.deepEqual(
      { text: s.message.text, deleted: s.message.deleted, reactions: s.message.reactions },
      { text: '', deleted: true, reactions: [] },
    );
    assert.equal(applyUpdate(s, del('ana'), 3).kind, 'updated');
    for (const cmd of [edit('back'), react('bo', '👍')]) {
      const after = applyUpdate(s, cmd, 4);
      assert.equal(after.kind === 'refused' && after.code, 'not_found');
    }
  });

  it('reactions: idempotent add/remove, counts in order of first use, capped distinct emojis', () => {
    const s = state(1);
    applyUpdate(s, react('bo', '🎉', true, 2, 5), 1);
    applyUpdate(s, react('cy', '👍', true, 2, 6), 2);
    applyUpdate(s, react('ana', '🎉', true, 2, 7), 3);
    applyUpdate(s, react('ana', '🎉', true, 2, 8), 4); // again: no change in count
    assert.deepEqual(
      s.message.reactions.map((r) => [r.emoji, r.count, r.userIds]),
      [
        ['🎉', 2, ['bo', 'ana']],
        ['👍', 1, ['cy']],
      ],
    );
    const capped = applyUpdate(s, react('bo', ':parrot:', true, 2), 5);
    assert.equal(capped.kind === 'refused' && capped.code, 'limit_exceeded');
    applyUpdate(s, react('cy', '👍', false), 5);
    applyUpdate(s, react('cy', '👍', false), 6);
    assert.deepEqual(
      s.message.reactions.map((r) => r.emoji),
      ['🎉'],
    );
    assert.equal(applyUpdate(s, react('bo', ':parrot:', true, 2, 9), 7).kind, 'updated');
    const seen = asSeenBy(s.message, new Set(['🎉']));
    assert.deepEqual(
      seen.reactions.map((r) => [r.emoji, r.me]),
      [
        ['🎉', true],
        [':parrot:', false],
      ],
    );
  });

  it('a repeated add keeps the time of the first one', () => {
    const s = state(1);
    applyUpdate(s, react('bo', '👍', true, 20, 1), 1);
    const again = applyUpdate(s, react('bo', '👍', true, 20, 9), 2);
    assert.equal(again.kind === 'updated' && again.reactedAt, at(1).getTime());
  });

  it('SequencingState numbers accepted updates densely after lastVersion; refusals take none', () => {
    const seq = new SequencingState(3, new Map(), new Map(), 10, new Map([[1, state(1)]]));
    const decisions = [
      seq.update(edit('a')),
      seq.update(edit('b', 'bo')),
      seq.update(react('bo', '👍')),
      seq.update({ ...react('bo', '👍'), seq: 9 }), // beyond lastSeq
    ];
    assert.deepEqual(
      decisions.map((d) => (d.kind === 'updated' ? d.version : d.kind === 'refused' ? d.code : d.kind)),
      [11, 'forbidden', 12, 'not_found'],
    );
    assert.equal(seq.lastVersion, 12);
  });
});

describe('pins', () => {
  const pin = (pinned: boolean, allowed = true, maxPins = 2, userId = 'bo'): UpdateCommand => ({
    kind: 'pin',
    seq: 1,
    userId,
    pin: pinned,
    allowed,
    at: at(3),
    maxPins,
  });

  it('pins and unpins idempotently, counting the conversation’s pins', () => {
    const s = state(1);
    const conversation = { pinned: 0 };
    const first = applyUpdate(s, pin(true), 1, conversation);
    assert.deepEqual(first.kind === 'updated' && first.message.pin, {
      pinnedBy: 'bo',
      pinnedAt: at(3).toISOString(),
    });
    const again = applyUpdate(s, pin(true, true, 2, 'cy'), 2, conversation);
    assert.equal(again.kind === 'updated' && again.message.pin?.pinnedBy, 'bo', 'the first pin stays');
    assert.equal(conversation.pinned, 1);
    assert.equal(applyUpdate(s, pin(false), 3, conversation).kind, 'updated');
    assert.equal(applyUpdate(s, pin(false), 4, conversation).kind, 'updated');
    assert.equal(conversation.pinned, 0);
    assert.equal(s.message.pin, undefined);
  });

  it('refuses who may not pin, a pin past the cap, and a deleted message; a delete unpins', () => {
    const conversation = { pinned: 2 };
    const s = state(1);
    assert.equal(
      ((o) => o.kind === 'refused' && o.code)(applyUpdate(s, pin(true, false), 1, conversation)),
      'forbidden',
    );
    assert.equal(
      ((o) => o.kind === 'refused' && o.code)(applyUpdate(s, pin(true), 1, conversation)),
      'limit_exceeded',
    );
    conversation.pinned = 1;
    assert.equal(applyUpdate(s, pin(true), 1, conversation).kind, 'updated');
    applyUpdate(s, del('ana'), 2, conversation);
    assert.equal(conversation.pinned, 1);
    assert.equal(s.message.pin, undefined);
    assert.equal(
      ((o) => o.kind === 'refused' && o.code)(applyUpdate(s, pin(true), 3, conversation)),
      'not_found',
    );
  });
  it('SequencingState holds the cap against the stored pins and those pinned earlier in the batch', () => {
    const messages = new Map([1, 2, 3].map((seq) => [seq, state(seq)]));
    const seq = new SequencingState(3, new Map(), new Map(), 0, messages, { pinned: 1 });
    const decisions = [1, 2, 3].map((n) => seq.update({ ...pin(true), seq: n }));
    assert.deepEqual(
      decisions.map((d) => (d.kind === 'refused' ? d.code : d.kind)),
      ['updated', 'limit_exceeded', 'limit_exceeded'],
    );
  });
});

describe('validateEmoji', () => {
  it('accepts one emoji grapheme (ZWJ, skin tone, flag, keycap, with or without VS16) or a :shortcode:', () => {
    for (const e of [
      '👍',
      '👍🏽',
      '👩‍👩‍👧‍👦',
      '🇫🇷',
      '❤️',
      '❤',
      '1️⃣',
      '1⃣',
      '#️⃣',
      '🏳️‍🌈',
      '🫠',
      ':party_parrot:',
      ':+1:',
    ])
      validateEmoji(e);
  });

  it('refuses text, two emojis, look-alikes with invisible or combining characters, a lone skin tone, an over-long shortcode and empty input', () => {
    for (const e of [
      '',
      'a',
      'ok',
      '👍👍',
      '👍\u200c',
      '👍\u0301',
      '👍\u200b',
      '👍\u200d',
      '🏻',
      ':no spaces:',
      `:${'x'.repeat(49)}:`,
      '<script>',
      '1',
    ]) {
      assert.throws(
        () => validateEmoji(e),
        (err: unknown) => err instanceof AppError && err.code === 'invalid_argument',
        JSON.stringify(e),
      );
    }
  });

  it('lets a reaction stored under the older, looser rule be removed', () => {
    validateEmojiToRemove('👍\u200c');
    assert.throws(() => validateEmojiToRemove('👍👍'), AppError);
    assert.throws(() => validateEmojiToRemove('a'), AppError);
  });
});
