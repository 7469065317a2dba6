import { Injectable } from '@nestjs/common';
import type { Role } from '../../domain/conversation-rules.js';
import { copiesActivity } from '../../domain/membership-activity.js';
import { CONVERSATION_CHANGE } from '../../domain/message-updates.js';
import type { MembershipChange } from '../../domain/membership-changes.js';
import { usersOf } from '../../domain/membership-changes.js';
import type { Decision, SequencingState } from '../../domain/sequencing.js';
import { ConversationsTable } from '../../storage/conversations.table.js';
import { MembersTable } from '../../storage/members.table.js';
import { MessageChangesTable } from '../../storage/message-changes.table.js';
import { membershipTimestamp } from '../../storage/monotonic-timestamp.js';
import type { BatchItem, CommandHandler, ConversationBatch, Needs, Outbox } from '../command-handler.js';

/**
 * changeMembers: add (join), remove (leave, with the owner's hand-over), role and mute. Decided
 * against the roster as it is at that point of the partition (ADR 0013); takes the next version
 * like a settings change, so offline members get the new membership from sync.
 */
@Injectable()
export class ChangeMembersHandler implements CommandHandler<'changeMembers'> {
  readonly kind = 'changeMembers';

  constructor(
    private readonly members: MembersTable,
    private readonly conversations: ConversationsTable,
    private readonly changes: MessageChangesTable,
  ) {}

  needs(item: BatchItem<'changeMembers'>): Needs {
    const change = toChange(item);
    return { readers: [], roster: change ? usersOf(change) : [] };
  }

  decide(state: SequencingState, item: BatchItem<'changeMembers'>): Decision {
    const change = toChange(item);
    if (!change) return { kind: 'refused', code: 'invalid_argument', message: 'no membership change' };
    return state.changeMembers(change);
  }

  store(batch: ConversationBatch, index: number): void {
    const d = batch.decisions[index]!;
    if (d.kind !== 'membersChanged') return;
    const id = batch.conversation.conversationId;
    const ts = membershipTimestamp(d.version);
    const copy = copiesActivity(batch.conversation.type);
    for (const u of d.added)
      batch.statements.push(
        ...this.members.addStatements(
          id,
          u,
          d.addedRole,
          { readSeq: d.readSeq ?? batch.lastSeq, lastSeq: batch.lastSeq },
          batch.now,
          ts,
          copy,
          d.addedMuted.includes(u),
        ),
      );
    for (const m of d.updated)
      batch.statements.push(...this.members.updateStatements(id, m.userId, m.role, m.muted, ts));
    for (const u of d.removed)
      batch.statements.push(...this.members.removeStatements(id, u, ts, d.removedMuted.includes(u)));
    if (d.closed)
      batch.statements.push(this.conversations.settingsStatement(id, { archived: true }, d.version));
    batch.statements.push(
      this.conversations.memberCountStatement(id, d.count, d.version),
      this.changes.insertStatement(id, d.version, CONVERSATION_CHANGE),
    );
  }

  publish(batch: ConversationBatch, index: number, out: Outbox): void {
    const d = batch.decisions[index]!;
    if (d.kind !== 'membersChanged') return;
    const { command, callerId } = batch.items[index]!;
    // the accepting replica tells the members (it reads their views), as for settings
    out.reply(command, { $case: 'conversationChanged', value: { version: d.version } });
    out.event(`members/${d.version}`, batch.now, {
      $case: 'membersChanged',
      value: {
        addedUserIds: d.added,
        removedUserIds: d.removed,
        changedBy: callerId,
        updated: d.updated.map((m) => ({ userId: m.userId, role: m.role, muted: m.muted })),
        version: d.version,
        closed: d.closed,
      },
    });
  }
}

function toChange(item: BatchItem<'changeMembers'>): MembershipChange | undefined {
  const actorId = item.callerId;
  const c = item.body.change;
  switch (c?.$case) {
    case 'add':
      return {
        kind: 'add',
        actorId,
        userIds: c.value.userIds,
        role: c.value.role as Role,
        maxMembers: c.value.maxMembers,
      };
    case 'remove':
      return { kind: 'remove', actorId, userId: c.value.userId, handOverTo: c.value.handOverTo };
    case 'update':
      return {
        kind: 'update',
        actorId,
        userId: c.value.userId,
        role: c.value.role as Role | undefined,
        muted: c.value.muted,
      };
    default:
      return undefined;
  }
}
