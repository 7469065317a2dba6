/**
 * The one registry of every Kafka topic, consumer group, NATS subject, JetStream stream and KV
 * bucket the platform uses. Nothing else spells these names.
 *
 * Every name takes an optional prefix (IM_NAME_PREFIX) so that test runs, or several platforms on
 * one cluster, stay apart without separate brokers: prefix "t42" gives topic "t42.im.messages.v1",
 * subject "t42.im.live.user.<id>", bucket "t42_im_presence", keyspace "t42_im_message".
 */
export interface Registry {
  readonly prefix: string;
  readonly topics: {
    /** Commands keyed by conversation id; its consumer group sequences them. */
    readonly conversationCommands: string;
    /** Sequenced conversation events for notification, search and webhooks. */
    readonly conversationEvents: string;
    /** Completed uploads waiting for processing (thumbnails, metadata removal). */
    readonly mediaJobs: string;
  };
  readonly groups: {
    readonly messageSequencer: string;
    /** Feeds the search index from im.events.v1. */
    readonly searchIndexer: string;
    /** The media service's processors of im.media.v1. */
    readonly mediaProcessor: string;
    /** The notification service's pushes from im.events.v1. */
    readonly pushDispatcher: string;
    /** The notification service's webhook deliveries from im.events.v1. */
    readonly webhookDispatcher: string;
  };
  readonly indices: {
    /** OpenSearch: one document per message (text and where it belongs). */
    readonly messages: string;
  };
  readonly subjects: {
    /**
     * Live events for one user, from the message service alone; gateways subscribe for their
     * connected users only.
     */
    liveUser(userId: string): string;
    /**
     * Typing indicators for one user, from presence: a subject of their own, so that presence may
     * not publish anything else a client would take for a frame (ADR 0023).
     */
    typingTo(userId: string): string;
    /**
     * Live events for every member of a large conversation, published once; every gateway takes
     * them (liveConversations) and writes them to its connected members (ADR 0007).
     */
    liveConversation(tenantId: string, conversationId: string): string;
    readonly liveConversations: string;
    /** Replies from the sequencer to the replica that accepted a command. */
    commandReplies(instanceId: string): string;
    /** Every replica's reply subject (a wildcard, for permissions). */
    readonly allCommandReplies: string;
    readonly sessionRevoked: string;
    /** Presence changes of one user; gateways subscribe for the users their sockets watch. */
    presenceOf(tenantId: string, userId: string): string;
    /** A conversation's members changed: message replicas drop their cached membership. */
    readonly membershipChanged: string;
    /**
     * Who joined and left a conversation (MembersDelta: {conversationId, added, removed} or
     * {conversationId, reset}), published by its sequencer before anything that follows, and on
     * creation: gateways patch the member sets of large conversations, message replicas drop those
     * users' conversation sets.
     */
    readonly conversationMembersChanged: string;
    /** A user's messaging settings changed: message replicas drop their cached copy. */
    readonly userSettingsChanged: string;
  };
  readonly buckets: {
    readonly revokedSessions: string;
    /** Per user: status, devices; plus an index of devices per gateway. */
    readonly presence: string;
    /** Gateway leases with a TTL: a gateway that stops renewing is gone, with its devices. */
    readonly gateways: string;
  };
  /** The Cassandra keyspace a service owns, e.g. "im_message". */
  keyspace(service: string): string;
}

const VALID_PREFIX = /^[a-z0-9][a-z0-9-]{0,31}$/;

export function createRegistry(prefix = ''): Registry {
  if (prefix !== '' && !VALID_PREFIX.test(prefix)) {
    throw new Error(`name prefix "${prefix}" must match ${VALID_PREFIX}`);
  }
  const dotted = (name: string) => (prefix ? `${prefix}.${name}` : name);
  const underscored = (name: string) => (prefix ? `${prefix.replaceAll('-', '_')}_${name}` : name);
  return {
    prefix,
    topics: {
      conversationCommands: dotted('im.messages.v1'),
      conversationEvents: dotted('im.events.v1'),
      mediaJobs: dotted('im.media.v1'),
    },
    groups: {
      messageSequencer: dotted('im.message.sequencer'),
      searchIndexer: dotted('im.message.search-indexer'),
      mediaProcessor: dotted('im.media.processor'),
      pushDispatcher: dotted('im.notification.push-dispatcher'),
      webhookDispatcher: dotted('im.notification.webhooks'),
    },
    indices: {
      messages: dotted('im-messages-v1'),
    },
    subjects: {
      liveUser: (userId) => dotted(`im.live.user.${userId}`),
      typingTo: (userId) => dotted(`im.typing.user.${userId}`),
      liveConversation: (tenantId, conversationId) =>
        dotted(`im.live.conversation.${tenantId}.${conversationId}`),
      liveConversations: dotted('im.live.conversation.*.*'),
      commandReplies: (instanceId) =>
        dotted(`im.message.replies.${instanceId.replace(/[^A-Za-z0-9_-]/g, '_')}`),
      allCommandReplies: dotted('im.message.replies.*'),
      sessionRevoked: dotted('im.auth.session.revoked'),
      presenceOf: (tenantId, userId) => dotted(`im.presence.${tenantId}.${userId}`),
      membershipChanged: dotted('im.message.membership.changed'),
      conversationMembersChanged: dotted('im.message.members.changed'),
      userSettingsChanged: dotted('im.message.settings.changed'),
    },
    buckets: {
      revokedSessions: underscored('im_revoked_sessions'),
      presence: underscored('im_presence'),
      gateways: underscored('im_gateways'),
    },
    keyspace: (service) => underscored(`im_${service}`),
  };
}

/**
 * The environment variable holding one service's password for an infrastructure component under a
 * name prefix, e.g. IM_NATS_PASS_GATEWAY, IM_CASSANDRA_PASS_ACME_EU_MEDIA.
 */
export function passwordVariable(
  component: 'NATS' | 'CASSANDRA' | 'KAFKA',
  service: string,
  prefix = '',
): string {
  return `IM_${component}_PASS_${[prefix, service].filter(Boolean).join('_').replaceAll('-', '_').toUpperCase()}`;
}
