import { createRegistry, passwordVariable, type Registry } from '../registry/index.js';

/**
 * What a service may do with a KV bucket: read it (get, watch, keys), write keys (put, delete,
 * purge a key). Deliberately apart: whoever may read can create consumers, and a consumer delivers
 * to any subject its creator names, so writers that need not read get no consumers. No service may
 * make a bucket: an operator's user provisions them (buckets.ts), because whoever creates a missing
 * stream chooses its subjects.
 */
export type BucketRight = 'read' | 'write';

interface NatsAccess {
  publish: (r: Registry) => string[];
  subscribe: (r: Registry) => string[];
  buckets: (r: Registry) => Record<string, readonly BucketRight[]>;
}

const none = () => [];

/**
 * The one table of what each service may do on NATS (ADR 0023). NATS enforces it: every service
 * connects as its own user whose permissions are rendered from this table, so a compromised
 * notification pod cannot read live messages, only the message service can write to a user's live
 * subject, and presence only typing.
 */
export const NATS_ACCESS: Readonly<Record<string, NatsAccess>> = {
  gateway: {
    publish: none,
    subscribe: (r) => [
      r.subjects.liveUser('*'),
      r.subjects.typingTo('*'),
      r.subjects.liveConversations,
      r.subjects.conversationMembersChanged,
      r.subjects.presenceOf('*', '*'),
    ],
    // renews its lease without reading anyone's
    buckets: (r) => ({ [r.buckets.gateways]: ['write'], [r.buckets.revokedSessions]: ['read'] }),
  },
  auth: {
    publish: none,
    subscribe: none,
    buckets: (r) => ({ [r.buckets.revokedSessions]: ['write'] }),
  },
  presence: {
    // typing indicators go to the members' typing subjects, which carry nothing else
    publish: (r) => [r.subjects.presenceOf('*', '*'), r.subjects.typingTo('*')],
    subscribe: none,
    buckets: (r) => ({
      [r.buckets.presence]: ['read', 'write'],
      [r.buckets.gateways]: ['read', 'write'],
    }),
  },
  message: {
    publish: (r) => [
      r.subjects.liveUser('*'),
      r.subjects.liveConversation('*', '*'),
      r.subjects.allCommandReplies,
      r.subjects.membershipChanged,
      r.subjects.conversationMembersChanged,
      r.subjects.userSettingsChanged,
    ],
    subscribe: (r) => [
      r.subjects.allCommandReplies,
      r.subjects.membershipChanged,
      // who joined and left: each replica's per-user conversation sets (search, typing)
      r.subjects.conversationMembersChanged,
      r.subjects.userSettingsChanged,
    ],
    buckets: () => ({}),
  },
  notification: {
    publish: none,
    subscribe: none,
    buckets: (r) => ({ [r.buckets.revokedSessions]: ['read'] }),
  },
};

/** The NATS user a service connects as: its name, after the deployment's name prefix. */
export function natsUserOf(service: string, prefix = ''): string {
  return prefix ? `${prefix}-${service}` : service;
}

/** Where a connection's request replies arrive; each user may subscribe to its own only. */
export function inboxPrefixOf(user: string): string {
  return `_INBOX_${user.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/**
 * The JetStream API subjects behind each right on one KV bucket. Nobody may create, update, delete
 * or purge a bucket's stream through the API (creating or updating it chooses its subjects, so it
 * could capture anything).
 */
function bucketSubjects(bucket: string, rights: readonly BucketRight[]): string[] {
  const stream = `KV_${bucket}`;
  const api = '$JS.API';
  const out = [`${api}.STREAM.INFO.${stream}`];
  if (rights.includes('read')) {
    out.push(
      `${api}.STREAM.MSG.GET.${stream}`,
      `${api}.DIRECT.GET.${stream}`,
      `${api}.DIRECT.GET.${stream}.>`,
      // watches and keys: ordered push consumers, with flow control
      `${api}.CONSUMER.CREATE.${stream}`,
      `${api}.CONSUMER.CREATE.${stream}.>`,
      `${api}.CONSUMER.INFO.${stream}.*`,
      `${api}.CONSUMER.DELETE.${stream}.*`,
      `$JS.FC.${stream}.>`,
    );
  }
  if (rights.includes('write')) out.push(`$KV.${bucket}.>`);
  return out;
}

export interface NatsPermissions {
  publish: string[];
  subscribe: string[];
}

/** What one service's NATS user may publish and subscribe to, for a deployment's name prefix. */
export function natsPermissionsOf(service: string, prefix = ''): NatsPermissions {
  const access = NATS_ACCESS[service];
  if (!access) throw new Error(`no NATS access is defined for "${service}"`);
  const r = createRegistry(prefix);
  const buckets = Object.entries(access.buckets(r));
  return {
    // account info: every service's readiness check asks JetStream for it
    publish: [
      ...access.publish(r),
      '$JS.API.INFO',
      ...buckets.flatMap(([b, rights]) => bucketSubjects(b, rights)),
    ],
    subscribe: [...access.subscribe(r), `${inboxPrefixOf(natsUserOf(service, prefix))}.>`],
  };
}

/**
 * The `authorization` block of a NATS server's configuration: one user per service and name
 * prefix, with the permissions above, and optionally an unrestricted user for operators and tests.
 * Passwords are references to environment variables of the NATS server (natsPasswordVariable;
 * IM_NATS_ADMIN_PASS), so the file holds no secret.
 */
export function renderNatsAuthorization(options: { prefixes: string[]; adminUser?: string }): string {
  const list = (items: string[]) => `[${items.map((s) => JSON.stringify(s)).join(', ')}]`;
  const users: string[] = [];
  if (options.adminUser) {
    users.push(`    { user: ${JSON.stringify(options.adminUser)}, password: $IM_NATS_ADMIN_PASS }`);
  }
  for (const prefix of options.prefixes) {
    for (const service of Object.keys(NATS_ACCESS)) {
      const p = natsPermissionsOf(service, prefix);
      users.push(
        [
          `    {`,
          `      user: ${JSON.stringify(natsUserOf(service, prefix))}`,
          `      password: $${natsPasswordVariable(service, prefix)}`,
          `      permissions: {`,
          `        publish: { allow: ${list(p.publish)} }`,
          `        subscribe: { allow: ${list(p.subscribe)} }`,
          `      }`,
          `    }`,
        ].join('\n'),
      );
    }
  }
  return [
    '# Generated by `node tools/nats-auth.mjs` from NATS_ACCESS (libs/platform/src/nats/permissions.ts).',
    '# Do not edit: a unit test compares this file with the table.',
    'authorization {',
    '  users: [',
    users.join('\n'),
    '  ]',
    '}',
    '',
  ].join('\n');
}

/**
 * The NATS server's environment variable holding one service's password under a name prefix, e.g.
 * IM_NATS_PASS_GATEWAY, IM_NATS_PASS_ACME_EU_GATEWAY: platforms sharing a NATS share no password.
 * Passwords must be letters and digits: the server parses a variable's value as configuration.
 */
export function natsPasswordVariable(service: string, prefix = ''): string {
  return passwordVariable('NATS', service, prefix);
}
