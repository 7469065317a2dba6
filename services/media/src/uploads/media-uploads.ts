import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { fileTypeFromBuffer } from 'file-type';
import { tenantSetting } from '@im/platform/config';
import { AppError } from '@im/platform/errors';
import { uuidv7 } from '@im/platform/ids';
import { CONFIG } from '@im/platform/nest';
import { KeyedTokenBuckets } from '@im/platform/rate-limit';
import type { Attachment, Media, MultipartUpload, UploadedPart } from '@im/proto/client/v1';
import type { Caller } from '@im/proto/common/v1';
import type { MediaConfig } from '../config.js';
import {
  allowedTypesOf,
  decideContentType,
  isProcessableImage,
  planUpload,
  validateUpload,
  type UploadRequest,
} from '../domain/media-rules.js';
import { MessageClient } from '../clients/message.client.js';
import { MalwareScanner } from '../processing/malware-scanner.js';
import { MediaJobs } from '../processing/media-jobs.js';
import { MediaTable, type MediaRow } from '../storage/media.table.js';
import { objectKeys, ObjectStore } from '../storage/object-store.js';

/** Bytes read from the start of a file to sniff its type (file-type's recommendation). */
const SNIFF_BYTES = 4100;
const ID = /^[A-Za-z0-9-]{1,64}$/;

export interface CreatedUpload {
  mediaId: string;
  uploadUrl: string;
  uploadHeaders: Record<string, string>;
  expiresAt: string;
  multipart?: MultipartUpload;
}

/**
 * Uploads from start to attachable: a pending row and signed URLs (one PUT, or a part each), then
 * `complete` checks what the store holds (size, type sniffed from the bytes) and hands images to
 * the processors. Only the uploader may complete; reads are for the uploader and members of a
 * conversation the media was sent in (the message service says which).
 */
