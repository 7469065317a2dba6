import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

/** `abandoned`: claimed by the sweeper, whose removal of the bytes and the row follows. */
export type MediaStatus = 'pending' | 'processing' | 'ready' | 'rejected' | 'abandoned';

export interface StoredThumbnail {
  width: number;
  height: number;
  key: string;
}

export interface MediaRow {
  mediaId: string;
  tenantId: string;
  ownerId: string;
  status: MediaStatus;
  filename: string;
  declaredType: string;
  contentType: string;
  size: number;
  width?: number | undefined;
  height?: number | undefined;
  uploadId?: string | undefined;
  partSize?: number | undefined;
  thumbnails: StoredThumbnail[];
  createdAt: Date;
  completedAt?: Date | undefined;
}

const COLUMNS =
  'media_id, tenant_id, owner_id, status, filename, declared_type, content_type, size, width, height, upload_id, part_size, thumbnails, created_at, completed_at';

/** media (media_id): one row per upload, from pending to ready; pending_uploads for the sweeper. */
@Injectable()
export class MediaTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async insertPending(m: MediaRow): Promise<void> {
    await Promise.all([
      this.db.execute(
        'INSERT INTO media (media_id, tenant_id, owner_id, status, filename, declared_type, size, upload_id, part_size, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [
          m.mediaId,
          m.tenantId,
          m.ownerId,
          'pending',
          m.filename,
          m.declaredType,
          m.size,
          m.uploadId ?? null,
          m.partSize ?? null,
          m.createdAt,
        ],
      ),
      this.db.execute('INSERT INTO pending_uploads (day, created_at, media_id) VALUES (?, ?, ?)', [
        dayOf(m.createdAt),
        m.createdAt,
        m.mediaId,
      ]),
    ]);
  }

  async get(mediaId: string): Promise<MediaRow | undefined> {
    const row = (await this.db.execute(`SELECT ${COLUMNS} FROM media WHERE media_id = ?`, [mediaId])).first();
    return row ? toRow(row) : undefined;
  }

  async getMany(ids: readonly string[]): Promise<MediaRow[]> {
    if (ids.length === 0) return [];
    const rs = await this.db.execute(`SELECT ${COLUMNS} FROM media WHERE media_id IN ?`, [[...ids]]);
    return rs.rows.map(toRow);
  }

  /**
   * Completed: the checked size and type; `processing` for images. Conditional on the row still
   * being pending, so two completes of one upload cannot both count against the quota.
   */
  async complete(m: MediaRow, status: MediaStatus, at: Date): Promise<boolean> {
    const rs = await this.db.execute(
      'UPDATE media SET status = ?, content_type = ?, size = ?, completed_at = ? WHERE media_id = ? IF status = ?',
      [status, m.contentType, m.size, at, m.mediaId, 'pending'],
    );
    const applied = rs.first()?.get('[applied]') === true;
    if (applied)
      await Promise.all([
        this.db.execute('DELETE FROM pending_uploads WHERE day = ? AND created_at = ? AND media_id = ?', [
          dayOf(m.createdAt),
          m.createdAt,
          m.mediaId,
        ]),
        this.db.execute('UPDATE tenant_usage SET bytes = bytes + ? WHERE tenant_id = ?', [
          m.size,
          m.tenantId,
        ]),
      ]);
    return applied;
  }

  /** Processing done: dimensions and thumbnails (none for a file that is not a decodable image). */
  /**
   * Processing done. Conditional: a job done twice (a rebalance mid-job) where the other run
   * rejected the file must not bring it back as ready without its bytes.
   */
  async ready(
    mediaId: string,
    image: { width: number; height: number; thumbnails: StoredThumbnail[]; size: number } | undefined,
  ): Promise<void> {
    if (!image) {
      await this.db.execute('UPDATE media SET status = ? WHERE media_id = ? IF status = ?', [
        'ready',
        mediaId,
        'processing',
      ]);
      return;
    }
    await this.db.execute(
      'UPDATE media SET status = ?, width = ?, height = ?, thumbnails = ?, size = ? WHERE media_id = ? IF status = ?',
      [
        'ready',
        image.width,
        image.height,
        JSON.stringify(image.thumbnails),
        image.size,
        mediaId,
        'processing',
      ],
    );
  }

  /**
   * The scanner refused the file (its bytes are deleted first): it no longer counts against the
   * quota. Conditional, so two processors of one job (a rebalance mid-scan) decrement once.
   */
  async reject(m: MediaRow): Promise<void> {
    const rs = await this.db.execute('UPDATE media SET status = ? WHERE media_id = ? IF status = ?', [
      'rejected',
      m.mediaId,
      'processing',
    ]);
    if (rs.first()?.get('[applied]') === true)
      await this.db.execute('UPDATE tenant_usage SET bytes = bytes - ? WHERE tenant_id = ?', [
        m.size,
        m.tenantId,
      ]);
  }

  async tenantBytes(tenantId: string): Promise<number> {
    const row = (
      await this.db.execute('SELECT bytes FROM tenant_usage WHERE tenant_id = ?', [tenantId])
    ).first();
    return Number(row?.get('bytes') ?? 0);
  }

  /** Pending uploads started on `day` before `before` (the sweeper's work). */
  async pendingBefore(day: string, before: Date): Promise<string[]> {
    const rs = await this.db.execute(
      'SELECT media_id FROM pending_uploads WHERE day = ? AND created_at < ?',
      [day, before],
    );
    return rs.rows.map((r) => r.get('media_id') as string);
  }

  /**
   * The sweeper's claim on an expired upload, conditional on it still being pending: a complete
   * racing the sweep either wins (and the sweep leaves it alone) or finds it abandoned.
   */
  async abandon(m: MediaRow): Promise<boolean> {
    const rs = await this.db.execute('UPDATE media SET status = ? WHERE media_id = ? IF status = ?', [
      'abandoned',
      m.mediaId,
      'pending',
    ]);
    return rs.first()?.get('[applied]') === true;
  }

  /** An abandoned upload: gone (its bytes are removed by the caller first). */
  async remove(m: MediaRow): Promise<void> {
    await Promise.all([
      this.db.execute('DELETE FROM media WHERE media_id = ?', [m.mediaId]),
      this.db.execute('DELETE FROM pending_uploads WHERE day = ? AND created_at = ? AND media_id = ?', [
        dayOf(m.createdAt),
        m.createdAt,
        m.mediaId,
      ]),
    ]);
  }
}

/** The pending_uploads partition of a time (UTC day). */
export function dayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

function toRow(r: { get(n: string): unknown }): MediaRow {
  const n = (c: string) => {
    const v = r.get(c);
    return v === null || v === undefined ? undefined : Number(v);
  };
  return {
    mediaId: r.get('media_id') as string,
    tenantId: r.get('tenant_id') as string,
    ownerId: r.get('owner_id') as string,
    status: r.get('status') as MediaStatus,
    filename: r.get('filename') as string,
    declaredType: r.get('declared_type') as string,
    contentType: (r.get('content_type') as string | null) ?? '',
    size: n('size') ?? 0,
    width: n('width'),
    height: n('height'),
    uploadId: (r.get('upload_id') as string | null) ?? undefined,
    partSize: n('part_size'),
    thumbnails: JSON.parse((r.get('thumbnails') as string | null) ?? '[]') as StoredThumbnail[],
    createdAt: r.get('created_at') as Date,
    completedAt: (r.get('completed_at') as Date | null) ?? undefined,
  };
}
