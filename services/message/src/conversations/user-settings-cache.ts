import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { NatsConnection, Subscription } from '@im/platform/nats';
import { NATS, REGISTRY } from '@im/platform/nest';
import type { Registry } from '@im/platform/registry';
import { UserSettingsTable, type UserSettings } from '../storage/user-settings.table.js';

const TTL_MS = 60_000;
const MAX_ENTRIES = 200_000;

/**
 * Users' privacy settings on the read path (every read marker asks for its members'), cached. A
 * change is announced on NATS and every replica forgets the user at once; the TTL bounds
 * staleness if an announcement is lost.
 */
@Injectable()
export class UserSettingsCache implements OnModuleInit, OnApplicationShutdown {
  private readonly entries = new Map<string, { value: UserSettings; until: number }>();
  private sub: Subscription | undefined;
  /** Changes heard of so far. */
  private forgotten = 0;

  constructor(
    private readonly table: UserSettingsTable,
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(REGISTRY) private readonly registry: Registry,
  ) {}

  onModuleInit(): void {
    this.sub = this.nats.subscribe(this.registry.subjects.userSettingsChanged, {
      callback: (_err, msg) => this.forget(msg.string()),
    });
  }

  private forget(userId: string): void {
    this.entries.delete(userId);
    this.forgotten++;
  }

  onApplicationShutdown(): void {
    this.sub?.unsubscribe();
  }

  async get(userId: string): Promise<UserSettings> {
    const hit = this.entries.get(userId);
    if (hit && hit.until > Date.now()) return hit.value;
    const forgotten = this.forgotten;
    const value = await this.table.get(userId);
    // a change announced while this read was on its way may not be in it: not kept (changes are rare)
    if (forgotten !== this.forgotten) return value;
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(userId, { value, until: Date.now() + TTL_MS });
    return value;
  }

  /** Whether each user shares read receipts. */
  async sharing(userIds: readonly string[]): Promise<Map<string, boolean>> {
    const values = await Promise.all(userIds.map((u) => this.get(u)));
    return new Map(userIds.map((u, i) => [u, values[i]!.readReceipts]));
  }

  /**
   * Applies the settings given; those left out stay as stored (read from the table, not from a
   * cache that may not have heard of a change yet). Returns the settings now.
   */
  async update(userId: string, change: Partial<UserSettings>): Promise<UserSettings> {
    const stored = await this.table.get(userId);
    if (change.readReceipts === undefined) return stored;
    const settings = { ...stored, readReceipts: change.readReceipts };
    await this.table.put(userId, settings);
    this.forget(userId);
    this.nats.publish(this.registry.subjects.userSettingsChanged, userId);
    return settings;
  }
}
