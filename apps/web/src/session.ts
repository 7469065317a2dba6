import { ApiError, ImClient, type Session } from '@im/sdk';

const KEY = 'im.session';
const DEVICE_KEY = 'im.device';

interface Saved {
  tenant?: string;
  session: Session;
}

function saved(): Saved | undefined {
  try {
    return JSON.parse(localStorage.getItem(KEY) ?? 'null') ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * A client whose sessions (login, every refresh) are kept in localStorage, so a reload stays logged
 * in; tabs take turns refreshing (Web Locks) and adopt each other's tokens.
 */
export function newClient(tenant?: string): ImClient {
  const client = new ImClient(location.origin, tenant || undefined);
  // outlives logout: the next login from this browser is not held back by strangers' failures
  client.deviceToken = localStorage.getItem(DEVICE_KEY) ?? undefined;
  client.onDeviceToken = (token) => localStorage.setItem(DEVICE_KEY, token);
  client.onSession = (session) => {
    if (session)
      localStorage.setItem(KEY, JSON.stringify({ tenant: client.tenant, session } satisfies Saved));
    else localStorage.removeItem(KEY);
  };
  client.refreshCoordinator = {
    lock: (fn) => (navigator.locks ? navigator.locks.request('im.session.refresh', fn) : fn()),
    latest: () => saved()?.session,
  };
  return client;
}

/**
 * The client of the last session, refreshed (its access token may have expired). Undefined when
 * there is none or the server ended it; kept as it is when the server cannot be reached (the
 * connection refreshes once it can).
 */
export async function restoreClient(): Promise<ImClient | undefined> {
  const last = saved();
  if (!last) return undefined;
  const client = newClient(last.tenant);
  client.session = last.session;
  try {
    await client.refresh();
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      localStorage.removeItem(KEY);
      return undefined;
    }
  }
  return client;
}
