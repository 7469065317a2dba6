import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  subscribeMembersDeltas,
  type MembersDelta,
  type NatsConnection,
  type Subscription,
} from '@im/platform/nats';
import { NATS, REGISTRY } from '@im/platform/nest';
import type { Registry } from '@im/platform/registry';
import { Downstream } from '../clients/downstream.js';

const TTL_MS = 60_000;
/** A failed load is not retried for each queued event: they fail fast for this long. */
const FAILURE_MEMORY_MS = 2_000;
/** Member ids kept in all (~100 bytes each): the oldest sets go first. */
const MAX_IDS = 1_000_000;
const PAGE = 5_000;

interface Entry {
  members: Promise<Set<string>>;
  /** Once loaded: the set itself, patched in place by membership deltas. */
  ready?: Set<string>;
  until: number;
}

/**
 * The members of large conversations, for the events published once per conversation (ADR 0007):
 * loaded from the message service when such an event first arrives, patched by the deltas each
 * conversation's sequencer publishes (before anything that follows the change), dropped on a NATS
 * reconnect (deltas sent meanwhile are lost) and after a minute. Bounded by MAX_IDS in all.
 */
@Injectable()
export class ConversationMembers implements OnModuleInit, OnApplicationShutdown {
  private readonly entries = new Map<string, Entry>();
  private ids = 0;
  private sub: Subscription | undefined;

  constructor(
    private readonly downstream: Downstream,
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(REGISTRY) private readonly registry: Registry,
  ) {}

  onModuleInit(): void {
    this.sub = subscribeMembersDeltas(this.nats, this.registry.subjects.conversationMembersChanged, (d) =>
      this.apply(d),
    );
    void (async () => {
      for await (const s of this.nats.status()) if (s.type === 'reconnect') this.clear();
    })().catch(() => undefined);
  }

  onApplicationShutdown(): void {
    this.sub?.unsubscribe();
  }

  of(tenantId: string, conversationId: string): Promise<ReadonlySet<string>> {
    this.sweep();
    const hit = this.entries.get(conversationId);
    if (hit && hit.until > Date.now()) return hit.members;
    if (hit) this.drop(conversationId);
    const entry: Entry = { members: this.load(tenantId, conversationId), until: Date.now() + TTL_MS };
    this.entries.set(conversationId, entry);
    entry.members.then(
      (set) => {
        if (this.entries.get(conversationId) !== entry) return;
        entry.ready = set;
        this.ids += set.size;
        this.evictBeyondBound(conversationId);
      },
      () => {
        if (this.entries.get(conversationId) === entry) entry.until = Date.now() + FAILURE_MEMORY_MS;
      },
    );
    return entry.members;
  }

  /** Joins and leaves: patched into a loaded set; a set still loading may miss them, so it goes. */
  apply(delta: MembersDelta): void {
    const entry = this.entries.get(delta.conversationId);
    if (!entry) return;
    if (delta.reset || !entry.ready) return this.drop(delta.conversationId);
    const set = entry.ready;
    for (const u of delta.added ?? [])
      if (!set.has(u)) {
        set.add(u);
        this.ids++;
      }
    for (const u of delta.removed ?? []) if (set.delete(u)) this.ids--;
  }

  clear(): void {
    this.entries.clear();
    this.ids = 0;
  }

  private drop(conversationId: string): void {
    const entry = this.entries.get(conversationId);
    if (!entry) return;
    this.entries.delete(conversationId);
    this.ids -= entry.ready?.size ?? 0;
  }

  /** Entries expire in the order they were made (one TTL): the expired ones are at the front. */
  private sweep(): void {
    const now = Date.now();
    for (const [id, entry] of this.entries) {
      if (entry.until > now) break;
      if (entry.ready || entry.until + TTL_MS < now) this.drop(id);
    }
  }

  private evictBeyondBound(keep: string): void {
    for (const id of this.entries.keys()) {
      if (this.ids <= MAX_IDS) return;
      if (id !== keep) this.drop(id);
    }
  }

  private async load(tenantId: string, conversationId: string): Promise<Set<string>> {
    const ids = new Set<string>();
    let after = '';
    do {
      const page = await this.downstream.message.listMembers({
        tenantId,
        conversationId,
        afterUserId: after,
        limit: PAGE,
      });
      for (const m of page.members) ids.add(m.userId);
      after = page.nextAfterUserId;
    } while (after);
    return ids;
  }
}
