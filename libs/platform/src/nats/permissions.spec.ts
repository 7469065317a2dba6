import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GRPC_WIRING } from '../grpc/identity.js';
import { createRegistry } from '../registry/index.js';
import { NATS_ACCESS, natsPermissionsOf, renderNatsAuthorization } from './permissions.js';

const services = Object.keys(NATS_ACCESS);
const r = createRegistry('p1');

describe('NATS permissions (ADR 0023)', () => {
  it('every service that uses NATS has a user (media does not use it)', () => {
    const expected = Object.keys(GRPC_WIRING).filter((s) => s !== 'operator' && s !== 'media');
    assert.deepEqual([...services].sort(), expected.sort());
  });

  it('only the message service writes live events, only presence typing; only gateways read them', () => {
    const who = (subject: string) => ({
      writers: services.filter((s) => natsPermissionsOf(s, 'p1').publish.includes(subject)),
      readers: services.filter((s) => natsPermissionsOf(s, 'p1').subscribe.includes(subject)),
    });
    assert.deepEqual(who(r.subjects.liveUser('*')), { writers: ['message'], readers: ['gateway'] });
    assert.deepEqual(who(r.subjects.liveConversations), { writers: ['message'], readers: ['gateway'] });
    assert.deepEqual(who(r.subjects.typingTo('*')), { writers: ['presence'], readers: ['gateway'] });
    for (const s of services) {
      const { publish } = natsPermissionsOf(s, 'p1');
      if (s !== 'message') assert.ok(!publish.some((x) => x.startsWith('p1.im.live.')), `${s} writes live`);
    }
  });

  it('only auth writes revocations; readers of a bucket cannot write or delete its keys', () => {
    const key = `$KV.${r.buckets.revokedSessions}.>`;
    const writers = services.filter((s) => natsPermissionsOf(s, 'p1').publish.includes(key));
    assert.deepEqual(writers, ['auth']);
    for (const s of services) {
      const p = natsPermissionsOf(s, 'p1').publish;
      assert.ok(!p.some((x) => /STREAM\.(DELETE|PURGE|UPDATE)/.test(x)), `${s} can change a stream`);
      // whoever creates a missing stream chooses its subjects: buckets are an operator's to make
      assert.ok(!p.some((x) => /STREAM\.CREATE|\$JS\.API\.>|^>$/.test(x)), `${s} can create a stream`);
    }
  });

  it('writers that need not read get no consumers (a consumer delivers wherever its creator says)', () => {
    const gateway = natsPermissionsOf('gateway', 'p1').publish;
    assert.ok(gateway.includes(`$KV.${r.buckets.gateways}.>`), 'the gateway renews its lease');
    assert.ok(!gateway.some((x) => x.includes(`CONSUMER.CREATE.KV_${r.buckets.gateways}`)));
    assert.ok(!natsPermissionsOf('auth', 'p1').publish.some((x) => x.includes('CONSUMER')));
  });

  it('a prefixed deployment names only its own subjects, buckets and inbox', () => {
    for (const s of services) {
      const { publish, subscribe } = natsPermissionsOf(s, 'p1');
      for (const subject of [...publish, ...subscribe]) {
        const own = /^p1\.|^\$KV\.p1_|KV_p1_|^_INBOX_p1-/.test(subject) || subject === '$JS.API.INFO';
        assert.ok(own, `${s}: ${subject} is not the deployment's own`);
      }
    }
  });

  it('the rendered block holds no password, only the variables the NATS server reads them from', () => {
    const text = renderNatsAuthorization({ prefixes: ['', 'p1'], adminUser: 'ops' });
    assert.match(text, /user: "gateway"\n\s+password: \$IM_NATS_PASS_GATEWAY\n/);
    assert.match(text, /user: "p1-gateway"\n\s+password: \$IM_NATS_PASS_P1_GATEWAY\n/);
    assert.match(text, /user: "ops", password: \$IM_NATS_ADMIN_PASS/);
    assert.doesNotMatch(text, /user: "media"/);
  });
});
