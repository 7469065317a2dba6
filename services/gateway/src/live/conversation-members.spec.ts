import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRegistry } from '@im/platform/registry';
import type { Downstream } from '../clients/downstream.js';
import { ConversationMembers } from './conversation-members.js';

/** A message service whose members come in pages of two, and that can fail on demand. */
function fakes(members: string[]) {
  const calls: string[] = [];
  let failing = false;
  const downstream = {
    message: {
      listMembers: async (r: { conversationId: string; afterUserId: string }) => {
        calls.push(`${r.conversationId}@${r.afterUserId}`);
        if (failing) throw new Error('message service down');
        const from = r.afterUserId ? members.indexOf(r.afterUserId) + 1 : 0;
        const page = members.slice(from, from + 2);
        const more = from + 2 < members.length;
        return {
          members: page.map((userId) => ({ userId })),
          nextAfterUserId: more ? page[page.length - 1]! : '',
        };
      },
    },
  } as unknown as Downstream;
  type Delivered = { string(): string; reply?: string };
  const subscriptions = new Map<string, (err: unknown, msg: Delivered) => void>();
  let reconnect: () => void = () => undefined;
  const nats = {
    subscribe: (subject: string, o: { callback: (err: unknown, msg: Delivered) => void }) => {
      subscriptions.set(subject, o.callback);
      return { unsubscribe: () => undefined };
    },
    status: () => ({
      async *[Symbol.asyncIterator]() {
        for (;;)
          yield await new Promise<{ type: string }>((r) => (reconnect = () => r({ type: 'reconnect' })));
      },
    }),
  };
  const registry = createRegistry('t');
  const cache = new ConversationMembers(downstream, nats as never, registry);
  cache.onModuleInit();
  const publish = (delta: unknown, reply = '') =>
    subscriptions.get(registry.subjects.conversationMembersChanged)!(null, {
      string: () => JSON.stringify(delta),
      reply,
    });
  return {
    cache,
    calls,
    publish,
    reconnect: () => reconnect(),
    fail: (on: boolean) => (failing = on),
  };
}

describe('ConversationMembers (member sets of large conversations at a gateway)', () => {
  it('loads every page once, then answers from memory', async () => {
    const f = fakes(['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual([...(await f.cache.of('t1', 'c1'))].sort(), ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(f.calls, ['c1@', 'c1@b', 'c1@d']);
    await f.cache.of('t1', 'c1');
    assert.equal(f.calls.length, 3);
  });

  it('patches a loaded set with joins and leaves, in the order they come', async () => {
    const f = fakes(['a', 'b']);
    await f.cache.of('t1', 'c1');
    f.publish({ conversationId: 'c1', added: ['x'], removed: ['a'] });
    f.publish({ conversationId: 'other', added: ['y'] });
    assert.deepEqual([...(await f.cache.of('t1', 'c1'))].sort(), ['b', 'x']);
    assert.equal(f.calls.length, 1, 'no reload');
  });

  it('ignores a change that JetStream sent (a consumer pointed at the subject): only the message service publishes them', async () => {
    const f = fakes(['a', 'b']);
    await f.cache.of('t1', 'c1');
    f.publish({ conversationId: 'c1', added: ['mallory'] }, '$JS.ACK.KV_im_presence.c.1.1.1.1.0');
    assert.deepEqual([...(await f.cache.of('t1', 'c1'))].sort(), ['a', 'b']);
  });

  it('drops a set that was still loading when a change came, or on reset, or on a NATS reconnect', async () => {
    const f = fakes(['a', 'b', 'c']);
    const loading = f.cache.of('t1', 'c1');
    f.publish({ conversationId: 'c1', removed: ['a'] });
    await loading;
    await f.cache.of('t1', 'c1');
    assert.equal(f.calls.filter((c) => c === 'c1@').length, 2, 'loaded again after the change');
    f.publish({ conversationId: 'c1', reset: true });
    await f.cache.of('t1', 'c1');
    assert.equal(f.calls.filter((c) => c === 'c1@').length, 3);
    f.reconnect();
    await new Promise((r) => setImmediate(r));
    await f.cache.of('t1', 'c1');
    assert.equal(f.calls.filter((c) => c === 'c1@').length, 4);
  });

  it('a failed load fails the events behind it fast instead of asking again for each', async () => {
    const f = fakes(['a']);
    f.fail(true);
    await assert.rejects(f.cache.of('t1', 'c1'));
    await new Promise((r) => setImmediate(r));
    await assert.rejects(f.cache.of('t1', 'c1'));
    assert.equal(f.calls.length, 1, 'remembered for a moment, not asked per event');
  });
});
