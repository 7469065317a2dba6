import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { AppSession } from '../app.js';
import { conversationTitle, timeOf } from '../conversation-title.js';
import { useChanges } from '../hooks.js';

export function ChatView({ session, conversationId }: { session: AppSession; conversationId: string }) {
  const { chat, directory, client } = session;
  useChanges(useCallback((l) => chat.on('change', l), [chat]));
  const me = client.user.id;
  const state = chat.conversation(conversationId)!;
  const items = chat.timeline(conversationId);
  const [text, setText] = useState('');
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

  const lastSeq = state.lastSeq;
  useEffect(() => {
    if (document.visibilityState === 'visible' && state.unreadCount > 0) void chat.markRead(conversationId);
  }, [lastSeq, state.unreadCount]);

  function onScroll() {
    const el = list.current!;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    if (el.scrollTop < 80) void loadOlder();
  }

  async function send(e: Event) {
    e.preventDefault();
    const body = text.trim();
    if (!body) return;
    setText('');
    setFailed('');
    stick.current = true;
    await chat.send(conversationId, body);
  }

  const readByOthers = Math.max(0, ...Object.values(state.readBy));
  const typing = state.typing.map((u) => directory.name(u));
  return (
    <div class="chat" data-testid="chat">
      <h2>{conversationTitle(state.conversation, me, directory)}</h2>
      <div class="timeline" ref={list} onScroll={onScroll} data-testid="timeline">
        {!hasOlder && <p class="start">This is the beginning of the conversation.</p>}
        {items.map(({ message: m, pending }) => (
          <div
            key={pending ? m.id : `${m.seq}`}
            class={`msg ${m.senderId === me ? 'mine' : 'theirs'} ${pending ? 'pending' : ''}`}
            data-seq={m.seq}
            data-pending={pending ? 'true' : undefined}
          >
            {m.senderId !== me && state.conversation.type !== 'direct' && (
              <span class="sender">{directory.name(m.senderId)}</span>
            )}
            <span class="text">{m.deleted ? <em>deleted</em> : m.text}</span>
            <span class="meta">
              {m.editedAt && 'edited · '}
              {timeOf(m.createdAt)}
              {m.senderId === me && (pending ? ' · sending' : readByOthers >= m.seq ? ' · read' : ' · sent')}
            </span>
          </div>
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
      <form class="composer" onSubmit={send}>
        <input
          name="message"
          placeholder="Write a message"
          autoComplete="off"
          value={text}
          disabled={state.conversation.archived}
          onInput={(e) => {
            setText(e.currentTarget.value);
            chat.typing(conversationId);
          }}
        />
        <button type="submit" disabled={!text.trim()}>
          Send
        </button>
      </form>
    </div>
  );
}
