import { Injectable } from '@nestjs/common';
import type { Statement } from '@im/platform/cassandra';
import { monotonicTimestamp } from './monotonic-timestamp.js';

/** message_edits ((conversation_id, seq), edited_at): earlier texts, kept server-side until a delete. */
@Injectable()
export class MessageEditsTable {
  insertStatement(
    conversationId: string,
    seq: number,
    editedAt: Date,
    previousText: string,
    version: number,
  ): Statement {
    return {
      query:
        'INSERT INTO message_edits (conversation_id, seq, edited_at, previous_text) VALUES (?, ?, ?, ?) USING TIMESTAMP ?',
      params: [conversationId, seq, editedAt, previousText, monotonicTimestamp(version)],
    };
  }

  /** A delete removes every earlier text with the message (the whole partition). */
  deleteAllStatement(conversationId: string, seq: number, version: number): Statement {
    return {
      query: 'DELETE FROM message_edits USING TIMESTAMP ? WHERE conversation_id = ? AND seq = ?',
      params: [monotonicTimestamp(version), conversationId, seq],
    };
  }
}
