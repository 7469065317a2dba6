import { createRegistry, passwordVariable, type Registry } from '../registry/index.js';

interface KafkaAccess {
  /** Topics it creates at start-up when they are missing. */
  creates: (r: Registry) => string[];
  /** Topics it writes to. */
  produces: (r: Registry) => string[];
  /** Topics it reads, each in one consumer group of its own. */
  consumes: (r: Registry) => Array<{ topic: string; group: string }>;
}

/**
 * The one table of what each service may do on Kafka (ADR 0028). Kafka enforces it: every service
 * logs in as its own SASL user whose ACLs are made from this table, so only the message service
 * writes commands (a forged command is a message sent as anyone) and reads the events topic apart
 * from notification; media reads no messages at all.
 */
export const KAFKA_ACCESS: Readonly<Record<string, KafkaAccess>> = {
  message: {
    creates: (r) => [r.topics.conversationCommands, r.topics.conversationEvents],
    produces: (r) => [r.topics.conversationCommands, r.topics.conversationEvents],
    consumes: (r) => [
      { topic: r.topics.conversationCommands, group: r.groups.messageSequencer },
      { topic: r.topics.conversationEvents, group: r.groups.searchIndexer },
    ],
  },
  media: {
    creates: (r) => [r.topics.mediaJobs],
    produces: (r) => [r.topics.mediaJobs],
    consumes: (r) => [{ topic: r.topics.mediaJobs, group: r.groups.mediaProcessor }],
  },
  notification: {
    creates: () => [],
    produces: () => [],
    consumes: (r) => [
      { topic: r.topics.conversationEvents, group: r.groups.pushDispatcher },
      { topic: r.topics.conversationEvents, group: r.groups.webhookDispatcher },
    ],
  },
};

export const KAFKA_SERVICES: readonly string[] = Object.keys(KAFKA_ACCESS);

/** The Kafka user (SASL) a service logs in as: its name, after the deployment's name prefix. */
export function kafkaUserOf(service: string, prefix = ''): string {
  return prefix ? `${prefix}-${service}` : service;
}

/** The variable deploy/local keeps one user's password in, e.g. IM_KAFKA_PASS_ACME_EU_MEDIA. */
export function kafkaPasswordVariable(service: string, prefix = ''): string {
  return passwordVariable('KAFKA', service, prefix);
}

export type KafkaResource = 'topic' | 'group';
export type KafkaOperation = 'create' | 'write' | 'read' | 'describe';

/** One ACL: the service's user may do `operation` on the named (literal) resource. */
export interface KafkaAcl {
  principal: string;
  resource: KafkaResource;
  name: string;
  operation: KafkaOperation;
}

/**
 * The ACLs of one service under a name prefix, all literal names and all allow (a user with none
 * may do nothing: the broker runs with allow.everyone.if.no.acl.found=false). Write and read imply
 * describe; a creator also gets describe, which ensureTopics needs to see the topic exists.
 */
export function kafkaAclsOf(service: string, prefix = ''): KafkaAcl[] {
  const access = KAFKA_ACCESS[service];
  if (!access) throw new Error(`service ${service} has no Kafka access`);
  const r = createRegistry(prefix);
  const principal = `User:${kafkaUserOf(service, prefix)}`;
  const acl = (resource: KafkaResource, name: string, operation: KafkaOperation): KafkaAcl => ({
    principal,
    resource,
    name,
    operation,
  });
  const acls = [
    ...access.creates(r).flatMap((t) => [acl('topic', t, 'create'), acl('topic', t, 'describe')]),
    ...access.produces(r).map((t) => acl('topic', t, 'write')),
    ...access
      .consumes(r)
      .flatMap(({ topic, group }) => [acl('topic', topic, 'read'), acl('group', group, 'read')]),
  ];
  // a topic both created and written, or read by two groups, is named once per right
  return [...new Map(acls.map((a) => [`${a.resource}:${a.name}:${a.operation}`, a])).values()];
}

/** An operation as Kafka's tools and Strimzi spell it: "Describe". */
export function kafkaOperationName(operation: KafkaOperation): string {
  return operation[0]!.toUpperCase() + operation.slice(1);
}

/** `kafka-acls.sh` commands that make one service's ACLs, for an administrator. */
export function kafkaAclCommands(service: string, prefix = ''): string[] {
  return kafkaAclsOf(service, prefix).map(
    (a) =>
      `kafka-acls.sh --bootstrap-server "$KAFKA_BOOTSTRAP" --command-config admin.properties --add ` +
      `--allow-principal '${a.principal}' --operation ${kafkaOperationName(a.operation)} ` +
      `--${a.resource} '${a.name}'`,
  );
}
