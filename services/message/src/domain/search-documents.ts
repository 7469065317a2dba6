import { AppError } from '@im/platform/errors';
import type { Message } from '@im/proto/client/v1';
import type { ConversationEvent } from '@im/proto/events/v1';

/**
 * What the search index holds and how it is asked, without I/O. One document per message, keyed
 * by (conversation, seq), versioned by the message's update version: a replayed event, or one
 * that arrives after a newer one, never overwrites newer text (and a delete is a document without
 * text that nothing older can bring back).
 */
export interface MessageDocument {
  tenantId: string;
  conversationId: string;
  seq: number;
  senderId: string;
  text: string;
  createdAt: string;
  editedAt?: string;
  deleted: boolean;
}

export interface IndexOperation {
  id: string;
  version: number;
  /** Routing: a tenant's documents live on one shard, and its queries ask that shard only. */
  routing: string;
  doc: MessageDocument;
}

export const QUERY_MAX_CHARS = 256;
export const SEARCH_PAGE_DEFAULT = 20;
export const SEARCH_PAGE_MAX = 50;

export const documentId = (conversationId: string, seq: number): string => `${conversationId}:${seq}`;

/** The index mapping: strict, so a document of another shape is refused, not guessed at. */
export const MESSAGES_MAPPING = {
  dynamic: 'strict',
  properties: {
    tenantId: { type: 'keyword' },
    conversationId: { type: 'keyword' },
    seq: { type: 'long' },
    senderId: { type: 'keyword' },
    // the standard analyzer: Unicode word boundaries (UAX #29), lower-cased; CJK by character.
    // Offsets in the postings let the highlighter find matches without analysing the text again.
    text: { type: 'text', analyzer: 'standard', index_options: 'offsets' },
    createdAt: { type: 'date' },
    editedAt: { type: 'date' },
    deleted: { type: 'boolean' },
  },
} as const;

/** The index operation an event asks for; undefined when its text did not change (reactions, reads). */
export function indexOperationOf(event: ConversationEvent): IndexOperation | undefined {
  const e = event.event;
  if (e?.$case === 'messageCreated' && e.value.message) return operation(event.tenantId, e.value.message);
  if (
    e?.$case === 'messageUpdated' &&
    e.value.message &&
    (e.value.change === 'edited' || e.value.change === 'deleted')
  )
    return operation(event.tenantId, e.value.message);
  return undefined;
}

function operation(tenantId: string, m: Message): IndexOperation {
  return {
    id: documentId(m.conversationId, m.seq),
    version: m.version,
    routing: tenantId,
    doc: {
      tenantId,
      conversationId: m.conversationId,
      seq: m.seq,
      senderId: m.senderId,
      text: m.deleted ? '' : m.text,
      createdAt: m.createdAt!,
      ...(m.editedAt ? { editedAt: m.editedAt } : {}),
      deleted: m.deleted ?? false,
    },
  };
}

/** Where a page ends: the sort values of its last hit. */
export type SearchCursor = [createdAt: number, conversationId: string, seq: number];

export function encodeCursor(c: SearchCursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeCursor(cursor: string): SearchCursor | undefined {
  if (cursor === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    // a cursor of the relevance order (before 2026-12-05) led with a score: paging goes on by time
    const c =
      Array.isArray(parsed) && parsed.length === 4 && Number.isFinite(parsed[0]) ? parsed.slice(1) : parsed;
    // what OpenSearch would refuse (a 503 to retry forever) is refused here as the bad input it is
    if (
      Array.isArray(c) &&
      c.length === 3 &&
      Number.isSafeInteger(c[0]) &&
      typeof c[1] === 'string' &&
      c[1].length <= 128 &&
      Number.isSafeInteger(c[2]) &&
      (c[2] as number) >= 1
    )
      return c as SearchCursor;
  } catch {
    // fall through
  }
  throw new AppError('invalid_argument', 'cursor: not one this API returned');
}

export interface SearchInput {
  tenantId: string;
  conversationIds: readonly string[];
  query: string;
  limit: number;
  after: SearchCursor | undefined;
}

/** Validates the query text and page size; returns them normalised. */
export function validateSearch(query: string, limit: number): { query: string; limit: number } {
  const q = query.trim();
  if (q === '' || [...q].length > QUERY_MAX_CHARS)
    throw new AppError('invalid_argument', `q: 1-${QUERY_MAX_CHARS} characters`);
  if (limit < 0 || limit > SEARCH_PAGE_MAX)
    throw new AppError('invalid_argument', `limit: 1-${SEARCH_PAGE_MAX}`);
  return { query: q, limit: limit || SEARCH_PAGE_DEFAULT };
}

/**
 * The OpenSearch request: every word must match, only the tenant's given conversations, never a
 * deleted message; newest first; HTML-escaped highlights. Not by relevance: a score depends on the
 * whole shard's statistics, which every write anywhere changes, so pages cut at a score would skip
 * or repeat hits (and a cursor carrying it would tell other tenants' word frequencies).
 */
export function searchRequest(input: SearchInput): Record<string, unknown> {
  return {
    size: input.limit + 1,
    track_total_hits: false,
    _source: ['conversationId', 'seq', 'editedAt'],
    query: {
      bool: {
        must: [{ match: { text: { query: input.query, operator: 'and' } } }],
        filter: [
          { term: { tenantId: input.tenantId } },
          { terms: { conversationId: input.conversationIds } },
          { term: { deleted: false } },
        ],
      },
    },
    sort: [{ createdAt: 'desc' }, { conversationId: 'asc' }, { seq: 'desc' }],
    ...(input.after ? { search_after: input.after } : {}),
    highlight: {
      encoder: 'html',
      pre_tags: ['<em>'],
      post_tags: ['</em>'],
      fields: { text: { number_of_fragments: 3, fragment_size: 150 } },
    },
  };
}
