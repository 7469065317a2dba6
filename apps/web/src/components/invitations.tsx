import { ApiError, type Invitation } from '@im/sdk';
import { useEffect, useState } from 'preact/hooks';
import type { AppSession } from '../app.js';

/** Open invitations into groups and channels (workspaces that ask before adding people). */
export function Invitations({ session, onJoined }: { session: AppSession; onJoined(id: string): void }) {
  const { chat, client, directory } = session;
  const [invitations, setInvitations] = useState<Invitation[]>([]);
  const [error, setError] = useState('');

  useEffect(() => {
    const load = () =>
      client.invitations().then(
        (list) => {
          setInvitations(list);
          void directory.load(list.map((i) => i.invitedBy)).catch(() => undefined);
        },
        () => undefined,
      );
    void load();
    const off = chat.on('invited', () => void load());
    return () => {
      off();
    };
  }, [chat, client]);

  async function answer(inv: Invitation, accept: boolean) {
    setError('');
    try {
      if (accept) await client.acceptInvitation(inv.conversationId);
      else await client.declineInvitation(inv.conversationId);
      setInvitations((list) => list.filter((i) => i.conversationId !== inv.conversationId));
      if (accept) {
        await chat.refreshConversations();
        onJoined(inv.conversationId);
      }
    } catch (err) {
      const gone = err instanceof ApiError && (err.code === 'forbidden' || err.code === 'not_found');
      setError(
        gone ? 'That invitation is no longer valid.' : err instanceof ApiError ? err.message : String(err),
      );
      if (gone) setInvitations((list) => list.filter((i) => i.conversationId !== inv.conversationId));
    }
  }

  if (invitations.length === 0 && !error) return null;
  return (
    <section class="invitations" data-testid="invitations">
      <h2>Invitations</h2>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <ul>
        {invitations.map((inv) => (
          <li key={inv.conversationId} data-conversation={inv.conversationId}>
            <span class="title">{inv.title || (inv.type === 'channel' ? 'A channel' : 'A group')}</span>
            <small>
              {' '}
              from {directory.name(inv.invitedBy)} · {inv.memberCount} member
              {inv.memberCount === 1 ? '' : 's'}
            </small>
            <button type="button" onClick={() => void answer(inv, true)}>
              Join
            </button>
            <button type="button" class="link" onClick={() => void answer(inv, false)}>
              Decline
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
