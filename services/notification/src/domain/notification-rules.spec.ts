import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decide,
  DEFAULT_USER_RULES,
  inQuietHours,
  matchesKeyword,
  type NewMessage,
  type Recipient,
  type RulesPolicy,
} from './notification-rules.js';

const policy: RulesPolicy = { pushWhenAway: true, busyAllowsMentions: true };
const now = new Date('2026-12-02T12:00:00Z');
const msg = (over: Partial<NewMessage> = {}): NewMessage => ({
  senderId: 'ana',
  text: 'lunch at noon?',
  mentions: [],
  conversationType: 'group',
  ...over,
});
const bo = (over: Partial<Recipient> = {}): Recipient => ({
  userId: 'bo',
  presence: 'offline',
  user: DEFAULT_USER_RULES,
  conversation: {},
  ...over,
});

describe('notification rules', () => {
  it('an offline member is pushed; the sender, an online member never', () => {
    assert.deepEqual(decide(msg(), bo(), policy, now), { push: true, mentioned: false, keyword: false });
    assert.deepEqual(decide(msg(), bo({ userId: 'ana' }), policy, now), { push: false, reason: 'sender' });
    assert.deepEqual(decide(msg(), bo({ presence: 'online' }), policy, now), {
      push: false,
      reason: 'connected',
    });
  });

  it('away (connected, idle) is pushed only when the policy says so', () => {
    assert.equal(decide(msg(), bo({ presence: 'away' }), policy, now).push, true);
    assert.equal(
      decide(msg(), bo({ presence: 'away' }), { ...policy, pushWhenAway: false }, now).push,
      false,
    );
  });

  it('busy suppresses all but mentions, and mentions too when configured', () => {
    assert.deepEqual(decide(msg(), bo({ presence: 'busy' }), policy, now), { push: false, reason: 'busy' });
    assert.equal(decide(msg({ mentions: ['bo'] }), bo({ presence: 'busy' }), policy, now).push, true);
    assert.equal(
      decide(
        msg({ mentions: ['bo'] }),
        bo({ presence: 'busy' }),
        { ...policy, busyAllowsMentions: false },
        now,
      ).push,
      false,
    );
  });

  it('muted until a time in the future: nothing; once it passed: as usual', () => {
    const muted = (until: string) => bo({ conversation: { mutedUntil: new Date(until) } });
    assert.deepEqual(decide(msg({ mentions: ['bo'] }), muted('2026-12-02T13:00:00Z'), policy, now), {
      push: false,
      reason: 'muted',
    });
    assert.equal(decide(msg(), muted('2026-12-02T11:59:00Z'), policy, now).push, true);
  });

  it('levels: none never; mentions for a mention, @all or a keyword; channels default to mentions', () => {
    const at = (level: 'all' | 'mentions' | 'none') => bo({ conversation: { level } });
    assert.equal(decide(msg({ mentions: ['bo'] }), at('none'), policy, now).push, false);
    assert.equal(decide(msg(), at('mentions'), policy, now).push, false);
    assert.deepEqual(decide(msg({ mentions: ['all'] }), at('mentions'), policy, now), {
      push: true,
      mentioned: true,
      keyword: false,
    });
    const withKeyword = bo({
      conversation: { level: 'mentions' },
      user: { ...DEFAULT_USER_RULES, keywords: ['Deploy'] },
    });
    assert.deepEqual(decide(msg({ text: 'the deploy failed' }), withKeyword, policy, now), {
      push: true,
      mentioned: false,
      keyword: true,
    });
    assert.equal(decide(msg({ conversationType: 'channel' }), bo(), policy, now).push, false);
    assert.equal(
      decide(msg({ conversationType: 'channel', mentions: ['bo'] }), bo(), policy, now).push,
      true,
    );
    assert.equal(decide(msg({ conversationType: 'direct' }), bo(), policy, now).push, true);
  });

  it('quiet hours in the user’s zone, across midnight', () => {
    const night = { start: '22:00', end: '07:00', timeZone: 'Europe/Paris' };
    // 12:00Z is 13:00 in Paris (winter): outside
    assert.equal(inQuietHours(night, now), false);
    assert.equal(inQuietHours(night, new Date('2026-12-02T21:30:00Z')), true, '22:30 Paris');
    assert.equal(inQuietHours(night, new Date('2026-12-02T05:59:00Z')), true, '06:59 Paris');
    assert.equal(inQuietHours(night, new Date('2026-12-02T06:00:00Z')), false, '07:00 Paris');
    const lunch = { start: '12:00', end: '14:00', timeZone: 'Asia/Tokyo' };
    assert.equal(inQuietHours(lunch, new Date('2026-12-02T03:30:00Z')), true, '12:30 Tokyo');
    assert.equal(inQuietHours({ ...lunch, end: '12:00' }, new Date('2026-12-02T03:30:00Z')), false);
    const quiet = bo({
      user: { ...DEFAULT_USER_RULES, quietHours: { start: '12:00', end: '14:00', timeZone: 'UTC' } },
    });
    assert.deepEqual(decide(msg(), quiet, policy, now), { push: false, reason: 'quiet_hours' });
  });

  it('keywords match whole words, case-insensitive, in any script', () => {
    assert.equal(matchesKeyword('The DEPLOY is done', ['deploy']), true);
    assert.equal(matchesKeyword('redeployed it', ['deploy']), false);
    assert.equal(matchesKeyword('deploy_prod', ['deploy']), false);
    assert.equal(matchesKeyword('Größe: ÉTÉ!', ['été']), true);
    assert.equal(matchesKeyword('costs $5 (c++)', ['c++']), true);
    assert.equal(matchesKeyword('anything', ['', '  ']), false);
  });
});
