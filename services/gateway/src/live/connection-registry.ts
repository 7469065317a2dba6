import { Injectable } from '@nestjs/common';
import type { Connection } from '../ws/connection.js';

export interface PresenceHooks {
  userOnline(userId: string): void;
  userOffline(userId: string): void;
}

export interface ConnectionHooks {
  added(conn: Connection): void;
  removed(conn: Connection): void;
}

/** Who is connected to this gateway: sockets by user and by session. */
@Injectable()
export class ConnectionRegistry {
  private readonly byUser = new Map<string, Set<Connection>>();
  private readonly bySession = new Map<string, Set<Connection>>();
  private readonly hooks: PresenceHooks[] = [];
  private readonly connectionHooks: ConnectionHooks[] = [];

  /** First socket of a user here / last one gone. */
  onUserPresence(hooks: PresenceHooks): void {
    this.hooks.push(hooks);
  }

  /** Every socket added / removed. */
  onConnection(hooks: ConnectionHooks): void {
    this.connectionHooks.push(hooks);
  }

  add(conn: Connection): void {
    let set = this.byUser.get(conn.userId);
    if (!set) {
      set = new Set();
      this.byUser.set(conn.userId, set);
      for (const h of this.hooks) h.userOnline(conn.userId);
    }
    set.add(conn);
    let sessions = this.bySession.get(conn.sessionId);
    if (!sessions) this.bySession.set(conn.sessionId, (sessions = new Set()));
    sessions.add(conn);
    for (const h of this.connectionHooks) h.added(conn);
  }

  remove(conn: Connection): void {
    for (const h of this.connectionHooks) h.removed(conn);
    const set = this.byUser.get(conn.userId);
    if (set?.delete(conn) && set.size === 0) {
      this.byUser.delete(conn.userId);
      for (const h of this.hooks) h.userOffline(conn.userId);
    }
    const sessions = this.bySession.get(conn.sessionId);
    if (sessions?.delete(conn) && sessions.size === 0) this.bySession.delete(conn.sessionId);
  }

  ofUser(userId: string): ReadonlySet<Connection> | undefined {
    return this.byUser.get(userId);
  }

  ofSession(sessionId: string): ReadonlySet<Connection> | undefined {
    return this.bySession.get(sessionId);
  }

  users(): Iterable<string> {
    return this.byUser.keys();
  }

  *all(): Iterable<Connection> {
    for (const set of this.byUser.values()) yield* set;
  }

  get connectionCount(): number {
    let n = 0;
    for (const set of this.byUser.values()) n += set.size;
    return n;
  }

  get userCount(): number {
    return this.byUser.size;
  }
}
