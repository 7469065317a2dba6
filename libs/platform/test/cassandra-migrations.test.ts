import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  connectCassandra,
  ensureKeyspace,
  loadMigrations,
  MigrationError,
  runMigrations,
  type CassandraClient,
} from '../src/cassandra/index.js';
import { infra, quietLogger, uniquePrefix } from './env.js';

function connection(keyspace?: string) {
  const i = infra();
  return {
    contactPoints: i.cassandraContactPoints,
    localDataCenter: i.cassandraLocalDc,
    username: i.cassandraUsername,
    password: i.cassandraPassword,
    logger: quietLogger,
    consistency: 'LOCAL_ONE' as const,
    ...(keyspace ? { keyspace } : {}),
  };
}

async function migrationsDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'migrations-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

describe('cassandra migrations (real server)', () => {
  const keyspace = uniquePrefix('mig').replaceAll('-', '_');
  let admin: CassandraClient;
  let client: CassandraClient;

  before(async () => {
    admin = await connectCassandra(connection());
    await ensureKeyspace(admin, keyspace, '1');
    client = await connectCassandra(connection(keyspace));
  });

  after(async () => {
    await client?.shutdown();
    await admin?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await admin?.shutdown();
  });

  const v1 = {
    '0001_create_notes.cql': 'CREATE TABLE IF NOT EXISTS notes (id text PRIMARY KEY, body text);',
    '0002_add_author.cql':
      'ALTER TABLE notes ADD author text;\nCREATE TABLE IF NOT EXISTS notes_by_author (author text, id text, PRIMARY KEY (author, id));',
  };

  it('applies pending migrations once; running them again is a no-op', async () => {
    const dir = await migrationsDir(v1);
    const first = await runMigrations(client, await loadMigrations(dir), quietLogger);
    assert.deepEqual(first.applied, ['0001_create_notes.cql', '0002_add_author.cql']);
    await client.execute('INSERT INTO notes (id, body, author) VALUES (?, ?, ?)', ['n1', 'hello', 'ann']);

    const second = await runMigrations(client, await loadMigrations(dir), quietLogger);
    assert.deepEqual(second.applied, []);
    assert.deepEqual(second.skipped, ['0001_create_notes.cql', '0002_add_author.cql']);
    const row = (await client.execute('SELECT body, author FROM notes WHERE id = ?', ['n1'])).first();
    assert.equal(row.get('author'), 'ann', 'data untouched');
    const recorded = await client.execute('SELECT version FROM schema_migrations');
    assert.equal(recorded.rowLength, 2);
  });

  it('refuses a released migration that was edited', async () => {
    const dir = await migrationsDir({
      ...v1,
      '0001_create_notes.cql': `${v1['0001_create_notes.cql']}\n-- edited`,
    });
    await assert.rejects(runMigrations(client, await loadMigrations(dir), quietLogger), (err: unknown) => {
      assert.ok(err instanceof MigrationError);
      assert.match(err.message, /0001_create_notes\.cql was changed after it was applied/);
      return true;
    });
  });

  it('names the file and statement of a failing migration, and records nothing for it', async () => {
    const dir = await migrationsDir({
      ...v1,
      '0003_broken.cql':
        'CREATE TABLE IF NOT EXISTS ok_table (id text PRIMARY KEY);\nCREAT TABLE nope (id text);',
    });
    await assert.rejects(runMigrations(client, await loadMigrations(dir), quietLogger), (err: unknown) => {
      assert.ok(err instanceof MigrationError);
      assert.match(err.message, /migration 0003_broken\.cql failed at statement 2 of 2/);
      return true;
    });
    const recorded = await client.execute('SELECT version FROM schema_migrations WHERE version = 3');
    assert.equal(recorded.rowLength, 0);
  });

  it('stops a service at start-up with a clear message when a migration fails', async () => {
    const dir = await migrationsDir({
      '0001_fine.cql': 'CREATE TABLE IF NOT EXISTS fine (id text PRIMARY KEY);',
      '0002_typo.cql': 'CREATE TABLE IF NOT EXISTS broken (id text PRIMARY KEY, v nosuchtype);',
    });
    const i = infra();
    const fixture = fileURLToPath(new URL('./fixtures/migrating-service.js', import.meta.url));
    const prefix = uniquePrefix('migsvc');
    const child = spawn(process.execPath, [fixture], {
      env: {
        ...process.env,
        MIGRATIONS_DIR: dir,
        IM_NAME_PREFIX: prefix,
        CASSANDRA_CONTACT_POINTS: i.cassandraContactPoints.join(','),
        CASSANDRA_LOCAL_DC: i.cassandraLocalDc,
        CASSANDRA_CONSISTENCY: 'LOCAL_ONE',
        HTTP_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    await admin.execute(`DROP KEYSPACE IF EXISTS ${prefix}_im_fixture`);
    assert.equal(code, 1, 'the process exits with status 1');
    const fatal = lines.map((l) => JSON.parse(l)).find((l) => l.level === 'fatal');
    assert.ok(fatal, `a fatal log line, got:\n${lines.join('\n')}`);
    assert.match(fatal.msg, /start-up failed: migration 0002_typo\.cql failed at statement 1 of 1/);
    assert.ok(!lines.some((l) => l.includes('"fixture ready"')), 'it never reports ready');
  });
});
