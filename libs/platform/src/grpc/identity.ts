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
 * "operator" is the im-admin CLI of platform operators. Which methods each may call: GRPC_METHODS_OF.
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
 * What each caller other than the gateway may call, per service (method names of the generated
 * service definitions). The gateway verifies users' tokens, so the `Caller` it passes is the one
 * the platform trusts; every other service reaches only the lookups it needs (memberships,
 * members, names, roles, presence, unread counts, media access), never a method that reads or
 * writes messages as a user, so a compromised one cannot act as any user through a forged
 * `Caller` (ADR 0021). The operator's certificate leaves the cluster: tenants, invites and keys only.
 */
export const GRPC_METHODS_OF: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  operator: { auth: ['createTenant', 'createInvite', 'rotateSigningKey'] },
  message: { auth: ['batchGetUsers', 'getTenantSettings'], media: ['getAttachments'] },
  presence: { message: ['checkMembership'] },
  media: { message: ['checkMediaAccess'] },
  notification: {
    auth: ['batchGetUsers', 'getCallerRole'],
    message: ['checkMembership', 'listMembers', 'getUnreadTotals'],
    presence: ['getPresence'],
  },
};

/**
 * Whether `caller` may call `method` of `service` (given it is wired to call the service at all):
 * the gateway anything, the others only what GRPC_METHODS_OF lists.
 */
export function grpcMayCallMethod(caller: string, service: string, method: string): boolean {
  const limited = GRPC_METHODS_OF[caller];
  return !limited || (limited[service] ?? []).includes(method);
}

/** The identities allowed to call `service`. */
export function grpcCallersOf(service: string): ReadonlySet<string> {
  return new Set(
    Object.entries(GRPC_WIRING)
      .filter(([, calls]) => calls.includes(service))
      .map(([caller]) => caller),
  );
}
