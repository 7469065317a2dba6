import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChannelCredentials, experimental, ServerCredentials } from '@grpc/grpc-js';

/**
 * Who a process is on the internal gRPC plane: the CA every peer must chain to, and this
 * process's certificate and key. The certificate's CN (and DNS SAN) is the service name.
 * The files are the layout of a cert-manager (kubernetes.io/tls) Secret: ca.crt, tls.crt, tls.key.
 */
export interface GrpcIdentity {
  readonly name: string;
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
  /**
   * Where the files came from: they are read again every minute, so a renewed certificate (a
   * cert-manager Secret updates in place) is used for new connections without a restart.
   */
  readonly dir?: string;
}

const REREAD_MS = 60_000;
const providers = new WeakMap<GrpcIdentity, experimental.CertificateProvider>();

export function loadGrpcIdentity(dir: string): GrpcIdentity {
  const read = (file: string) => readFileSync(join(dir, file));
  const cert = read('tls.crt');
  const name = /(?:^|\n)CN=([^\n]+)/.exec(new X509Certificate(cert).subject)?.[1];
  if (!name) throw new Error(`${join(dir, 'tls.crt')} has no CN (it names the service)`);
  return { name, ca: read('ca.crt'), cert, key: read('tls.key'), dir };
}

/** The identity's files, watched (one provider per identity). */
function provider(identity: GrpcIdentity & { dir: string }): experimental.CertificateProvider {
  let p = providers.get(identity);
  if (!p) {
    p = new experimental.FileWatcherCertificateProvider({
      caCertificateFile: join(identity.dir, 'ca.crt'),
      certificateFile: join(identity.dir, 'tls.crt'),
      privateKeyFile: join(identity.dir, 'tls.key'),
      refreshIntervalMs: REREAD_MS,
    });
    providers.set(identity, p);
  }
  return p;
}

let processIdentity: GrpcIdentity | undefined;

/** Sets the identity every gRPC server and client of this process uses by default. */
export function useGrpcIdentity(identity: GrpcIdentity | undefined): void {
  processIdentity = identity;
}

export function grpcIdentity(): GrpcIdentity | undefined {
  return processIdentity;
}

/** mTLS with the identity's certificate, or plaintext without one. */
export function channelCredentials(identity = processIdentity): ChannelCredentials {
  if (!identity) return ChannelCredentials.createInsecure();
  if (identity.dir) {
    const files = provider(identity as GrpcIdentity & { dir: string });
    return experimental.createCertificateProviderChannelCredentials(files, files);
  }
  return ChannelCredentials.createSsl(identity.ca, identity.key, identity.cert);
}

/** Requires every caller to present a certificate of the identity's CA. */
export function serverCredentials(identity = processIdentity): ServerCredentials {
  return identity
    ? ServerCredentials.createSsl(
        identity.ca,
        [{ cert_chain: identity.cert, private_key: identity.key }],
        true,
      )
    : ServerCredentials.createInsecure();
}

/**
 * Client options that check the server's certificate names `service` (its DNS SAN), whatever
 * address it is reached at (an IP in tests, a headless Service in Kubernetes).
 */
export function channelOptions(service: string, identity = processIdentity): Record<string, string> {
  return identity ? { 'grpc.ssl_target_name_override': service, 'grpc.default_authority': service } : {};
}

/**
 * Which services may call which: caller → the services it calls. The chart's `im.grpcWiring`
 * (NetworkPolicies, *_GRPC_ADDR) must say the same; tools/helm-grpc-tls-check.mjs compares them.
 * "operator" is the im-admin CLI of platform operators, limited to GRPC_METHODS_OF.operator.
 */
export const GRPC_WIRING: Readonly<Record<string, readonly string[]>> = {
  gateway: ['auth', 'message', 'presence', 'media', 'notification'],
  auth: [],
  message: ['auth', 'media'],
  presence: ['message'],
  media: ['message'],
  notification: ['presence', 'message', 'auth'],
  operator: ['auth'],
};

/**
 * Callers that may use only some methods (the names of the generated service definition): an
 * operator's certificate leaves the cluster, so it can make tenants and invites and rotate keys,
 * not act as the gateway (a forged Caller on any auth method).
 */
export const GRPC_METHODS_OF: Readonly<Record<string, readonly string[]>> = {
  operator: ['createTenant', 'createInvite', 'rotateSigningKey'],
};

/** The identities allowed to call `service`. */
export function grpcCallersOf(service: string): ReadonlySet<string> {
  return new Set(
    Object.entries(GRPC_WIRING)
      .filter(([, calls]) => calls.includes(service))
      .map(([caller]) => caller),
  );
}
