import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChannelCredentials, ServerCredentials } from '@grpc/grpc-js';

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
}

export function loadGrpcIdentity(dir: string): GrpcIdentity {
  const read = (file: string) => readFileSync(join(dir, file));
  const cert = read('tls.crt');
  const name = /(?:^|\n)CN=([^\n]+)/.exec(new X509Certificate(cert).subject)?.[1];
  if (!name) throw new Error(`${join(dir, 'tls.crt')} has no CN (it names the service)`);
  return { name, ca: read('ca.crt'), cert, key: read('tls.key') };
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
  return identity
    ? ChannelCredentials.createSsl(identity.ca, identity.key, identity.cert)
    : ChannelCredentials.createInsecure();
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
 * (NetworkPolicies, *_GRPC_ADDR) must say the same; tools/helm-netpol-check.mjs compares them.
 * "operator" is the im-admin CLI of platform operators.
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

/** The identities allowed to call `service`. */
export function grpcCallersOf(service: string): ReadonlySet<string> {
  return new Set(
    Object.entries(GRPC_WIRING)
      .filter(([, calls]) => calls.includes(service))
      .map(([caller]) => caller),
  );
}
