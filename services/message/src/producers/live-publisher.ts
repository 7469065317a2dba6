import { Inject, Injectable } from '@nestjs/common';
import { traceHeaders, type NatsConnection } from '@im/platform/nats';
import { CONFIG, NATS, REGISTRY } from '@im/platform/nest';
import type { Registry } from '@im/platform/registry';
import { LiveEvent } from '@im/proto/events/v1';
import type { MessageConfig } from '../config.js';

/** An event whose content differs per recipient (reactions' `me`), and its one shared form. */
export interface MemberViews {
  /** Recipients of the same variant get the same bytes. */
  variantOf(userId: string): string;
  build(variant: string): LiveEvent;
  /** What every member of a large conversation gets instead, on its subject. */
  shared(): LiveEvent;
  /** Members whose own view differs from the shared one: they get theirs as well. */
  alsoOwnTo: readonly string[];
}

/**
 * Live events to users over core NATS (im.live.user.<id>): at most once per publish, which is
 * fine because clients detect gaps in seq and heal with sync. The event is encoded once and the
 * same bytes go to every recipient's subject. An event for every member of a large conversation
 * is published once on its conversation subject instead (ADR 0007).
 */
@Injectable()
export class LivePublisher {
  constructor(
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(REGISTRY) private readonly registry: Registry,
    @Inject(CONFIG) private readonly config: MessageConfig,
  ) {}

  /**
   * An event for all of a conversation's members: per member below
   * LIVE_CONVERSATION_FANOUT_MIN_MEMBERS, else one publish that every gateway filters.
   */
  publishToMembers(
    conversation: { conversationId: string; tenantId: string },
    memberIds: readonly string[],
    event: LiveEvent,
  ): void {
    if (!this.isLarge(memberIds.length)) return this.publish(memberIds, event);
    this.publishToConversation(conversation, event);
  }

  /** Whether a conversation of this many members gets its events once, on its own subject. */
  isLarge(memberCount: number): boolean {
    const min = this.config.LIVE_CONVERSATION_FANOUT_MIN_MEMBERS;
    return min > 0 && memberCount >= min;
  }

  /** One publish for every member of the conversation; each gateway writes it to its own. */
  publishToConversation(conversation: { conversationId: string; tenantId: string }, event: LiveEvent): void {
    const headers = traceHeaders();
    this.nats.publish(
      this.registry.subjects.liveConversation(conversation.tenantId, conversation.conversationId),
      LiveEvent.encode(event).finish(),
      headers ? { headers } : undefined,
    );
  }

  publish(userIds: Iterable<string>, event: LiveEvent): void {
    this.publishEach(
      userIds,
      () => '',
      () => event,
    );
  }

  /**
   * An event for all of a conversation's members that differs per recipient: per member below
   * LIVE_CONVERSATION_FANOUT_MIN_MEMBERS, else the shared view once on the conversation subject and
   * their own view to the few whose view it does not give.
   */
  publishViewsToMembers(
    conversation: { conversationId: string; tenantId: string },
    memberIds: readonly string[],
    views: MemberViews,
  ): void {
    if (!this.isLarge(memberIds.length)) return this.publishEach(memberIds, views.variantOf, views.build);
    this.publishToConversation(conversation, views.shared());
    this.publishEach(views.alsoOwnTo, views.variantOf, views.build);
  }

  /**
   * An event that differs per recipient (reactions' `me`): recipients of the same variant share
   * one encoding, so the cost stays one encode per variant, not per recipient.
   */
  publishEach(
    userIds: Iterable<string>,
    variantOf: (userId: string) => string,
    build: (variant: string) => LiveEvent,
  ): void {
    const encoded = new Map<string, Uint8Array>();
    const headers = traceHeaders();
    for (const userId of userIds) {
      const variant = variantOf(userId);
      let data = encoded.get(variant);
      if (!data) encoded.set(variant, (data = LiveEvent.encode(build(variant)).finish()));
      this.nats.publish(this.registry.subjects.liveUser(userId), data, headers ? { headers } : undefined);
    }
  }
}
