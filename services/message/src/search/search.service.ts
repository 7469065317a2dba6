import { Injectable } from '@nestjs/common';
import type { Message, SearchResult } from '@im/proto/client/v1';
import type { Caller } from '@im/proto/common/v1';
import { ConversationSets } from '../conversations/conversation-sets.js';
import { ConversationService } from '../conversations/conversation.service.js';
import {
  decodeCursor,
  encodeCursor,
  searchRequest,
  validateSearch,
  type SearchCursor,
} from '../domain/search-documents.js';
import { HistoryService } from '../history/history.service.js';
import { MessagesTable } from '../storage/messages.table.js';
import { MessagesIndex, type Hit } from './messages-index.js';

/** Conversations one search covers at most (OpenSearch's terms filter limit is 65 536). */
const MAX_CONVERSATIONS = 10_000;

/**
 * GET /v1/search/messages: the caller's conversations in the caller's tenant, decided at query
 * time (a member who left no longer finds anything there). Hits are checked against Cassandra, the
 * source of truth: a message deleted or edited since it was indexed is left out until the index
 * catches up, so neither deleted nor pre-edit text is ever returned.
 */
@Injectable()
export class SearchService {
  constructor(
    private readonly conversations: ConversationService,
    private readonly sets: ConversationSets,
    private readonly messages: MessagesTable,
    private readonly history: HistoryService,
    private readonly index: MessagesIndex,
  ) {}

  async search(
    caller: Caller,
    query: string,
    conversationId: string,
    cursor: string,
    limit: number,
  ): Promise<{ results: SearchResult[]; nextCursor: string }> {
    const valid = validateSearch(query, limit);
    const after = decodeCursor(cursor);
    const conversationIds = conversationId
      ? [(await this.conversations.requireMember(caller, conversationId)).row.conversationId]
      : // reused for a few seconds (paging, typing ahead); hits are checked against membership again
        [...(await this.sets.idsOf(caller.userId))].slice(0, MAX_CONVERSATIONS);
    if (conversationIds.length === 0) return { results: [], nextCursor: '' };
    const hits = await this.index.search(
      searchRequest({
        tenantId: caller.tenantId,
        conversationIds,
        query: valid.query,
        limit: valid.limit,
        after,
      }),
      caller.tenantId,
    );
    const page = hits.slice(0, valid.limit);
    const stored = await this.current(caller.userId, page);
    const current = page.flatMap((h) => {
      const m = stored.get(`${h.conversationId}:${h.seq}`);
      const fresh =
        m &&
        !m.deleted &&
        (m.editedAt ?? undefined) === (h.editedAt ? new Date(h.editedAt).toISOString() : undefined);
      return fresh ? [{ message: m, highlights: h.highlights }] : [];
    });
    const seen = await this.history.seenByCaller(
      caller,
      current.map((r) => r.message),
    );
    return {
      results: current.map((r, i) => ({ message: seen[i]!, highlights: r.highlights })),
      nextCursor: hits.length > valid.limit ? encodeCursor(page.at(-1)!.sort as SearchCursor) : '',
    };
  }

  /**
   * The stored messages of the hits in conversations the user is still a member of (the membership
   * cache hears of a removal at once), read one request per conversation bucket.
   */
  private async current(userId: string, hits: readonly Hit[]): Promise<Map<string, Message>> {
    const byConversation = new Map<string, number[]>();
    for (const h of hits)
      byConversation.set(h.conversationId, [...(byConversation.get(h.conversationId) ?? []), h.seq]);
    const out = new Map<string, Message>();
    await Promise.all(
      [...byConversation].map(async ([conversationId, seqs]) => {
        if (!(await this.conversations.isMember(userId, conversationId))) return;
        for (const m of await this.messages.getMany(conversationId, seqs))
          out.set(`${conversationId}:${m.seq}`, m);
      }),
    );
    return out;
  }
}
