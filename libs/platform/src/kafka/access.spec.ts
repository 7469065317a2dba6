import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRegistry } from '../registry/index.js';
import {
  KAFKA_SERVICES,
  kafkaAclCommands,
  kafkaAclsOf,
  kafkaPasswordVariable,
  kafkaUserOf,
} from './access.js';

const r = createRegistry('p1');
const acls = KAFKA_SERVICES.flatMap((s) => kafkaAclsOf(s, 'p1').map((a) => ({ service: s, ...a })));
const who = (resource: 'topic' | 'group', name: string, operation: string) =>
  acls
    .filter((a) => a.resource === resource && a.name === name && a.operation === operation)
    .map((a) => a.service)
    .sort();

describe('Kafka ACLs (ADR 0028)', () => {
  it('message, media and notification use Kafka; the others have no user', () => {
    assert.deepEqual([...KAFKA_SERVICES].sort(), ['media', 'message', 'notification']);
  });

  it('only the message service writes commands and events', () => {
    assert.deepEqual(who('topic', r.topics.conversationCommands, 'write'), ['message']);
    assert.deepEqual(who('topic', r.topics.conversationEvents, 'write'), ['message']);
    assert.deepEqual(who('topic', r.topics.mediaJobs, 'write'), ['media']);
  });

  it('commands are read by the message service alone; media reads no messages', () => {
    assert.deepEqual(who('topic', r.topics.conversationCommands, 'read'), ['message']);
    assert.deepEqual(who('topic', r.topics.conversationEvents, 'read'), ['message', 'notification']);
    const media = kafkaAclsOf('media', 'p1').filter((a) => a.resource === 'topic');
    assert.deepEqual([...new Set(media.map((a) => a.name))], [r.topics.mediaJobs]);
  });

  it('every consumer group belongs to one service, which alone may join it', () => {
    for (const group of Object.values(r.groups)) {
      assert.equal(who('group', group, 'read').length, 1, `${group} has exactly one reader`);
    }
    assert.deepEqual(who('group', r.groups.messageSequencer, 'read'), ['message']);
  });

  it('nobody deletes, alters or touches the cluster; every ACL names a literal resource of the prefix', () => {
    for (const a of acls) {
      assert.ok(['create', 'write', 'read', 'describe'].includes(a.operation), `${a.service} ${a.operation}`);
      assert.ok(a.name.startsWith('p1.'), `${a.name} is under the prefix`);
      assert.equal(a.principal, `User:${kafkaUserOf(a.service, 'p1')}`);
    }
    const keys = acls.map((a) => `${a.principal} ${a.resource} ${a.name} ${a.operation}`);
    assert.equal(new Set(keys).size, keys.length, 'no ACL twice');
  });

  it('names users, password variables and kafka-acls.sh commands after the prefix', () => {
    assert.equal(kafkaUserOf('message'), 'message');
    assert.equal(kafkaUserOf('message', 'acme-eu'), 'acme-eu-message');
    assert.equal(kafkaPasswordVariable('media', 'acme-eu'), 'IM_KAFKA_PASS_ACME_EU_MEDIA');
    assert.ok(
      kafkaAclCommands('message', 'p1').includes(
        `kafka-acls.sh --bootstrap-server "$KAFKA_BOOTSTRAP" --command-config admin.properties --add ` +
          `--allow-principal 'User:p1-message' --operation Write --topic 'p1.im.messages.v1'`,
      ),
    );
    assert.throws(() => kafkaAclsOf('gateway'), /no Kafka access/);
  });
});
