import { ImChat, WebStorageOutbox, type ImClient } from '@im/sdk';
import { useEffect, useState } from 'preact/hooks';
import { LoginView } from './components/login-view.js';
import { MainView } from './components/main-view.js';
import { Directory } from './directory.js';
import { MediaCache } from './media-cache.js';
import { restoreClient } from './session.js';

export interface AppSession {
  client: ImClient;
  chat: ImChat;
  directory: Directory;
  media: MediaCache;
}

const outboxKey = (client: ImClient) => `im.outbox.${client.user.id}`;

function startSession(client: ImClient): AppSession {
  const chat = new ImChat(client, {
    outboxStorage: new WebStorageOutbox(localStorage, outboxKey(client)),
    // a browser cannot see the server's pings: check the link ourselves, often enough to notice a cut
    pingIntervalMs: 10_000,
    pingTimeoutMs: 5_000,
  });
  return { client, chat, directory: new Directory(client), media: new MediaCache(client) };
}

export function App() {
  const [session, setSession] = useState<AppSession | undefined>();
  const [restoring, setRestoring] = useState(true);

  useEffect(() => {
    void restoreClient().then((client) => {
      if (client) setSession(startSession(client));
      setRestoring(false);
    });
  }, []);

  useEffect(() => {
    if (!session) return;
    const { chat } = session;
    const online = () => chat.connection.reconnectNow();
    window.addEventListener('online', online);
    const offStopped = chat.on('stopped', (error) => {
      if (error) setSession(undefined); // the session ended elsewhere: log in again
    });
    void chat.start();
    return () => {
      window.removeEventListener('online', online);
      offStopped();
      chat.stop();
    };
  }, [session]);

  if (restoring) return <div class="splash">Loading…</div>;
  if (!session) return <LoginView onLoggedIn={(client) => setSession(startSession(client))} />;
  return (
    <MainView
      session={session}
      onLogout={async () => {
        await session.client.logout().catch(() => undefined);
        localStorage.removeItem(outboxKey(session.client)); // unsent text stays on no shared machine
        setSession(undefined);
      }}
    />
  );
}
