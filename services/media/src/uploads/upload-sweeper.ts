import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from '@im/platform/logging';
import { CONFIG, LOGGER } from '@im/platform/nest';
import type { MediaConfig } from '../config.js';
import { dayOf, MediaTable } from '../storage/media.table.js';
import { objectKeys, ObjectStore } from '../storage/object-store.js';

/** Days before the cut-off that are looked at again (a sweeper that was down catches up). */
const LOOK_BACK_DAYS = 3;

/**
 * Abandons uploads not completed within MEDIA_PENDING_TTL_SECONDS: their bytes (or multipart
 * parts) and rows go. Every replica sweeps; removing twice is harmless.
 */
@Injectable()
export class UploadSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(CONFIG) private readonly config: MediaConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly table: MediaTable,
    private readonly store: ObjectStore,
  ) {}

  onApplicationBootstrap(): void {
    const every = this.config.MEDIA_SWEEP_INTERVAL_SECONDS * 1000;
    this.timer = setInterval(
      () => void this.sweep().catch((err) => this.logger.warn({ err }, 'upload sweep failed')),
      every,
    );
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One pass; returns how many uploads were abandoned. */
  async sweep(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.config.MEDIA_PENDING_TTL_SECONDS * 1000);
    let removed = 0;
    for (let d = LOOK_BACK_DAYS; d >= 0; d--) {
      const day = dayOf(new Date(cutoff.getTime() - d * 86_400_000));
      for (const id of await this.table.pendingBefore(day, cutoff)) {
        const m = await this.table.get(id);
        if (!m || (m.status !== 'pending' && m.status !== 'abandoned')) continue;
        // claimed first: a complete that wins the race keeps its media; one that loses cleans up
        if (m.status === 'pending' && !(await this.table.abandon(m))) continue;
        const key = objectKeys.upload(m.tenantId, m.mediaId);
        if (m.uploadId) await this.store.abortMultipart(key, m.uploadId).catch(() => undefined);
        await this.store.delete(key);
        await this.store.delete(objectKeys.original(m.tenantId, m.mediaId));
        await this.table.remove(m);
        removed++;
      }
    }
    if (removed > 0) this.logger.info({ removed }, 'abandoned uploads removed');
    return removed;
  }
}
