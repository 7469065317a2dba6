import { AppError } from '@im/platform/errors';

export type Status = 'online' | 'away' | 'busy' | 'offline';
/** What a user chose; "offline" while connected means invisible. Absent = automatic (online). */
export type ExplicitStatus = Exclude<Status, 'online'>;

export const STATUS_TEXT_MAX = 140;
const STATUSES: readonly Status[] = ['online', 'away', 'busy', 'offline'];

/** One user's presence, stored under u.<userId>. */
export interface UserPresence {
  tenantId: string;
  /** Connected devices: "<gatewayId>/<deviceId>" → connected at (ms). */
  devices: Record<string, number>;
  explicit?: ExplicitStatus | undefined;
  statusText?: string | undefined;
  /** When the user was last seen online (set when they go offline). */
  lastSeenAt?: string | undefined;
  /** The status last announced to watchers. */
  announced?: Status | undefined;
  /** Devices whose socket closed lately: "<gatewayId>/<deviceId>" → closed at (ms), oldest first. */
  closed?: Record<string, number> | undefined;
}

/**
 * How long a closed socket's device is remembered. A device key names one socket and is never
 * reused (a gateway's id is new at every boot; its socket ids count up within it), so a connect
 * for a remembered one is a report that arrived after the disconnect (it outlived the gateway's
 * deadline on another replica, ADR 0009) and must not bring it back.
 */
export const CLOSED_KEPT_MS = 60_000;
/** Closed devices remembered per user at most (a reconnect storm), oldest forgotten first. */
export const CLOSED_KEPT_MAX = 256;

/** The key of one socket in a user's devices: "<gatewayId>/<deviceId>", both as key tokens. */
export function deviceKey(gatewayId: string, deviceId: string): string {
  return `${keyToken(gatewayId)}/${keyToken(deviceId)}`;
}

/** A socket connected, unless it already closed (then false). */
export function connectDevice(p: UserPresence, key: string, connectedAt: number, now: number): boolean {
  forgetClosed(p, now);
  if (p.closed?.[key] !== undefined) return false;
  p.devices[key] = connectedAt;
  return true;
}

/** A socket closed: its device is gone and remembered as closed for CLOSED_KEPT_MS. */
export function disconnectDevice(p: UserPresence, key: string, now: number): void {
  delete p.devices[key];
  const closed = p.closed ?? {};
  delete closed[key];
  closed[key] = now;
  p.closed = closed;
  forgetClosed(p, now);
}

/** Forgets closed devices past CLOSED_KEPT_MS or beyond CLOSED_KEPT_MAX (oldest first). */
function forgetClosed(p: UserPresence, now: number): void {
  const closed = p.closed;
  if (!closed) return;
  const keys = Object.keys(closed);
  keys.forEach((k, i) => {
    if (now - closed[k]! > CLOSED_KEPT_MS || i < keys.length - CLOSED_KEPT_MAX) delete closed[k];
  });
  if (Object.keys(closed).length === 0) delete p.closed;
}

/** Online while any device is; an explicit away/busy/offline (invisible) wins over automatic online. */
export function effectiveStatus(p: Pick<UserPresence, 'devices' | 'explicit'>): Status {
  if (Object.keys(p.devices).length === 0) return 'offline';
  return p.explicit ?? 'online';
}

export function validateStatus(
  status: string,
  statusText: string | undefined,
): { explicit: ExplicitStatus | undefined; text: string | undefined } {
  if (!STATUSES.includes(status as Status))
    throw new AppError('invalid_argument', 'status: must be "online", "away", "busy" or "offline"');
  if (statusText !== undefined && ([...statusText].length > STATUS_TEXT_MAX || /\p{Cc}/u.test(statusText))) {
    throw new AppError('invalid_argument', `statusText: at most ${STATUS_TEXT_MAX} printable characters`);
  }
  return {
    explicit: status === 'online' ? undefined : (status as ExplicitStatus),
    text: statusText?.trim() || undefined,
  };
}

/** NATS key tokens allow [A-Za-z0-9_-=]: anything else in an id becomes "_". */
export function keyToken(id: string): string {
  return id.replace(/[^A-Za-z0-9_=-]/g, '_');
}
