import type { Message } from '@im/sdk';
import type { AppSession } from '../app.js';
import { timeOf } from '../conversation-title.js';
import { AttachmentView } from './attachment-view.js';

export const QUICK_REACTIONS = ['👍', '❤️', '😂'];

export interface MessageActions {
  reply(m: Message): void;
  edit(m: Message): void;
}

export function MessageItem({
  session,
  message: m,
  pending,
  showSender,
  readByOthers,
  actions,
}: {
  session: AppSession;
  message: Message;
  pending: boolean;
  showSender: boolean;
  readByOthers: number;
  actions: MessageActions;
}) {
  const { chat, directory, media, client } = session;
  const mine = m.senderId === client.user.id;
  const act = (p: Promise<unknown>) => void p.catch((e: unknown) => alert(String(e)));
  return (
    <div
      class={`msg ${mine ? 'mine' : 'theirs'} ${pending ? 'pending' : ''}`}
      data-seq={m.seq}
      data-pending={pending ? 'true' : undefined}
    >
      {showSender && !mine && <span class="sender">{directory.name(m.senderId)}</span>}
      {m.replyTo && (
        <span class="quote" data-testid="reply-quote">
          <strong>{directory.name(m.replyTo.senderId)}</strong>{' '}
          {m.replyTo.deleted ? 'deleted' : m.replyTo.preview}
        </span>
      )}
      <span class="text">{m.deleted ? <em>deleted</em> : m.text}</span>
      {!m.deleted &&
        m.attachments?.map((a) => <AttachmentView key={a.mediaId} attachment={a} media={media} />)}
      {(m.reactions ?? []).length > 0 && (
        <span class="reactions">
          {m.reactions.map((r) => (
            <button
              type="button"
              key={r.emoji}
              class={r.me ? 'reaction me' : 'reaction'}
              data-testid="reaction"
              onClick={() => act(chat.react(m.conversationId, m.seq, r.emoji, !r.me))}
            >
              {r.emoji} {r.count}
            </button>
          ))}
        </span>
      )}
      <span class="meta">
        {m.editedAt && 'edited · '}
        {timeOf(m.createdAt)}
        {mine && (pending ? ' · sending' : readByOthers >= m.seq ? ' · read' : ' · sent')}
      </span>
      {!pending && !m.deleted && (
        <span class="actions">
          <button type="button" title="Reply" onClick={() => actions.reply(m)}>
            ↩
          </button>
          {QUICK_REACTIONS.map((emoji) => (
            <button
              type="button"
              key={emoji}
              title={`React ${emoji}`}
              onClick={() => act(chat.react(m.conversationId, m.seq, emoji, true))}
            >
              {emoji}
            </button>
          ))}
          {mine && (
            <>
              <button type="button" title="Edit" onClick={() => actions.edit(m)}>
                ✎
              </button>
              <button
                type="button"
                title="Delete"
                onClick={() => confirm('Delete this message?') && act(chat.delete(m.conversationId, m.seq))}
              >
                🗑
              </button>
            </>
          )}
        </span>
      )}
    </div>
  );
}
