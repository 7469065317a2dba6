import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRegistry } from './index.js';

describe('registry', () => {
  it('uses the plain names without a prefix', () => {
    const r = createRegistry();
    assert.equal(r.topics.conversationCommands, 'im.messages.v1');
    assert.equal(r.topics.conversationEvents, 'im.events.v1');
    assert.equal(r.subjects.liveUser('u1'), 'im.live.user.u1');
    assert.equal(r.subjects.liveConversation('t1', 'c1'), 'im.live.conversation.t1.c1');
    assert.equal(r.subjects.liveConversations, 'im.live.conversation.*.*');
    assert.equal(r.buckets.presence, 'im_presence');
    assert.equal(r.keyspace('message'), 'im_message');
  });

  it('prefixes every name, in the syntax each system accepts', () => {
    const r = createRegistry('run-7');
    assert.equal(r.topics.conversationCommands, 'run-7.im.messages.v1');
    assert.equal(r.groups.messageSequencer, 'run-7.im.message.sequencer');
    assert.equal(r.subjects.sessionRevoked, 'run-7.im.auth.session.revoked');
    assert.equal(r.buckets.revokedSessions, 'run_7_im_revoked_sessions');
    assert.equal(r.keyspace('auth'), 'run_7_im_auth');
    assert.equal(r.indices.messages, 'run-7.im-messages-v1', 'OpenSearch: lowercase, no leading _ - +');
  });

  it('rejects prefixes that would break a subject, topic or keyspace name', () => {
    for (const bad of ['Upper', 'has.dot', 'has space', '-lead', 'x'.repeat(33)]) {
      assert.throws(() => createRegistry(bad), /prefix/);
    }
  });
});
