import { useCallback, useEffect, useState } from 'preact/hooks';
import type { AppSession } from '../app.js';
import { directPeer } from '../conversation-title.js';
import { useChanges } from '../hooks.js';
import { ChatView } from './chat-view.js';
import { ConversationList } from './conversation-list.js';
import { Invitations } from './invitations.js';
import { NewConversation } from './new-conversation.js';
import { SearchPanel } from './search-panel.js';

const STATE_LABEL = {
  open: 'connected',
  connecting: 'connecting…',
  waiting: 'reconnecting…',
  stopped: 'offline',
};

export function MainView({ session, onLogout }: { session: AppSession; onLogout(): void }) {
  const { chat, directory, client } = session;
  useChanges(useCallback((l) => chat.on('change', l), [chat]));
  useChanges(directory.subscribe);
  const [selected, setSelected] = useState<string | undefined>();

  const conversations = chat.conversations();
  const memberIds = conversations.flatMap((s) => s.conversation.members.map((m) => m.userId));
  useEffect(() => {
    void directory.load(memberIds).catch(() => undefined);
    const peers = conversations
      .map((s) => directPeer(s.conversation, client.user.id))
      .filter((p) => p !== undefined);
    void chat.subscribePresence(peers).catch(() => undefined);
  }, [memberIds.join(',')]);

  const current = selected ? chat.conversation(selected) : undefined;
  return (
    <div class="main">
      <header>
        <strong>{directory.name(client.user.id)}</strong>
        <span class={`conn conn-${chat.state}`} data-testid="connection-state">
          {STATE_LABEL[chat.state]}
        </span>
        <button type="button" class="link" onClick={onLogout}>
          Sign out
        </button>
      </header>
      <aside>
        <SearchPanel session={session} onOpen={setSelected} />
        <NewConversation session={session} onCreated={setSelected} />
        <Invitations session={session} onJoined={setSelected} />
        <ConversationList session={session} selected={selected} onSelect={setSelected} />
      </aside>
      <section class="pane">
        {current ? (
          <ChatView
            key={current.conversation.id}
            session={session}
            conversationId={current.conversation.id}
          />
        ) : (
          <p class="empty">Pick a conversation, or start one by username.</p>
        )}
      </section>
    </div>
  );
}
