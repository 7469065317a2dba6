import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadGrpcIdentity, type GrpcIdentity } from '@im/platform/grpc';
import { repoRoot } from './paths.js';

/** Everyone on the internal gRPC plane of test platforms: the services and the operators' CLI. */
const IDENTITIES = ['auth', 'message', 'presence', 'media', 'notification', 'gateway', 'operator'];

const made = new Map<string, string>();

/**
 * A directory with a private CA and an mTLS certificate per identity (deploy/local/grpc-certs.sh),
 * made once per test process (processes of a run may make theirs at the same time).
 */
export function testCertificates(ca = 'ca'): string {
  let dir = made.get(ca);
  if (!dir) {
    dir = join(process.env.IM_RUN_DIR ?? join(repoRoot(), '.run'), 'test-tls', `${process.pid}-${ca}`);
    execFileSync('bash', [join(repoRoot(), 'deploy/local/grpc-certs.sh'), dir, ...IDENTITIES]);
    made.set(ca, dir);
    const created = dir;
    // a CA key per test process: gone with it (its platforms are stopped by then)
    process.once('exit', () => rmSync(created, { recursive: true, force: true }));
  }
  return dir;
}

/** GRPC_TLS_DIR of a test process for `name` (a service, or "operator" for im-admin). */
export function testGrpcTlsDir(name: string, ca?: string): string {
  return join(testCertificates(ca), name);
}

/** The mTLS identity a test calls services with directly, as `name` would. */
export function testGrpcIdentity(name: string, ca?: string): GrpcIdentity {
  return loadGrpcIdentity(testGrpcTlsDir(name, ca));
}
