import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { importJWK, type JWK } from 'jose';
import type { Logger } from '@im/platform/logging';
import { CONFIG, LOGGER, Readiness } from '@im/platform/nest';
import type { GatewayConfig } from '../config.js';
import { Downstream } from '../clients/downstream.js';

export type VerifyKey = Awaited<ReturnType<typeof importJWK>>;

const MIN_REFETCH_MS = 5_000;

/**
 * The auth service's public signing keys, fetched over gRPC and kept in memory: tokens are
 * verified locally, not with a call per request. Keys are re-fetched periodically and when a
 * token names an unknown kid (a rotation), at most once per 5 s.
 */
@Injectable()
export class JwksCache implements OnModuleInit, OnApplicationShutdown {
  /** Imported keys by kid, with the public key (x) each was imported from. */
  private keys = new Map<string, { x: string; key: VerifyKey }>();
  private lastFetch = 0;
  private inflight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly downstream: Downstream,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    readiness: Readiness,
  ) {
    readiness.add({
      name: 'signing-keys',
      check: async () => {
        if (this.keys.size === 0) await this.refresh();
        if (this.keys.size === 0) throw new Error('no signing keys from auth yet');
      },
    });
  }

  async onModuleInit(): Promise<void> {
    await this.refresh().catch((err) => this.logger.warn({ err }, 'signing keys not loaded yet; will retry'));
    this.timer = setInterval(
      () => void this.refresh().catch(() => undefined),
      this.config.JWKS_REFRESH_SEC * 1000,
    );
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** The key of `kid` as last fetched, without fetching (the same object while it is unchanged). */
  current(kid: string): VerifyKey | undefined {
    return this.keys.get(kid)?.key;
  }

  async key(kid: string): Promise<VerifyKey | undefined> {
    const known = this.current(kid);
    if (known) return known;
    if (Date.now() - this.lastFetch >= MIN_REFETCH_MS) await this.refresh().catch(() => undefined);
    return this.current(kid);
  }

  refresh(): Promise<void> {
    this.inflight ??= (async () => {
      try {
        this.lastFetch = Date.now();
        const { keys } = await this.downstream.auth.getJwks({});
        const next = new Map<string, { x: string; key: VerifyKey }>();
        for (const k of keys) {
          if (k.alg !== 'EdDSA' || k.kty !== 'OKP') continue;
          // an unchanged key stays the same object: tokens verified with it stay remembered
          const known = this.keys.get(k.kid);
          const key =
            known?.x === k.x
              ? known.key
              : await importJWK({ kty: k.kty, crv: k.crv, x: k.x } as JWK, 'EdDSA');
          next.set(k.kid, { x: k.x, key });
        }
        this.keys = next;
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }

  /** The JWKS document for GET /.well-known/jwks.json (fetched from auth, so always current). */
  async document(): Promise<{ keys: Array<Record<string, string>> }> {
    const { keys } = await this.downstream.auth.getJwks({});
    return {
      keys: keys.map((k) => ({ kty: k.kty, crv: k.crv, x: k.x, kid: k.kid, alg: k.alg, use: k.use })),
    };
  }
}
