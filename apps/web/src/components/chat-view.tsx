import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { AppSession } from '../app.js';
import { conversationTitle } from '../conversation-title.js';
import { useChanges } from '../hooks.js';
import { Composer, type ComposerMode } from './composer.js';
import { MessageItem } from './message-item.js';

export function ChatView({ session, conversationId }: { session: AppSession; conversationId: string }) {
  const { chat, directory, client } = session;
  useChanges(useCallback((l) => chat.on('change', l), [chat]));
  const state = chat.conversation(conversationId)!;
  const items = chat.timeline(conversationId);
  const [mode, setMode] = useState<ComposerMode>({ kind: 'new' });
  const [hasOlder, setHasOlder] = useState(true);
  const [failed, setFailed] = useState('');
  const list = useRef<HTMLDivElement>(null);
  const stick = useRef(true); // follow new messages while the view is at the bottom
  const loading = useRef(false);
  const heightBeforeOlder = useRef<number | undefined>(undefined);

  async function loadOlder() {
    if (loading.current || !hasOlder) return;
    loading.current = true;
    heightBeforeOlder.current = list.current?.scrollHeight;
    try {
      setHasOlder(await chat.loadOlder(conversationId));
    } finally {
      loading.current = false;
    }
  }

  useEffect(() => {
    void loadOlder();
    void chat.loadReceipts(conversationId).catch(() => undefined);
    return chat.on('failed', (entry, error) => {
      if (entry.conversationId === conversationId) setFailed(`Not sent (${error.code}): “${entry.text}”`);
    });
  }, [conversationId]);

  // keep the reader's place when older messages are put above, follow the bottom otherwise
  useLayoutEffect(() => {
    const el = list.current;
    if (!el) return;
    if (heightBeforeOlder.current !== undefined) {
      el.scrollTop += el.scrollHeight - heightBeforeOlder.current;
      heightBeforeOlder.current = undefined;
    } else if (stick.current) el.scrollTop = el.scrollHeight;
    if (el.scrollHeight <= el.clientHeight && hasOlder) void loadOlder();
  });

  useEffect(() => {
    if (document.visibilityState === 'visible' && state.unreadCount > 0) void chat.markRead(conversationId);
  }, [state.lastSeq, state.unreadCount]);

  function onScroll() {
    const el = list.current!;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    if (el.scrollTop < 80) void loadOlder();
  }

  const readByOthers = Math.max(0, ...Object.values(state.readBy));
  const typing = state.typing.map((u) => directory.name(u));
  const showSender = state.conversation.type !== 'direct';
  return (
    <div class="chat" data-testid="chat">
      <h2>{conversationTitle(state.conversation, client.user.id, directory)}</h2>
      <div class="timeline" ref={list} onScroll={onScroll} data-testid="timeline">
        {!hasOlder && <p class="start">This is the beginning of the conversation.</p>}
        {items.map(({ message, pending }) => (
          <MessageItem
            key={pending ? message.id : `${message.seq}`}
            session={session}
            message={message}
            pending={pending}
            showSender={showSender}
            readByOthers={readByOthers}
            actions={{
              reply: (m) => setMode({ kind: 'reply', to: m }),
              edit: (m) => setMode({ kind: 'edit', message: m }),
            }}
          />
        ))}
      </div>
      <p class="typing" data-testid="typing">
        {typing.length > 0 ? `${typing.join(', ')} ${typing.length === 1 ? 'is' : 'are'} typing…` : ' '}
      </p>
      {failed && (
        <p class="error" role="alert">
          {failed}
        </p>
      )}
      <Composer
        session={session}
        conversationId={conversationId}
        mode={mode}
        disabled={state.conversation.archived}
        onDone={() => {
          setMode({ kind: 'new' });
          stick.current = true;
        }}
      />
    </div>
  );
}
