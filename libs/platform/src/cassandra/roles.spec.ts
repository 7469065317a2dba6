import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cassandraRoleOf, cassandraRoleStatements } from './roles.js';

describe('Cassandra roles (ADR 0024)', () => {
  it('a role per service and prefix, with rights on its own keyspace only', () => {
    assert.equal(cassandraRoleOf('message'), 'message');
    assert.equal(cassandraRoleOf('message', 'acme-eu'), 'acme_eu_message');
    const cql = cassandraRoleStatements({
      service: 'media',
      prefix: 'acme-eu',
      replication: 'dc1:3',
      password: "it's",
    });
    assert.equal(
      cql[0],
      "CREATE ROLE IF NOT EXISTS 'acme_eu_media' WITH LOGIN = true AND PASSWORD = 'it''s'",
    );
    const grants = cql.filter((s) => s.startsWith('GRANT'));
    assert.deepEqual(
      grants.map((g) => g.split(' ')[1]),
      ['CREATE', 'ALTER', 'DROP', 'SELECT', 'MODIFY'],
      'no AUTHORIZE on the keyspace',
    );
    for (const g of grants) assert.match(g, / ON KEYSPACE acme_eu_im_media TO 'acme_eu_media'$/);
    assert.ok(!cql.some((s) => /ALL KEYSPACES|SUPERUSER = true/.test(s)));
  });
});
