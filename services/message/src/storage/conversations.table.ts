import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient, Statement } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';
import { meter } from '@im/platform/telemetry';
import { Message } from '@im/proto/client/v1';
import type { ConversationType } from '../domain/conversation-rules.js';
import { monotonicTimestamp } from './monotonic-timestamp.js';

export interface ConversationRow {
  conversationId: string;
  tenantId: string;
  type: ConversationType;
  title: string;
  createdBy: string;
  createdAt: Date;
  memberCount: number;
  lastSeq: number;
  lastActivityAt: Date;
  lastMessage: Message | undefined;
  /** The update counter: the version of the latest edit, delete or reaction (ADR 0010). */
  lastVersion: number;
  topic: string;
  archived: boolean;
  announcement: boolean;
}

/** Settings an UpdateConversation command changes (the fields set). */
export interface ConversationSettings {
  title?: string | undefined;
  topic?: string | undefined;
  archived?: boolean | undefined;
  announcement?: boolean | undefined;
}

/** What many conversation rows are read for; the count shows what a list or a sync costs. */
export type RowsReadFor = 'list' | 'sync' | 'unread_totals';

const rowsRead = meter().createCounter('im_conversation_rows_read_total', {
  description: 'conversation rows read in bulk, by what they were read for',
});

const COLUMNS =
  'conversation_id, tenant_id, type, title, created_by, created_at, member_count, last_seq, last_activity_at, last_message, last_message_change, last_version, topic, archived, announcement';

@Injectable()
export class ConversationsTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async insert(
    c: Omit<ConversationRow, 'lastMessage' | 'lastVersion' | 'topic' | 'archived' | 'announcement'>,
  ): Promise<void> {
    await this.db.execute(
      'INSERT INTO conversations (conversation_id, tenant_id, type, title, created_by, created_at, member_count, last_seq, last_activity_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        c.conversationId,
        c.tenantId,
        c.type,
        c.title,
        c.createdBy,
        c.createdAt,
        c.memberCount,
        c.lastSeq,
        c.lastActivityAt,
      ],
    );
  }

  async get(conversationId: string): Promise<ConversationRow | undefined> {
    const row = (
      await this.db.execute(`SELECT ${COLUMNS} FROM conversations WHERE conversation_id = ?`, [
        conversationId,
      ])
    ).first();
    return row ? toRow(row) : undefined;
  }

  /** Rows by id (missing ones left out), counted by what they are read for. */
  async getMany(ids: readonly string[], purpose: RowsReadFor): Promise<ConversationRow[]> {
    if (ids.length > 0) rowsRead.add(ids.length, { purpose });
    const out: ConversationRow[] = [];
    // Token-aware single-partition reads in parallel beat one multi-partition IN query.
    for (let i = 0; i < ids.length; i += 64) {
      const rows = await Promise.all(ids.slice(i, i + 64).map((id) => this.get(id)));
      for (const r of rows) if (r) out.push(r);
    }
    return out;
  }

  /**
   * Written by the partition's sequencer only, with the seq as write timestamp: last_seq (and the
   * last message with it) never moves back, whoever writes last.
   */
  lastStatement(conversationId: string, lastSeq: number, lastMessage: Message | undefined): Statement {
    const ts = monotonicTimestamp(lastSeq);
    if (!lastMessage)
      return {
        query: 'UPDATE conversations USING TIMESTAMP ? SET last_seq = ? WHERE conversation_id = ?',
        params: [ts, lastSeq, conversationId],
      };
    return {
      query:
        'UPDATE conversations USING TIMESTAMP ? SET last_seq = ?, last_activity_at = ?, last_message = ? WHERE conversation_id = ?',
      params: [
        ts,
        lastSeq,
        new Date(lastMessage.createdAt!),
        Buffer.from(Message.encode(lastMessage).finish()),
        conversationId,
      ],
    };
  }

  /**
   * The last message as a change left it, at the change's version: the latest change wins, and
   * the view uses it while that message is still the last (toRow).
   */
  lastMessageChangeStatement(conversationId: string, message: Message, version: number): Statement {
    return {
      query: 'UPDATE conversations USING TIMESTAMP ? SET last_message_change = ? WHERE conversation_id = ?',
      params: [monotonicTimestamp(version), Buffer.from(Message.encode(message).finish()), conversationId],
    };
  }

  /** Written by the partition's sequencer after an update's rows; never moves back (like last_seq). */
  lastVersionStatement(conversationId: string, version: number): Statement {
    return {
      query: 'UPDATE conversations USING TIMESTAMP ? SET last_version = ? WHERE conversation_id = ?',
      params: [monotonicTimestamp(version), version, conversationId],
    };
  }

  /** The settings a command changed, at its version's timestamp (the latest change wins). */
  settingsStatement(conversationId: string, settings: ConversationSettings, version: number): Statement {
    const columns = (
      [
        ['title', settings.title],
        ['topic', settings.topic],
        ['archived', settings.archived],
        ['announcement', settings.announcement],
      ] as const
    ).filter(([, v]) => v !== undefined);
    return {
      query: `UPDATE conversations USING TIMESTAMP ? SET ${columns.map(([c]) => `${c} = ?`).join(', ')} WHERE conversation_id = ?`,
      params: [monotonicTimestamp(version), ...columns.map(([, v]) => v), conversationId],
    };
  }

  /** The member count after a membership change at `version` (the sequencer counts). */
  memberCountStatement(conversationId: string, count: number, version: number): Statement {
    return {
      query: 'UPDATE conversations USING TIMESTAMP ? SET member_count = ? WHERE conversation_id = ?',
      params: [monotonicTimestamp(version), count, conversationId],
    };
  }
}

/** The last message, as its latest change left it when that change is about it. */
function lastMessageOf(row: { get(name: string): unknown }): Message | undefined {
  const stored = row.get('last_message') as Buffer | null;
  if (!stored) return undefined;
  const last = Message.decode(stored);
  const changed = row.get('last_message_change') as Buffer | null;
  const change = changed ? Message.decode(changed) : undefined;
  return change && change.seq === last.seq && change.version > last.version ? change : last;
}

function toRow(row: { get(name: string): unknown }): ConversationRow {
  return {
    conversationId: row.get('conversation_id') as string,
    tenantId: row.get('tenant_id') as string,
    type: row.get('type') as ConversationType,
    title: (row.get('title') as string | null) ?? '',
    createdBy: row.get('created_by') as string,
    createdAt: row.get('created_at') as Date,
    memberCount: (row.get('member_count') as number | null) ?? 0,
    lastSeq: Number(row.get('last_seq') ?? 0),
    lastActivityAt: (row.get('last_activity_at') as Date | null) ?? (row.get('created_at') as Date),
    lastMessage: lastMessageOf(row),
    lastVersion: Number(row.get('last_version') ?? 0),
    topic: (row.get('topic') as string | null) ?? '',
    archived: (row.get('archived') as boolean | null) ?? false,
    announcement: (row.get('announcement') as boolean | null) ?? false,
  };
}
