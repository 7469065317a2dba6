import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { SearchResult } from '@im/proto/client/v1';
import type { ImClient } from '@im/sdk';
import { eventually, Platform } from '@im/testing';
import { outcome } from './support/outcome.js';
import { registerUsers } from './support/users.js';

interface Page {
  results: SearchResult[];
  nextCursor?: string;
}

const search = (c: ImClient, q: string, extra: Record<string, string | number> = {}): Promise<Page> => {
  const params = new URLSearchParams({
    q,
    ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, String(v)])),
  });
  return c.call<Page>('GET', `/v1/search/messages?${params}`);
};
const texts = (p: Page) => p.results.map((r) => r.message!.text).sort();

describe('search (OpenSearch)', () => {
  let platform: Platform;
  // words unique to this run: the index is shared by every run on this OpenSearch
  const word = (w: string) => `${w}${randomBytes(3).toString('hex')}`;

  before(async () => {
    platform = await Platform.start({
      shared: true,
      env: { gateway: { SEND_RATE_PER_SEC: '100000', SEND_BURST: '100000' } },
    });
  });
  after(() => platform?.stop());

  it('finds words in the caller’s conversations only, with escaped highlights; never another tenant’s', async () => {
    const [ana, bo, cy] = await registerUsers(platform, 3, 'search');
    const [dan] = await registerUsers(platform, 1, 'search', `searchother-${Date.now()}`);
    const quick = word('quick');
    const g = await ana!.createConversation('group', [bo!.user.id], 'g');
    const h = await ana!.createConversation('group', [cy!.user.id], 'h');
    const dansOwn = await dan!.createConversation('group', [], 'd');
    await ana!.sendMessage(g.id, 's1', `the ${quick} brown fox`);
    await ana!.sendMessage(h.id, 's2', `${quick} silver`);
    await bo!.sendMessage(g.id, 's3', `<b>${quick}</b> & friends`);
    await dan!.sendMessage(dansOwn.id, 's4', `${quick} in another tenant`);

    await eventually(async () => assert.equal((await search(ana!, quick)).results.length, 3), {
      what: 'indexed',
      timeoutMs: 30_000,
    });
    assert.deepEqual(texts(await search(ana!, quick)), [
      `<b>${quick}</b> & friends`,
      `${quick} silver`,
      `the ${quick} brown fox`,
    ]);
    assert.deepEqual(texts(await search(bo!, quick)), [
      `<b>${quick}</b> & friends`,
      `the ${quick} brown fox`,
    ]);
    assert.deepEqual(texts(await search(cy!, quick)), [`${quick} silver`]);
    // dan's message may sit in another partition of im.events.v1, indexed a moment later
    await eventually(
      async () => assert.deepEqual(texts(await search(dan!, quick)), [`${quick} in another tenant`]),
      { what: 'the other tenant’s message indexed', timeoutMs: 30_000 },
    );
    assert.deepEqual(texts(await search(ana!, quick, { conversationId: h.id })), [`${quick} silver`]);
    // every word must match
    assert.deepEqual(texts(await search(ana!, `${quick} fox`)), [`the ${quick} brown fox`]);

    const html = (await search(bo!, `${quick} friends`)).results[0]!;
    assert.deepEqual(html.highlights, [`&lt;b&gt;<em>${quick}</em>&lt;&#x2F;b&gt; &amp; <em>friends</em>`]);
    assert.equal(html.message!.senderId, bo!.user.id);
  });

  it('never returns deleted or pre-edit text, nor anything of a conversation the caller left', async () => {
    const [ana, bo] = await registerUsers(platform, 2, 'searchupd');
    const [before, after, gone, stays] = [word('before'), word('after'), word('gone'), word('stays')];
    const g = await ana!.createConversation('group', [bo!.user.id], 'g');
    const edited = await ana!.sendMessage(g.id, 'e1', `${before} text`);
    const deleted = await ana!.sendMessage(g.id, 'e2', `${gone} text`);
    await ana!.sendMessage(g.id, 'e3', `${stays} text`);
    await eventually(async () => assert.equal((await search(bo!, stays)).results.length, 1), {
      what: 'indexed',
      timeoutMs: 30_000,
    });
    assert.equal((await search(bo!, before)).results.length, 1);

    await ana!.editMessage(g.id, edited.seq, `${after} text`);
    await ana!.deleteMessage(g.id, deleted.seq);
    // at once, before the index caught up: the stale hits are dropped
    assert.deepEqual((await search(bo!, before)).results, []);
    assert.deepEqual((await search(bo!, gone)).results, []);
    await eventually(async () => assert.deepEqual(texts(await search(bo!, after)), [`${after} text`]), {
      what: 'the edit indexed',
      timeoutMs: 30_000,
    });
    assert.deepEqual((await search(bo!, before)).results, []);
    assert.deepEqual((await search(bo!, gone)).results, []);

    await ana!.removeMember(g.id, bo!.user.id);
    assert.deepEqual((await search(bo!, stays)).results, []);
    assert.equal(await outcome(search(bo!, stays, { conversationId: g.id })), '404 not_found');
    assert.equal((await search(ana!, stays)).results.length, 1);
  });

  it('a conversation joined a moment ago is searched at once, though the caller searched just before', async () => {
    const [ana, bo, cy] = await registerUsers(platform, 3, 'searchjoin');
    const w = word('joined');
    const g = await ana!.createConversation('group', [bo!.user.id], 'join');
    await ana!.sendMessage(g.id, 'j1', `${w} before cy came`);
    await eventually(async () => assert.equal((await search(ana!, w)).results.length, 1), {
      what: 'indexed',
      timeoutMs: 30_000,
    });
    // cy's conversations are read for this search and kept a few seconds
    assert.deepEqual((await search(cy!, w)).results, []);
    await ana!.addMembers(g.id, [cy!.user.id]);
    assert.deepEqual(texts(await search(cy!, w)), [`${w} before cy came`]);
  });

  it('pages with a cursor, each result once', async () => {
    const [ana] = await registerUsers(platform, 1, 'searchpage');
    const g = await ana!.createConversation('group', [], 'paging');
    const w = word('page');
    for (let i = 0; i < 25; i++) await ana!.sendMessage(g.id, `p${i}`, `${w} number ${i}`);
    await eventually(async () => assert.equal((await search(ana!, w, { limit: 50 })).results.length, 25), {
      what: 'indexed',
      timeoutMs: 30_000,
    });
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await search(ana!, w, { limit: 10, ...(cursor ? { cursor } : {}) });
      seen.push(...page.results.map((r) => r.message!.seq));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(
      seen.sort((a, b) => a - b),
      Array.from({ length: 25 }, (_, i) => i + 1),
    );
  });

  it('bad input: empty or over-long query, limit, cursor, a conversation of someone else', async () => {
    const [ana, bo] = await registerUsers(platform, 2, 'searchbad');
    const theirs = await bo!.createConversation('group', [], 'theirs');
    assert.equal(await outcome(search(ana!, '')), '400 invalid_argument');
    assert.equal(await outcome(search(ana!, '   ')), '400 invalid_argument');
    assert.equal(await outcome(search(ana!, 'x'.repeat(257))), '400 invalid_argument');
    assert.equal(await outcome(search(ana!, 'x', { limit: 51 })), '400 invalid_argument');
    assert.equal(await outcome(search(ana!, 'x', { limit: 0 })), '400 invalid_argument');
    assert.equal(await outcome(search(ana!, 'x', { cursor: 'not-a-cursor' })), '400 invalid_argument');
    assert.equal(await outcome(search(ana!, 'x', { conversationId: theirs.id })), '404 not_found');
    assert.equal(await outcome(search(ana!, 'x', { conversationId: 'bad id!' })), '400 invalid_argument');
  });
});
