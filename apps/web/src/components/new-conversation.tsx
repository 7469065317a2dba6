import { ApiError } from '@im/sdk';
import { useState } from 'preact/hooks';
import type { AppSession } from '../app.js';

/** One username: a direct conversation; several (comma-separated): a group with a title. */
export function NewConversation({
  session,
  onCreated,
}: {
  session: AppSession;
  onCreated(id: string): void;
}) {
  const { client, chat, directory } = session;
  const [usernames, setUsernames] = useState('');
  const [title, setTitle] = useState('');
  const [error, setError] = useState('');
  const names = usernames
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

  async function create(e: Event) {
    e.preventDefault();
    setError('');
    try {
      const users = [];
      for (const name of names) {
        const user = await client.userByUsername(name).catch((err: unknown) => {
          throw err instanceof ApiError && err.code === 'not_found'
            ? new Error(`No user "${name}" here.`)
            : err;
        });
        directory.remember(user);
        users.push(user);
      }
      const conversation =
        users.length === 1
          ? await client.createConversation('direct', [users[0]!.id])
          : await client.createConversation(
              'group',
              users.map((u) => u.id),
              title || undefined,
            );
      await chat.refreshConversations();
      setUsernames('');
      setTitle('');
      onCreated(conversation.id);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  return (
    <form class="new-conversation" onSubmit={create} data-testid="new-conversation">
      <input
        name="usernames"
        placeholder="Start a chat: username(s), comma-separated"
        value={usernames}
        onInput={(e) => setUsernames(e.currentTarget.value)}
      />
      {names.length > 1 && (
        <input
          name="title"
          placeholder="Group title"
          value={title}
          onInput={(e) => setTitle(e.currentTarget.value)}
        />
      )}
      <button type="submit" disabled={names.length === 0}>
        {names.length > 1 ? 'New group' : 'New chat'}
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
