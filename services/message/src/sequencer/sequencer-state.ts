import { Injectable } from '@nestjs/common';
import type { MessageState } from '../domain/message-updates.js';
import type { Claim } from '../domain/sequencing.js';
import { ConversationsTable, type ConversationRow } from '../storage/conversations.table.js';
import { MembersTable } from '../storage/members.table.js';
import { MessageChangesTable } from '../storage/message-changes.table.js';

const MAX_CONVERSATIONS = 100_000;
const MAX_CLAIMS = 200_000;
const MAX_READS = 200_000;
const MAX_MESSAGES = 10_000;

/**
 * What the sequencer knows about the conversations of its partitions: last seq, read markers,
 * recent claims. Valid only while it owns the partitions, so it is cleared on every rebalance and
 * reloaded from Cassandra on first use (the stored last_seq is the recovery point).
 */
@Injectable()
export class SequencerState {
  private readonly conversations = new Map<string, ConversationRow | null>();
  private readonly lastSeqs = new Map<string, number>();
  private readonly reads = new Map<string, number>();
  private readonly claims = new Map<string, Claim>();
  private readonly lastVersions = new Map<string, number>();
  /** Messages updated recently (a reaction storm on one message reads it once). */
  private readonly messages = new Map<string, MessageState>();

  constructor(
    private readonly conversationsTable: ConversationsTable,
    private readonly membersTable: MembersTable,
    private readonly changesTable: MessageChangesTable,
  ) {}

  /** Bumped by clear(): a batch that began before a clear must not put its results back. */
  private gen = 0;

  get generation(): number {
    return this.gen;
  }

  clear(): void {
    this.gen++;
    this.conversations.clear();
    this.lastSeqs.clear();
    this.reads.clear();
    this.claims.clear();
    this.lastVersions.clear();
    this.messages.clear();
  }

  async conversation(id: string): Promise<ConversationRow | undefined> {
    if (!this.conversations.has(id)) {
      const row = (await this.conversationsTable.get(id)) ?? null;
      bounded(this.conversations, MAX_CONVERSATIONS).set(id, row);
      if (row && !this.lastSeqs.has(id)) bounded(this.lastSeqs, MAX_CONVERSATIONS).set(id, row.lastSeq);
    }
    return this.conversations.get(id) ?? undefined;
  }

  async lastSeq(id: string): Promise<number> {
    const known = this.lastSeqs.get(id);
    if (known !== undefined) return known;
    const row = await this.conversationsTable.get(id);
    const seq = row?.lastSeq ?? 0;
    bounded(this.lastSeqs, MAX_CONVERSATIONS).set(id, seq);
    return seq;
  }

  /**
   * The conversation's last version: as stored, or past it the newest logged change. A run that
   * stored a batch's changes and stopped before their last_version (a replay came due, a crash)
   * numbered them already; numbering on from last_version would give a later change the same
   * version, and its writes would tie with theirs (a removal's tombstone wins a tie: a member added
   * again would stay out).
   */
  async lastVersion(id: string): Promise<number> {
    const known = this.lastVersions.get(id);
    if (known !== undefined) return known;
    const stored =
      this.conversations.get(id)?.lastVersion ?? (await this.conversationsTable.get(id))?.lastVersion ?? 0;
    const version = await this.changesTable.latestFrom(id, stored);
    bounded(this.lastVersions, MAX_CONVERSATIONS).set(id, version);
    return version;
  }

  /** A copy of a message this sequencer updated (the batch may change it and then fail). */
  recentMessage(conversationId: string, seq: number): MessageState | undefined {
    const known = this.messages.get(`${conversationId}/${seq}`);
    if (!known) return undefined;
    return {
      message: known.message,
      reactors: new Map([...known.reactors].map(([emoji, users]) => [emoji, new Map(users)])),
    };
  }

  /** After a batch stored its updates: the conversation's version and its messages' new states. */
  advanceUpdates(
    generation: number,
    conversationId: string,
    lastVersion: number,
    messages: ReadonlyMap<number, MessageState>,
  ): void {
    if (generation !== this.gen) return;
    // never backwards: a late batch of the same generation must not undo a newer one
    this.lastVersions.set(conversationId, Math.max(this.lastVersions.get(conversationId) ?? 0, lastVersion));
    for (const [seq, state] of messages) {
      const key = `${conversationId}/${seq}`;
      if ((this.messages.get(key)?.message.version ?? 0) > (state.message.version ?? 0)) continue;
      this.messages.delete(key); // re-inserted as the newest
      bounded(this.messages, MAX_MESSAGES).set(key, state);
    }
  }

  /** The user's read marker, or undefined when the user is not a member. */
  async readSeq(conversationId: string, userId: string): Promise<number | undefined> {
    const key = `${conversationId}/${userId}`;
    const known = this.reads.get(key);
    if (known !== undefined) return known;
    const membership = await this.membersTable.membership(userId, conversationId);
    if (!membership) return undefined;
    bounded(this.reads, MAX_READS).set(key, membership.readSeq);
    return membership.readSeq;
  }

  /** After a membership change: removed users are no members here; added ones read up to `readSeq`. */
  membersChanged(
    generation: number,
    conversationId: string,
    added: readonly string[],
    removed: readonly string[],
    readSeq: number,
  ): void {
    if (generation !== this.gen) return;
    for (const u of removed) this.reads.delete(`${conversationId}/${u}`);
    for (const u of added) {
      const key = `${conversationId}/${u}`;
      bounded(this.reads, MAX_READS).set(key, Math.max(this.reads.get(key) ?? 0, readSeq));
    }
  }

  /** A claim this sequencer wrote, by claimId(). */
  recentClaim(conversationId: string, claimId: string): Claim | undefined {
    return this.claims.get(`${conversationId}/${claimId}`);
  }

  advance(
    generation: number,
    conversationId: string,
    lastSeq: number,
    reads: ReadonlyMap<string, number>,
    claims: ReadonlyMap<string, Claim>,
  ): void {
    if (generation !== this.gen) return;
    this.lastSeqs.set(conversationId, Math.max(this.lastSeqs.get(conversationId) ?? 0, lastSeq));
    for (const [user, seq] of reads) bounded(this.reads, MAX_READS).set(`${conversationId}/${user}`, seq);
    for (const [id, claim] of claims) bounded(this.claims, MAX_CLAIMS).set(`${conversationId}/${id}`, claim);
  }
}

/** Evicts the oldest entry when full (Maps iterate in insertion order). */
function bounded<K, V>(map: Map<K, V>, max: number): Map<K, V> {
  if (map.size >= max) map.delete(map.keys().next().value as K);
  return map;
}
