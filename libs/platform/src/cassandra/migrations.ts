import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { CassandraClient } from './client.js';

export interface Migration {
  version: number;
  name: string;
  file: string;
  checksum: string;
  statements: string[];
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.cql$/;

/**
 * Versioned CQL migrations: `NNNN_what_it_does.cql` files, applied in order, each recorded in
 * `schema_migrations` with its checksum. Applying again is a no-op; a recorded file whose content
 * changed stops start-up (released migrations are never edited: add a new one). Statements must be
 * idempotent themselves (IF NOT EXISTS) so a file interrupted halfway can simply run again.
 *
 * Run it from one process at a time (a migration job in Kubernetes, or the single replica at
 * start-up): concurrent DDL for the same table on different coordinators can split its schema.
 */
export async function loadMigrations(dir: string): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cql')).sort();
  const seen = new Map<number, string>();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new MigrationError(`migration file "${file}" must be named NNNN_lower_snake_case.cql`);
    const version = Number(match[1]);
    const other = seen.get(version);
    if (other) throw new MigrationError(`migrations "${other}" and "${file}" share version ${version}`);
    seen.set(version, file);
    const text = await readFile(join(dir, file), 'utf8');
    migrations.push({
      version,
      name: match[2]!,
      file,
      checksum: createHash('sha256').update(text).digest('hex'),
      statements: splitStatements(text),
    });
  }
  return migrations;
}

/** Splits a CQL script on semicolons that end a statement, dropping comments and blank lines. */
export function splitStatements(text: string): string[] {
  const withoutComments = text
    .split('\n')
    .map((line) => line.replace(/(^|\s)--.*$/, '').replace(/(^|\s)\/\/.*$/, ''))
    .join('\n');
  return withoutComments
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export interface MigrationResult {
  applied: string[];
  skipped: string[];
}

export async function runMigrations(
  client: CassandraClient,
  migrations: readonly Migration[],
  logger: Logger,
): Promise<MigrationResult> {
  await client.execute(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
       version int PRIMARY KEY, name text, checksum text, applied_at timestamp)`,
    [],
    { prepare: false },
  );
  const recorded = new Map<number, { name: string; checksum: string }>();
  const rows = await client.execute('SELECT version, name, checksum FROM schema_migrations', [], {
    prepare: false,
  });
  for (const row of rows.rows)
    recorded.set(row.get('version'), { name: row.get('name'), checksum: row.get('checksum') });

  const result: MigrationResult = { applied: [], skipped: [] };
  for (const m of migrations) {
    const done = recorded.get(m.version);
    if (done) {
      if (done.checksum !== m.checksum) {
        throw new MigrationError(
          `migration ${m.file} was changed after it was applied (recorded checksum ${done.checksum.slice(0, 12)}, ` +
            `file ${m.checksum.slice(0, 12)}); released migrations are never edited, add a new one`,
        );
      }
      result.skipped.push(m.file);
      continue;
    }
    for (const [i, statement] of m.statements.entries()) {
      try {
        await client.execute(statement, [], { prepare: false });
      } catch (err) {
        throw new MigrationError(
          `migration ${m.file} failed at statement ${i + 1} of ${m.statements.length}: ${(err as Error).message}\n` +
            `  statement: ${statement.split('\n')[0]}${statement.includes('\n') ? ' ...' : ''}`,
        );
      }
    }
    await client.execute(
      'INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)',
      [m.version, m.name, m.checksum, new Date()],
      { prepare: true },
    );
    logger.info({ migration: m.file }, 'migration applied');
    result.applied.push(m.file);
  }
  return result;
}

/**
 * Cassandra gives a role every right on the tables it creates, AUTHORIZE included, so a service
 * that ran its own migrations could hand its tables to another role (ADR 0024). Once the schema is
 * up to date it gives that right back on every table of its keyspace. Only a role that holds it
 * can revoke it, so only the grants still held are revoked (a role may list its own). Returns the
 * tables it revoked AUTHORIZE on.
 */
export async function revokeCreatorAuthorize(
  client: CassandraClient,
  keyspace: string,
  role: string,
): Promise<string[]> {
  const quoted = `'${role.replaceAll("'", "''")}'`;
  // AllowAllAuthenticator / AllowAllAuthorizer (logins without rights, too): no rights to give back
  const unlessUnsupported = (err: unknown) => {
    if (/not support|AllowAll|require authentication/i.test((err as Error).message)) return undefined;
    throw err;
  };
  const roles = await client
    .execute(`LIST ROLES OF ${quoted}`, [], { prepare: false })
    .catch(unlessUnsupported);
  if (!roles || (roles.rows ?? []).some((r) => r.get('role') === role && r.get('super') === true)) return [];
  const held = await client
    .execute(`LIST AUTHORIZE OF ${quoted} NORECURSIVE`, [], { prepare: false })
    .catch(unlessUnsupported);
  if (!held) return [];
  const prefix = `<table ${keyspace}.`;
  const tables = (held.rows ?? [])
    .map((r) => String(r.get('resource')))
    .filter((resource) => resource.startsWith(prefix) && resource.endsWith('>'))
    .map((resource) => resource.slice(prefix.length, -1));
  for (const table of tables) {
    try {
      await client.execute(
        `REVOKE AUTHORIZE ON TABLE ${keyspace}."${table.replaceAll('"', '""')}" FROM ${quoted}`,
        [],
        { prepare: false },
      );
    } catch (err) {
      // another replica starting at the same time gave it back first (so this one no longer may)
      const still = await client
        .execute(
          `LIST AUTHORIZE ON TABLE ${keyspace}."${table.replaceAll('"', '""')}" OF ${quoted} NORECURSIVE`,
          [],
          { prepare: false },
        )
        .catch(() => undefined);
      if (!still || (still.rows ?? []).length > 0) throw err;
    }
  }
  return tables;
}
