import { Inject, Injectable } from '@nestjs/common';
import { cql, type CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

export interface TotpRow {
  /** As stored: sealed when a key-encryption key is set. */
  secret: string;
  confirmedAt: Date | undefined;
  lastStep: number;
}

const applied = (rs: { first(): { get(name: string): unknown } }) => rs.first().get('[applied]') === true;

/** A user's TOTP secret and recovery codes. */
@Injectable()
export class MfaTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async getTotp(userId: string): Promise<TotpRow | undefined> {
    const row = (
      await this.db.execute('SELECT secret, confirmed_at, last_step FROM mfa_totp WHERE user_id = ?', [
        userId,
      ])
    ).first();
    // a conditional write racing a removal can leave a row without its secret: that is no secret
    if (!row?.get('secret')) return undefined;
    return {
      secret: row.get('secret'),
      confirmedAt: row.get('confirmed_at') ?? undefined,
      lastStep: Number(row.get('last_step') ?? 0),
    };
  }

  /** A new pending secret; false when a confirmed one is in place (it is never overwritten). */
  async putPending(userId: string, secret: string): Promise<boolean> {
    const values = [userId, secret, new Date(), cql.Long.ZERO];
    const created = await this.db.execute(
      'INSERT INTO mfa_totp (user_id, secret, created_at, last_step) VALUES (?, ?, ?, ?) IF NOT EXISTS',
      values,
    );
    if (applied(created)) return true;
    return applied(
      await this.db.execute(
        'UPDATE mfa_totp SET secret = ?, created_at = ?, last_step = ? WHERE user_id = ? IF confirmed_at = null',
        [secret, new Date(), cql.Long.ZERO, userId],
      ),
    );
  }

  /** Turns the pending secret on, that code's step used; false when the secret changed meanwhile. */
  async confirm(userId: string, secret: string, step: number): Promise<boolean> {
    return applied(
      await this.db.execute(
        'UPDATE mfa_totp SET confirmed_at = ?, last_step = ? WHERE user_id = ? IF secret = ? AND confirmed_at = null',
        [new Date(), cql.Long.fromNumber(step), userId, secret],
      ),
    );
  }

  /** Records that a code of `step` was used; false when that step or a later one already was. */
  async useStep(userId: string, step: number): Promise<boolean> {
    const s = cql.Long.fromNumber(step);
    return applied(
      await this.db.execute('UPDATE mfa_totp SET last_step = ? WHERE user_id = ? IF last_step < ?', [
        s,
        userId,
        s,
      ]),
    );
  }

  async removeAll(userId: string): Promise<void> {
    await this.db.execute('DELETE FROM mfa_recovery_codes WHERE user_id = ?', [userId]);
    // conditional like the writes it races (their timestamps are the coordinator's, not ours)
    await this.db.execute('DELETE FROM mfa_totp WHERE user_id = ? IF EXISTS', [userId]);
  }

  /** Every earlier code stops working; these hashes become the user's codes. */
  async replaceRecoveryCodes(userId: string, hashes: readonly string[]): Promise<void> {
    await this.db.execute('DELETE FROM mfa_recovery_codes WHERE user_id = ?', [userId]);
    await Promise.all(
      hashes.map((h) =>
        this.db.execute(
          "INSERT INTO mfa_recovery_codes (user_id, code_hash, state) VALUES (?, ?, 'unused')",
          [userId, h],
        ),
      ),
    );
  }

  /** Spends the code; false when it is not one of the user's or was spent already. */
  async spendRecoveryCode(userId: string, hash: string): Promise<boolean> {
    return applied(
      await this.db.execute(
        "UPDATE mfa_recovery_codes SET state = 'used', used_at = ? WHERE user_id = ? AND code_hash = ? IF state = 'unused'",
        [new Date(), userId, hash],
      ),
    );
  }

  async recoveryCodesLeft(userId: string): Promise<number> {
    const rs = await this.db.execute('SELECT state FROM mfa_recovery_codes WHERE user_id = ?', [userId]);
    return rs.rows.filter((r) => r.get('state') === 'unused').length;
  }
}
