import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from '@im/platform/logging';
import { CONFIG, LOGGER, NATS, REGISTRY } from '@im/platform/nest';
import { NATS_BUCKETS, openKv, revocationTtlSec, type KV, type NatsConnection } from '@im/platform/nats';
import type { Registry } from '@im/platform/registry';
import { SessionRevoked } from '@im/proto/events/v1';
import type { AuthConfig } from '../config.js';
import { RecentRevocationsTable } from '../storage/recent-revocations.table.js';
import { RevocationsPendingTable } from '../storage/revocations-pending.table.js';

/** How often revocations that could not be published are tried again. */
const RETRY_EVERY_MS = 2_000;
/** Revocations per page of ListRecentRevocations. */
const RECENT_PAGE = 2_000;
/** How often the bucket is checked for, and made again when NATS lost it and auth may make it. */
const BUCKET_CHECK_MS = 10_000;

/**
 * Publishes revoked sessions to the KV bucket im_revoked_sessions, which every gateway watches.
 * Entries live as long as an access token can, so the bucket holds exactly the revocations that
 * still matter and a gateway that starts later learns them all from the bucket.
 *
 * A revocation is first written to an outbox (Cassandra), then put; one that cannot be put (NATS
 * down) stays in the outbox and is put again every 2 s until it lands: a logout is never lost
 * between the database and the gateways. Each is also kept by the minute for the same lifetime, for
 * gateways to read back after their watch was down or the bucket was lost (listRecent).
 */
@Injectable()
export class SessionRevocations implements OnModuleInit, OnApplicationShutdown {
  private kv: KV | undefined;
  private retrier: NodeJS.Timeout | undefined;
  private keeper: NodeJS.Timeout | undefined;
  private retrying = false;
  /** Something may wait in the outbox: set at start (another replica's leftovers) and on a failed put. */
  private dirty = true;

  constructor(
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(REGISTRY) private readonly registry: Registry,
    @Inject(CONFIG) private readonly config: AuthConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly pending: RevocationsPendingTable,
    private readonly recent: RecentRevocationsTable,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.openBucket();
    this.retrier = setInterval(() => void this.retryPending(), RETRY_EVERY_MS);
    this.retrier.unref();
    // a bucket NATS lost (storage gone, deleted by mistake) is made again where auth's NATS user
    // may (no authentication); on its own user an operator's tools/nats-buckets.mjs remakes it and
    // this warns until then. Gateways wait for it to watch, and read the revocations back from
    // Cassandra once they can; revocations in between wait in the outbox
    this.keeper = setInterval(
      () =>
        void this.openBucket().catch((err: unknown) =>
          this.logger.warn({ err }, 'the revocation bucket could not be checked'),
        ),
      BUCKET_CHECK_MS,
    );
    this.keeper.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.retrier);
    clearInterval(this.keeper);
  }

  /** Opens the bucket, creating it when it is missing and this user may (idempotent). */
  private async openBucket(): Promise<void> {
    this.kv = await openKv(
      this.nats,
      this.registry.buckets.revokedSessions,
      NATS_BUCKETS.revokedSessions(this.config),
      this.logger,
    );
  }

  /** Durable once this resolves: published now, or as soon as NATS takes it. */
  async publish(revoked: SessionRevoked): Promise<void> {
    // the outbox until it is in the bucket; the minute's list for whoever lost the bucket or its watch
    await Promise.all([this.pending.add(revoked, this.ttlSec), this.recent.add(revoked, this.ttlSec)]);
    try {
      // NATS away: do not hold the caller (logout) for the publish timeout; the retrier has it
      await Promise.race([
        this.put(revoked),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error('publish slower than 1 s')), 1_000).unref(),
        ),
      ]);
    } catch (err) {
      this.dirty = true;
      this.logger.warn({ err, sessionId: revoked.sessionId }, 'revocation not published yet: retrying');
    }
  }

  private async put(revoked: SessionRevoked): Promise<void> {
    await this.kv!.put(revoked.sessionId, SessionRevoked.encode(revoked).finish());
    await this.pending.remove(revoked.sessionId);
  }

  /** Reads the outbox only when something may wait in it (a read per 2 s would meet every tombstone). */
  private async retryPending(): Promise<void> {
    if (this.retrying || !this.dirty) return;
    this.retrying = true;
    this.dirty = false;
    try {
      for (const revoked of await this.pending.list()) await this.put(revoked);
    } catch (err) {
      this.dirty = true;
      this.logger.warn({ err }, 'pending revocations not published yet');
    } finally {
      this.retrying = false;
    }
  }

  /** What gateways read back after their watch was down or the bucket was lost (paged). */
  listRecent(pageToken: string) {
    return this.recent.page(pageToken, this.ttlSec, RECENT_PAGE);
  }

  private get ttlSec(): number {
    return revocationTtlSec(this.config);
  }
}
