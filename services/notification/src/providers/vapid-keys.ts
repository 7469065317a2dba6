import { Inject, Injectable } from '@nestjs/common';
import webpush from 'web-push';
import type { CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA, CONFIG } from '@im/platform/nest';
import type { NotificationConfig } from '../config.js';

export interface VapidPair {
  publicKey: string;
  privateKey: string;
}

/**
 * The VAPID key pair browsers subscribe against. Configured, or else made once by the first
 * replica and kept in Cassandra (a lightweight transaction picks one pair for every replica):
 * a key that changed would orphan every existing subscription.
 */
@Injectable()
export class VapidKeys {
  private pair: Promise<VapidPair> | undefined;

  constructor(
    @Inject(CONFIG) private readonly config: NotificationConfig,
    @Inject(CASSANDRA) private readonly db: CassandraClient,
  ) {
    const { WEBPUSH_VAPID_PUBLIC_KEY: pub, WEBPUSH_VAPID_PRIVATE_KEY: priv } = config;
    if ((pub === undefined) !== (priv === undefined))
      throw new Error('WEBPUSH_VAPID_PUBLIC_KEY and WEBPUSH_VAPID_PRIVATE_KEY go together');
  }

  get(): Promise<VapidPair> {
    this.pair ??= this.load().catch((err: unknown) => {
      this.pair = undefined;
      throw err;
    });
    return this.pair;
  }

  private async load(): Promise<VapidPair> {
    const { WEBPUSH_VAPID_PUBLIC_KEY: publicKey, WEBPUSH_VAPID_PRIVATE_KEY: privateKey } = this.config;
    if (publicKey && privateKey) return { publicKey, privateKey };
    const made = webpush.generateVAPIDKeys();
    // not applied: the answer carries the pair another replica stored first
    const row = (
      await this.db.execute(
        'INSERT INTO vapid_keys (id, public_key, private_key) VALUES (?, ?, ?) IF NOT EXISTS',
        ['current', made.publicKey, made.privateKey],
      )
    ).first();
    if (row.get('[applied]') === true) return made;
    return { publicKey: row.get('public_key') as string, privateKey: row.get('private_key') as string };
  }
}
