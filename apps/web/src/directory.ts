import type { ImClient, User } from '@im/sdk';

/** Display names of the users the app shows, fetched in batches and kept. */
export class Directory {
  private readonly users = new Map<string, User>();
  private readonly asked = new Set<string>();
  private readonly listeners = new Set<() => void>();

  constructor(private readonly client: ImClient) {
    this.users.set(client.user.id, client.user);
  }

  name(userId: string): string {
    const u = this.users.get(userId);
    return u ? u.displayName || u.username : '…';
  }

  /** Fetches the users not known yet (200 per request). */
  async load(userIds: string[]): Promise<void> {
    const missing = [...new Set(userIds)].filter((id) => !this.asked.has(id));
    if (missing.length === 0) return;
    for (const id of missing) this.asked.add(id);
    for (let i = 0; i < missing.length; i += 200)
      for (const u of await this.client.users(missing.slice(i, i + 200))) this.users.set(u.id, u);
    for (const l of this.listeners) l();
  }

  remember(user: User): void {
    this.users.set(user.id, user);
    this.asked.add(user.id);
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}
