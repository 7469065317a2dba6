import { createRegistry, passwordVariable } from '../registry/index.js';
import { replicationClause } from './client.js';

/** The services with a keyspace of their own; each logs in as its own role (ADR 0024). */
export const CASSANDRA_SERVICES: readonly string[] = ['auth', 'message', 'media', 'notification'];

/** The Cassandra role a service logs in as: its name, after the deployment's name prefix. */
export function cassandraRoleOf(service: string, prefix = ''): string {
  return prefix ? `${prefix.replaceAll('-', '_')}_${service}` : service;
}

/**
 * What an administrator runs once per service and deployment: the service's role, its keyspace,
 * and the rights on that keyspace and on nothing else (no other keyspace, no creating keyspaces,
 * no roles, no granting rights on the keyspace; Cassandra does give a role every right on the
 * tables it creates). Idempotent (an existing role keeps its password); `password` is put in as a
 * CQL string.
 */
export function cassandraRoleStatements(options: {
  service: string;
  prefix?: string;
  replication: string;
  password: string;
}): string[] {
  const role = `'${cassandraRoleOf(options.service, options.prefix).replaceAll("'", "''")}'`;
  const password = `'${options.password.replaceAll("'", "''")}'`;
  const keyspace = createRegistry(options.prefix ?? '').keyspace(options.service);
  return [
    `CREATE ROLE IF NOT EXISTS ${role} WITH LOGIN = true AND PASSWORD = ${password}`,
    `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = ${replicationClause(options.replication)}`,
    // every right on the keyspace but AUTHORIZE (handing them to other roles); DROP and ALTER for
    // migrations
    ...['CREATE', 'ALTER', 'DROP', 'SELECT', 'MODIFY'].map(
      (right) => `GRANT ${right} ON KEYSPACE ${keyspace} TO ${role}`,
    ),
  ];
}

/** The variable deploy/local keeps one role's password in, e.g. IM_CASSANDRA_PASS_ACME_EU_MEDIA. */
export function cassandraPasswordVariable(service: string, prefix = ''): string {
  return passwordVariable('CASSANDRA', service, prefix);
}
