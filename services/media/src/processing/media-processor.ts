import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { BatchConsumer, decodeRecords, RARE_RECORDS_FETCH, type ConsumedBatch } from '@im/platform/kafka';
import type { Logger } from '@im/platform/logging';
import { CONFIG, KAFKA, LOGGER, REGISTRY } from '@im/platform/nest';
import type { Registry } from '@im/platform/registry';
import { meter } from '@im/platform/telemetry';
import { MediaCompleted } from '@im/proto/events/v1';
import type { MediaConfig } from '../config.js';
import { isProcessableImage } from '../domain/media-rules.js';
import { MediaTable, type MediaRow } from '../storage/media.table.js';
import { objectKeys, ObjectStore } from '../storage/object-store.js';
import { processImage } from './image-processing.js';
import { ClamdHungUpError, ClamdRefusedError, MalwareScanner } from './malware-scanner.js';

/**
 * Processes completed uploads from im.media.v1: the malware scan (when a scanner is configured;
 * infected files become `rejected` and their bytes are deleted), then for images metadata out and
 * thumbnails in, then `ready`. Its own
 * consumer group; offsets are committed after a batch's work, so a processor killed halfway
 * leaves the job to the next one, and doing a job twice writes the same objects. A file libvips
 * cannot decode becomes a ready plain file: the processor never stops on one bad file.
 */
const HEARTBEAT_MS = 3_000;
/** clamd hanging up on one file this many times in a row (while it accepts connections) is a refusal. */
const HANG_UPS_TO_REFUSE = 3;

function isMissingObject(err: unknown): boolean {
  return (err as { name?: string }).name === 'NoSuchKey';
}

@Injectable()
export class MediaProcessor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer: BatchConsumer | undefined;
  /** Consecutive clamd hang-ups per media being scanned (cleared once it gets a verdict). */
  private readonly hangUps = new Map<string, number>();
  private readonly processed = meter().createCounter('im_media_processed_total', {
    description: 'completed uploads processed (images: metadata removed, thumbnails made)',
  });
  private readonly rejected = meter().createCounter('im_media_rejected_total', {
    description: 'completed uploads the malware scanner found infected (their bytes deleted)',
  });

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(REGISTRY) private readonly registry: Registry,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONFIG) private readonly config: MediaConfig,
    private readonly table: MediaTable,
    private readonly store: ObjectStore,
    private readonly scanner: MalwareScanner,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = new BatchConsumer(this.kafka, {
      groupId: this.registry.groups.mediaProcessor,
      topics: [this.registry.topics.mediaJobs],
      logger: this.logger,
      fromBeginning: true,
      fetch: RARE_RECORDS_FETCH,
      handle: (batch) => this.handle(batch),
    });
    await this.consumer.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }

  private async handle(batch: ConsumedBatch): Promise<void> {
    for (const job of decodeRecords(batch, (v) => MediaCompleted.decode(v), this.logger, 'media job')) {
      // a large file's scan or thumbnails may outlast the session: keep the membership alive
      const beat = setInterval(() => void batch.heartbeat().catch(() => undefined), HEARTBEAT_MS);
      try {
        await this.process(job);
      } finally {
        clearInterval(beat);
      }
      await batch.heartbeat();
      this.processed.add(1);
    }
  }

  private async process(job: MediaCompleted): Promise<void> {
    const m = await this.table.get(job.mediaId);
    if (!m || m.status !== 'processing') return; // done before a crash, or abandoned
    try {
      await this.processStored(m);
    } catch (err) {
      if (!isMissingObject(err)) throw err;
      // nothing to process, ever (its bytes were deleted by a rejection that did not finish, or by
      // hand): retrying would hold up every job behind it, and it must not stay processing forever
      this.logger.error(
        { mediaId: m.mediaId, tenantId: m.tenantId },
        'a processing upload has no stored file: rejected',
      );
      await this.table.reject(m);
      this.rejected.add(1);
    }
  }

  private async processStored(m: MediaRow): Promise<void> {
    const key = objectKeys.original(m.tenantId, m.mediaId);
    this.logger.debug({ mediaId: m.mediaId }, 'processing media');
    // a storage or scanner outage fails the batch, which is retried; only a file libvips cannot
    // read passes, and a file the scanner refuses to scan is rejected like an infected one
    let verdict: Awaited<ReturnType<MalwareScanner['scan']>>;
    try {
      verdict = await this.scanner.scan(() => this.store.stream(key));
      this.hangUps.delete(m.mediaId);
    } catch (err) {
      // a hang-up is retried (a clamd restart), unless it keeps happening to this very file
      const hangUps = err instanceof ClamdHungUpError ? (this.hangUps.get(m.mediaId) ?? 0) + 1 : 0;
      if (err instanceof ClamdHungUpError && hangUps < HANG_UPS_TO_REFUSE) {
        this.hangUps.set(m.mediaId, hangUps);
        throw err;
      }
      this.hangUps.delete(m.mediaId);
      if (!(err instanceof ClamdRefusedError || err instanceof ClamdHungUpError)) throw err;
      const reply = err instanceof ClamdRefusedError ? err.reply : `hung up ${hangUps} times mid-stream`;
      this.logger.error(
        { mediaId: m.mediaId, tenantId: m.tenantId, size: m.size, reply },
        'the malware scanner refused to scan an upload (is StreamMaxLength below MEDIA_MAX_BYTES?): rejected',
      );
      verdict = { infected: true, signature: `unscannable: ${reply}` };
    }
    if (verdict.infected) {
      this.logger.warn(
        { mediaId: m.mediaId, tenantId: m.tenantId, ownerId: m.ownerId, signature: verdict.signature },
        'upload rejected by the malware scanner: bytes deleted',
      );
      await this.store.delete(key); // first: a retry after a failed delete finds it still processing
      await this.table.reject(m);
      this.rejected.add(1);
      return;
    }
    if (!isProcessableImage(m.contentType)) return this.table.ready(m.mediaId, undefined);
    const original = await this.store.get(key);
    let image: Awaited<ReturnType<typeof processImage>> | undefined;
    try {
      image = await processImage(original, this.config.MEDIA_THUMBNAIL_WIDTHS);
    } catch (err) {
      this.logger.warn(
        { err, mediaId: m.mediaId, contentType: m.contentType },
        'image not decodable: kept as a plain file',
      );
    }
    if (!image) return this.table.ready(m.mediaId, undefined);
    const thumbnails = image.thumbnails.map((t) => ({
      width: t.width,
      height: t.height,
      key: objectKeys.thumbnail(m.tenantId, m.mediaId, t.width),
    }));
    await Promise.all([
      this.store.put(key, image.file, m.contentType),
      ...image.thumbnails.map((t, i) => this.store.put(thumbnails[i]!.key, t.webp, 'image/webp')),
    ]);
    await this.table.ready(m.mediaId, {
      width: image.width,
      height: image.height,
      thumbnails,
      size: image.file.length,
    });
  }
}
