import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadMigrations, MigrationError, splitStatements } from './migrations.js';
import { replicationClause } from './client.js';

describe('splitStatements', () => {
  it('splits on statement-ending semicolons and drops comments', () => {
    const statements = splitStatements(`-- a table
CREATE TABLE a (id int PRIMARY KEY);
// another
CREATE TABLE b (
  id int PRIMARY KEY, -- key
  v text
);
`);
    assert.equal(statements.length, 2);
    assert.match(statements[1]!, /^CREATE TABLE b \(/);
    assert.doesNotMatch(statements[1]!, /-- key/);
  });

  it('keeps a semicolon inside a line (string literal)', () => {
    assert.deepEqual(splitStatements("INSERT INTO t (k) VALUES ('a;b');"), [
      "INSERT INTO t (k) VALUES ('a;b')",
    ]);
  });
});

describe('loadMigrations', () => {
  it('orders files by version and checksums their content', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mig-'));
    await writeFile(join(dir, '0002_second.cql'), 'CREATE TABLE b (id int PRIMARY KEY);');
    await writeFile(join(dir, '0001_first.cql'), 'CREATE TABLE a (id int PRIMARY KEY);');
    const list = await loadMigrations(dir);
    assert.deepEqual(
      list.map((m) => [m.version, m.name]),
      [
        [1, 'first'],
        [2, 'second'],
      ],
    );
    assert.equal(list[0]!.checksum.length, 64);
  });

  it('refuses badly named files and duplicate versions', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mig-'));
    await writeFile(join(dir, '1_bad.cql'), '');
    await assert.rejects(loadMigrations(dir), MigrationError);
    const dir2 = await mkdtemp(join(tmpdir(), 'mig-'));
    await writeFile(join(dir2, '0001_a.cql'), '');
    await writeFile(join(dir2, '0001_b.cql'), '');
    await assert.rejects(loadMigrations(dir2), /share version 1/);
  });
});

describe('replicationClause', () => {
  it('maps a number to SimpleStrategy and dc:rf pairs to NetworkTopologyStrategy', () => {
    assert.equal(replicationClause('3'), "{'class': 'SimpleStrategy', 'replication_factor': 3}");
    assert.equal(
      replicationClause('dc1:3,dc2:2'),
      "{'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': 2}",
    );
  });
});
