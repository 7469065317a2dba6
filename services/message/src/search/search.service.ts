import { Injectable } from '@nestjs/common';
import type { SearchResult } from '@im/proto/client/v1';
import type { Caller } from '@im/proto/common/v1';
import { ConversationService } from '../conversations/conversation.service.js';
import {
  decodeCursor,
  encodeCursor,
  searchRequest,
  validateSearch,
  type SearchCursor,
} from '../domain/search-documents.js';
import { HistoryService } from '../history/history.service.js';
import { MembersTable } from '../storage/members.table.js';
import { MessagesTable } from '../storage/messages.table.js';
import { MessagesIndex } from './messages-index.js';

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
    private readonly members: MembersTable,
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
      : (await this.members.conversationsOf(caller.userId))
          .slice(0, MAX_CONVERSATIONS)
          .map((m) => m.conversationId);
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
    const stored = await Promise.all(page.map((h) => this.messages.get(h.conversationId, h.seq)));
    const current = page.flatMap((h, i) => {
      const m = stored[i];
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
}
