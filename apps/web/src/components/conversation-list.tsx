import type { Message } from '@im/sdk';
import type { AppSession } from '../app.js';
import { conversationTitle, directPeer, timeOf } from '../conversation-title.js';

export function ConversationList({
  session,
  selected,
  onSelect,
}: {
  session: AppSession;
  selected: string | undefined;
  onSelect(id: string): void;
}) {
  const { chat, directory, client } = session;
  const me = client.user.id;
  return (
    <ul class="conversations" data-testid="conversations">
      {chat.conversations().map((s) => {
        const c = s.conversation;
        const peer = directPeer(c, me);
        const status = peer ? (chat.presence.get(peer)?.status ?? 'offline') : undefined;
        const last = s.lastMessage;
        return (
          <li key={c.id}>
            <button
              type="button"
              class={c.id === selected ? 'selected' : ''}
              data-conversation={c.id}
              onClick={() => onSelect(c.id)}
            >
              {status && <span class={`dot dot-${status}`} title={status} data-testid="presence" />}
              <span class="title">{conversationTitle(c, me, directory)}</span>
              <span class="time">{timeOf(last?.createdAt)}</span>
              <span class="preview">
                {last ? `${last.senderId === me ? 'You: ' : ''}${preview(last)}` : 'No messages yet'}
              </span>
              {s.unreadCount > 0 && (
                <span class="badge" data-testid="unread">
                  {s.mentionCount > 0 ? '@ ' : ''}
                  {s.unreadCount}
                </span>
              )}
            </button>
          </li>
        );
      })}
    </ul>
  );
}

function preview(m: Message): string {
  if (m.deleted) return 'deleted';
  if (m.text) return m.text;
  return m.attachments?.length ? `📎 ${m.attachments[0]!.filename || 'a file'}` : '';
}
