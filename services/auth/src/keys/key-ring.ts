import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { uuidv7 } from '@im/platform/ids';
import type { Logger } from '@im/platform/logging';
import { CONFIG, LOGGER } from '@im/platform/nest';
import type { Jwk } from '@im/proto/auth/v1';
import type { AuthConfig } from '../config.js';
import type { AccessClaims } from '../domain/tokens.js';
import { SigningKeysTable, type SigningKeyRow } from '../storage/signing-keys.table.js';
import { KeyEncryption } from './key-encryption.js';

const ALG = 'EdDSA';
/** A retired key stays published this long past the access-token lifetime (clock skew). */
const PUBLISH_SKEW_MS = 60_000;

/**
 * The access-token signing keys (Ed25519). One key is current and signs; rotation makes a new one
 * current and retires the old one, which stays in the JWKS until every token it signed expired.
 * Every replica reloads the keys every SIGNING_KEY_REFRESH_SEC, so a rotation reaches all of them.
 */
@Injectable()
export class KeyRing implements OnModuleInit, OnApplicationShutdown {
  private rows: SigningKeyRow[] = [];
  private currentKid: string | undefined;
  private signingKey: { kid: string; key: Awaited<ReturnType<typeof importJWK>> } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly encryption: KeyEncryption;

  constructor(
    private readonly table: SigningKeysTable,
    @Inject(CONFIG) private readonly config: AuthConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.encryption = new KeyEncryption(config.AUTH_KEY_ENCRYPTION_KEY);
  }

  async onModuleInit(): Promise<void> {
    if (!this.encryption.enabled) {
      this.logger.warn('AUTH_KEY_ENCRYPTION_KEY is not set: signing keys are stored unencrypted');
    }
    await this.reload();
    if (!this.currentKid) {
      const row = await this.createKey();
      const winner = await this.table.setCurrentIfAbsent(row.kid);
      if (winner !== row.kid)
        this.logger.info({ kid: winner }, 'another replica created the first signing key');
      await this.reload();
    }
    this.timer = setInterval(() => {
      this.reload().catch((err) => this.logger.warn({ err }, 'reloading signing keys failed'));
    }, this.config.SIGNING_KEY_REFRESH_SEC * 1000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async sign(claims: AccessClaims): Promise<{ token: string; expiresIn: number }> {
    if (!this.signingKey) throw new Error('no signing key loaded');
    const ttl = this.config.ACCESS_TOKEN_TTL_SEC;
    const token = await new SignJWT({ tid: claims.tid, sid: claims.sid })
      .setProtectedHeader({ alg: ALG, kid: this.signingKey.kid, typ: 'JWT' })
      .setSubject(claims.sub)
      .setJti(uuidv7())
      .setIssuer(this.config.JWT_ISSUER)
      .setAudience(this.config.JWT_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${ttl}s`)
      .sign(this.signingKey.key);
    return { token, expiresIn: ttl };
  }

  /** Public keys that may still verify a token: the current one and recently retired ones. */
  jwks(now = Date.now()): Jwk[] {
    const horizon = now - this.config.ACCESS_TOKEN_TTL_SEC * 1000 - PUBLISH_SKEW_MS;
    return this.rows
      .filter((r) => r.retiredAt === null || r.retiredAt.getTime() > horizon)
      .map((r) => {
        const jwk = JSON.parse(r.publicJwk) as JWK;
        return {
          kty: jwk.kty ?? 'OKP',
          crv: jwk.crv ?? '',
          x: jwk.x ?? '',
          y: jwk.y ?? '',
          kid: r.kid,
          alg: r.alg,
          use: 'sig',
        };
      });
  }

  async rotate(): Promise<{ kid: string; activatedAt: Date }> {
    const previous = this.currentKid;
    const row = await this.createKey();
    await this.table.setCurrent(row.kid);
    const now = new Date();
    if (previous) await this.table.retire(previous, now);
    await this.reload();
    this.logger.info({ kid: row.kid, retired: previous }, 'signing key rotated');
    return { kid: row.kid, activatedAt: now };
  }

  private async createKey(): Promise<SigningKeyRow> {
    const { publicKey, privateKey } = await generateKeyPair(ALG, { crv: 'Ed25519', extractable: true });
    const row: SigningKeyRow = {
      kid: uuidv7(),
      alg: ALG,
      publicJwk: JSON.stringify(await exportJWK(publicKey)),
      privateJwk: this.encryption.seal(JSON.stringify(await exportJWK(privateKey))),
      createdAt: new Date(),
      retiredAt: null,
    };
    await this.table.insert(row);
    return row;
  }

  private async reload(): Promise<void> {
    const [rows, kid] = await Promise.all([this.table.all(), this.table.currentKid()]);
    this.rows = rows;
    this.currentKid = kid;
    if (kid && this.signingKey?.kid !== kid) {
      const row = rows.find((r) => r.kid === kid);
      if (!row) throw new Error(`current signing key ${kid} is missing from signing_keys`);
      const jwk = JSON.parse(this.encryption.open(row.privateJwk)) as JWK;
      this.signingKey = { kid, key: await importJWK(jwk, ALG) };
    }
  }
}
