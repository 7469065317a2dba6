import { ImClient, type Session } from '@im/sdk';

const KEY = 'im.session';

interface Saved {
  tenant?: string;
  session: Session;
}

/** A client whose sessions (login, every refresh) are kept in localStorage, so a reload stays logged in. */
export function newClient(tenant?: string): ImClient {
  const client = new ImClient(location.origin, tenant || undefined);
  client.onSession = (session) => {
    if (session)
      localStorage.setItem(KEY, JSON.stringify({ tenant: client.tenant, session } satisfies Saved));
    else localStorage.removeItem(KEY);
  };
  return client;
}

/** The client of the last session, refreshed (its access token may have expired); undefined when none. */
export async function restoreClient(): Promise<ImClient | undefined> {
  const raw = localStorage.getItem(KEY);
  if (!raw) return undefined;
  try {
    const saved = JSON.parse(raw) as Saved;
    const client = newClient(saved.tenant);
    client.session = saved.session;
    await client.refresh();
    return client;
  } catch {
    localStorage.removeItem(KEY);
    return undefined;
  }
}
