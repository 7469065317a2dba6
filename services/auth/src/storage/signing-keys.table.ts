import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

export interface SigningKeyRow {
  kid: string;
  alg: string;
  publicJwk: string;
  privateJwk: string;
  createdAt: Date;
  retiredAt: Date | null;
}

@Injectable()
export class SigningKeysTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async all(): Promise<SigningKeyRow[]> {
    const rs = await this.db.execute(
      'SELECT kid, alg, public_jwk, private_jwk, created_at, retired_at FROM signing_keys',
    );
    return rs.rows.map((r) => ({
      kid: r.get('kid'),
      alg: r.get('alg'),
      publicJwk: r.get('public_jwk'),
      privateJwk: r.get('private_jwk'),
      createdAt: r.get('created_at'),
      retiredAt: r.get('retired_at'),
    }));
  }

  async insert(key: SigningKeyRow): Promise<void> {
    await this.db.execute(
      'INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk, created_at) VALUES (?, ?, ?, ?, ?)',
      [key.kid, key.alg, key.publicJwk, key.privateJwk, key.createdAt],
    );
  }

  async retire(kid: string, at: Date): Promise<void> {
    await this.db.execute('UPDATE signing_keys SET retired_at = ? WHERE kid = ?', [at, kid]);
  }

  async currentKid(): Promise<string | undefined> {
    return (await this.db.execute("SELECT kid FROM signing_key_current WHERE id = 'current'"))
      .first()
      ?.get('kid');
  }

  /** Makes kid current only if no key is current yet; returns the current kid after the attempt. */
  async setCurrentIfAbsent(kid: string): Promise<string> {
    const rs = await this.db.execute(
      "INSERT INTO signing_key_current (id, kid) VALUES ('current', ?) IF NOT EXISTS",
      [kid],
    );
    return rs.first().get('[applied]') ? kid : rs.first().get('kid');
  }

  async setCurrent(kid: string): Promise<void> {
    await this.db.execute("UPDATE signing_key_current SET kid = ? WHERE id = 'current'", [kid]);
  }
}
