import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';
import type { Platform, WebPushKeys } from '../domain/push-targets.js';

export interface DeviceRow {
  userId: string;
  deviceId: string;
  tenantId: string;
  platform: Platform;
  token: string;
  subscription?: WebPushKeys | undefined;
  sessionId: string;
  target: string;
  createdAt: Date;
}

const COLUMNS =
  'user_id, device_id, tenant_id, platform, push_token, endpoint, p256dh, auth, session_id, target, created_at';

/** devices_by_user, with device_by_target (one row per phone or browser) and devices_by_session. */
@Injectable()
export class DevicesTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  /** The row and both indexes in one logged batch: all or nothing. */
  async put(d: DeviceRow, previousSessionId?: string): Promise<void> {
    const statements = [
      {
        query: `INSERT INTO devices_by_user (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        params: [
          d.userId,
          d.deviceId,
          d.tenantId,
          d.platform,
          d.token,
          d.subscription?.endpoint ?? null,
          d.subscription?.p256dh ?? null,
          d.subscription?.auth ?? null,
          d.sessionId,
          d.target,
          d.createdAt,
        ],
      },
      {
        query: 'INSERT INTO device_by_target (target, user_id, device_id) VALUES (?, ?, ?)',
        params: [d.target, d.userId, d.deviceId],
      },
      {
        query: 'INSERT INTO devices_by_session (session_id, device_id, user_id) VALUES (?, ?, ?)',
        params: [d.sessionId, d.deviceId, d.userId],
      },
    ];
    if (previousSessionId && previousSessionId !== d.sessionId)
      statements.push({
        query: 'DELETE FROM devices_by_session WHERE session_id = ? AND device_id = ?',
        params: [previousSessionId, d.deviceId],
      });
    await this.db.batch(statements, { prepare: true, logged: true });
  }

  async byTarget(target: string): Promise<{ userId: string; deviceId: string } | undefined> {
    const row = (
      await this.db.execute('SELECT user_id, device_id FROM device_by_target WHERE target = ?', [target])
    ).first();
    return row
      ? { userId: row.get('user_id') as string, deviceId: row.get('device_id') as string }
      : undefined;
  }

  async ofUser(userId: string): Promise<DeviceRow[]> {
    const rs = await this.db.execute(`SELECT ${COLUMNS} FROM devices_by_user WHERE user_id = ?`, [userId]);
    return rs.rows.map((row) => {
      const endpoint = row.get('endpoint') as string | null;
      return {
        userId: row.get('user_id') as string,
        deviceId: row.get('device_id') as string,
        tenantId: row.get('tenant_id') as string,
        platform: row.get('platform') as Platform,
        token: (row.get('push_token') as string | null) ?? '',
        subscription: endpoint
          ? { endpoint, p256dh: row.get('p256dh') as string, auth: row.get('auth') as string }
          : undefined,
        sessionId: row.get('session_id') as string,
        target: row.get('target') as string,
        createdAt: row.get('created_at') as Date,
      };
    });
  }

  async ofSession(sessionId: string): Promise<Array<{ userId: string; deviceId: string }>> {
    const rs = await this.db.execute(
      'SELECT user_id, device_id FROM devices_by_session WHERE session_id = ?',
      [sessionId],
    );
    return rs.rows.map((r) => ({
      userId: r.get('user_id') as string,
      deviceId: r.get('device_id') as string,
    }));
  }

  /**
   * Removes the device as it was read, unless it was registered again since (same id, another
   * session or time): a stale 'gone' must not delete a fresh registration of the same phone.
   */
  async removeIfSame(d: DeviceRow): Promise<void> {
    const now = (await this.ofUser(d.userId)).find((x) => x.deviceId === d.deviceId);
    if (!now || now.sessionId !== d.sessionId || now.createdAt.getTime() !== d.createdAt.getTime()) return;
    await this.remove(d);
  }

  /** Removes the device row and its index entries (the target's only while it still points here). */
  async remove(d: Pick<DeviceRow, 'userId' | 'deviceId' | 'sessionId' | 'target'>): Promise<void> {
    const owner = await this.byTarget(d.target);
    const statements = [
      {
        query: 'DELETE FROM devices_by_user WHERE user_id = ? AND device_id = ?',
        params: [d.userId, d.deviceId],
      },
      {
        query: 'DELETE FROM devices_by_session WHERE session_id = ? AND device_id = ?',
        params: [d.sessionId, d.deviceId],
      },
    ];
    if (owner?.userId === d.userId)
      statements.push({ query: 'DELETE FROM device_by_target WHERE target = ?', params: [d.target] });
    await this.db.batch(statements, { prepare: true, logged: true });
  }
}