@Injectable()
export class MediaUploads implements OnApplicationShutdown {
  private readonly limiter: KeyedTokenBuckets;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    @Inject(CONFIG) private readonly config: MediaConfig,
    private readonly table: MediaTable,
    private readonly store: ObjectStore,
    private readonly jobs: MediaJobs,
    private readonly scanner: MalwareScanner,
    private readonly messages: MessageClient,
  ) {
    this.limiter = new KeyedTokenBuckets(
      config.MEDIA_UPLOADS_PER_MINUTE / 60,
      config.MEDIA_UPLOADS_PER_MINUTE,
    );
    this.sweeper = setInterval(() => this.limiter.sweep(), 60_000);
    this.sweeper.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }

  async create(caller: Caller, r: UploadRequest): Promise<CreatedUpload> {
    validateUpload(
      r,
      tenantSetting(this.config.MEDIA_MAX_BYTES_BY_TENANT, caller.tenantId, this.config.MEDIA_MAX_BYTES),
    );
    const wait = this.limiter.take(caller.userId);
    if (wait > 0)
      throw new AppError(
        'rate_limited',
        `at most ${this.config.MEDIA_UPLOADS_PER_MINUTE} uploads per minute`,
        wait,
      );
    await this.checkQuota(caller.tenantId, r.size);
    const mediaId = uuidv7();
    const key = objectKeys.upload(caller.tenantId, mediaId);
    const contentType = r.contentType.toLowerCase();
    const plan = planUpload(r.size, this.config.MEDIA_PART_SIZE);
    const uploadId =
      plan.kind === 'multipart' ? await this.store.createMultipart(key, contentType) : undefined;
    await this.table.insertPending({
      mediaId,
      tenantId: caller.tenantId,
      ownerId: caller.userId,
      status: 'pending',
      filename: r.filename.trim(),
      declaredType: contentType,
      contentType: '',
      size: r.size,
      uploadId,
      partSize: plan.kind === 'multipart' ? plan.partSize : undefined,
      thumbnails: [],
      createdAt: new Date(),
    });
    const expiresAt = new Date(Date.now() + this.config.MEDIA_URL_TTL_SECONDS * 1000).toISOString();
    if (plan.kind === 'single')
      return {
        mediaId,
        uploadUrl: await this.store.signPut(key, contentType),
        uploadHeaders: { 'content-type': contentType },
        expiresAt,
      };
    return {
      mediaId,
      uploadUrl: '',
      uploadHeaders: {},
      expiresAt,
      multipart: await this.partTargets(key, uploadId!, plan.partSize, plan.parts, expiresAt),
    };
  }

  /** Fresh part URLs of the caller's pending multipart upload and the parts the store holds. */
  async parts(
    caller: Caller,
    mediaId: string,
  ): Promise<{ multipart: MultipartUpload; uploaded: UploadedPart[] }> {
    const m = await this.own(caller, mediaId);
    if (m.status !== 'pending' || !m.uploadId || !m.partSize)
      throw new AppError('invalid_argument', 'mediaId: not a multipart upload in progress');
    const key = objectKeys.upload(m.tenantId, m.mediaId);
    const expiresAt = new Date(Date.now() + this.config.MEDIA_URL_TTL_SECONDS * 1000).toISOString();
    const [multipart, uploaded] = await Promise.all([
      this.partTargets(key, m.uploadId, m.partSize, Math.ceil(m.size / m.partSize), expiresAt),
      this.store.listParts(key, m.uploadId),
    ]);
    return { multipart, uploaded: uploaded.map((p) => ({ partNumber: p.partNumber, etag: p.etag })) };
  }

  /**
   * Checks the stored bytes: the declared size exactly, a type sniffed from the content that is
   * allowed and matches the claim. Refused uploads stay pending (the client may upload again)
   * until the sweeper removes them.
   */
  async complete(caller: Caller, mediaId: string, parts: readonly UploadedPart[]): Promise<Media> {
    const m = await this.own(caller, mediaId);
    if (m.status === 'processing') {
      // a complete that stored the status but crashed before sending the job: send it again
      // (processing twice writes the same objects)
      await this.jobs.submit({ mediaId, tenantId: m.tenantId, contentType: m.contentType });
      return this.view(m);
    }
    if (m.status !== 'pending') return this.view(m); // completing twice answers the same
    // checked at create too, but uploads started while there was room may not all fit now (two
    // completes racing here can still both pass: the overshoot is bounded by completes in flight)
    await this.checkQuota(m.tenantId, m.size);
    const key = objectKeys.upload(m.tenantId, m.mediaId);
    if (m.uploadId) {
      if (parts.length === 0) throw new AppError('invalid_argument', 'parts: the ETag of every part');
      await this.store.completeMultipart(key, m.uploadId, parts).catch((err: { name?: string }) => {
        // assembled by an earlier complete that was then refused (or crashed): check what it made
        if (err.name === 'NoSuchUpload') return;
        throw new AppError('invalid_argument', `parts: the store refused them (${err.name ?? 'error'})`);
      });
    }
    const stored = await this.store.size(key);
    if (stored === undefined) throw new AppError('invalid_argument', 'no bytes were uploaded for this media');
    if (stored !== m.size)
      throw new AppError('invalid_argument', `size: ${stored} bytes were uploaded, ${m.size} were declared`);
    const head = await this.store.head(key, Math.min(SNIFF_BYTES, stored));
    const sniffed = await fileTypeFromBuffer(head);
    const contentType = decideContentType(
      m.declaredType,
      sniffed?.mime,
      head,
      allowedTypesOf(m.tenantId, this.config.MEDIA_ALLOWED_TYPES_BY_TENANT, this.config.MEDIA_ALLOWED_TYPES),
    );
    // members get a copy the upload URL cannot reach: bytes PUT after these checks change nothing
    await this.store.copy(key, objectKeys.original(m.tenantId, m.mediaId), contentType);
    const status = isProcessableImage(contentType) || this.scanner.enabled ? 'processing' : 'ready';
    const done = { ...m, contentType, status } as const;
    if (!(await this.table.complete(done, status, new Date()))) {
      const now = await this.table.get(mediaId);
      if (now && now.status !== 'abandoned') return this.view(now); // a concurrent complete won
      // the sweeper abandoned it meanwhile: the copy made above must not outlive the sweep
      await this.store.delete(objectKeys.original(m.tenantId, m.mediaId));
      throw notFound();
    }
    await this.store.delete(key);
    if (status === 'processing') await this.jobs.submit({ mediaId, tenantId: m.tenantId, contentType });
    return this.view(done);
  }

  /** The media with fresh URLs: for the uploader, and for members where it was sent; else not_found. */
  async get(caller: Caller, mediaId: string): Promise<Media> {
    const m = ID.test(mediaId) ? await this.table.get(mediaId) : undefined;
    if (!m || m.tenantId !== caller.tenantId || m.status === 'abandoned') throw notFound();
    if (
      m.ownerId !== caller.userId &&
      !(m.status !== 'pending' && (await this.messages.mayAccess(caller, mediaId)))
    )
      throw notFound();
    return this.view(m);
  }

  /**
   * For the message service, at send: the caller's own ready media of the caller's tenant, as
   * attachments (server-side metadata; whatever the client claimed is ignored).
   */
  async attachments(caller: Caller, mediaIds: readonly string[]): Promise<Attachment[]> {
    const wanted = [...new Set(mediaIds)];
    if (wanted.some((id) => !ID.test(id)))
      throw new AppError('invalid_argument', 'attachments.mediaId: must be an id');
    const found = new Map((await this.table.getMany(wanted)).map((m) => [m.mediaId, m]));
    return wanted.map((id) => {
      const m = found.get(id);
      if (!m || m.tenantId !== caller.tenantId || m.ownerId !== caller.userId)
        throw new AppError('invalid_argument', `attachments: no media ${id} of yours`);
      if (m.status !== 'ready')
        throw new AppError('invalid_argument', `attachments: media ${id} is ${m.status}, not ready`);
      return {
        mediaId: m.mediaId,
        name: m.filename,
        filename: m.filename,
        contentType: m.contentType,
        size: m.size,
        ...(m.width !== undefined ? { width: m.width, height: m.height } : {}),
      };
    });
  }

  private async own(caller: Caller, mediaId: string): Promise<MediaRow> {
    const m = ID.test(mediaId) ? await this.table.get(mediaId) : undefined;
    // someone else's upload is as invisible as a missing one
    if (!m || m.tenantId !== caller.tenantId || m.ownerId !== caller.userId || m.status === 'abandoned')
      throw notFound();
    return m;
  }

  private async checkQuota(tenantId: string, size: number): Promise<void> {
    const quota = this.config.MEDIA_TENANT_QUOTA_BYTES;
    if (quota > 0 && (await this.table.tenantBytes(tenantId)) + size > quota)
      throw new AppError('limit_exceeded', `the tenant's media storage is full (${quota} bytes)`);
  }

  private async partTargets(
    key: string,
    uploadId: string,
    partSize: number,
    count: number,
    expiresAt: string,
  ): Promise<MultipartUpload> {
    const parts = await Promise.all(
      Array.from({ length: count }, async (_, i) => ({
        partNumber: i + 1,
        url: await this.store.signPart(key, uploadId, i + 1),
      })),
    );
    return { partSize, parts, expiresAt };
  }

  private async view(m: MediaRow): Promise<Media> {
    const ready = m.status === 'ready';
    const key = objectKeys.original(m.tenantId, m.mediaId);
    return {
      id: m.mediaId,
      status: m.status,
      filename: m.filename,
      contentType: m.contentType || m.declaredType,
      size: m.size,
      ...(m.width !== undefined ? { width: m.width, height: m.height } : {}),
      url: ready ? await this.store.signGet(key, m.filename, m.contentType) : '',
      thumbnails: ready
        ? await Promise.all(
            m.thumbnails.map(async (t) => ({
              width: t.width,
              height: t.height,
              url: await this.store.signGet(t.key, `${m.filename}.webp`, 'image/webp'),
            })),
          )
        : [],
      createdAt: m.createdAt.toISOString(),
      urlExpiresAt: new Date(Date.now() + this.config.MEDIA_URL_TTL_SECONDS * 1000).toISOString(),
    };
  }
}

const notFound = () => new AppError('not_found', 'no such media');
