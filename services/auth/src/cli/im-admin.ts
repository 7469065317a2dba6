#!/usr/bin/env node
// Platform operators' tool: creates tenants and invites into them, over the auth service's gRPC
// with the operator credential.
//
//   AUTH_OPERATOR_TOKEN=… im-admin create-tenant acme [--open] [--invite-ttl 86400]
//   AUTH_OPERATOR_TOKEN=… im-admin invite acme [--admin] [--ttl 86400]
//   AUTH_OPERATOR_TOKEN=… im-admin rotate-signing-key
//
// AUTH_GRPC_ADDR (default 127.0.0.1:50051) names the auth service; IM_ADMIN_TLS_DIR (or
// GRPC_TLS_DIR) holds the operator's mTLS certificate (CN "operator"). Prints JSON.
import { existsSync } from 'node:fs';
import { createGrpcClient, loadGrpcIdentity, useGrpcIdentity } from '@im/platform/grpc';
import { AuthServiceService } from '@im/proto/auth/v1';

const CHART_OPERATOR_TLS = '/etc/im/operator-tls';
const USAGE = `usage:
  im-admin create-tenant <name> [--open] [--invite-ttl SECONDS]
  im-admin invite <tenant> [--admin] [--ttl SECONDS]
  im-admin rotate-signing-key
env: AUTH_OPERATOR_TOKEN (required), AUTH_GRPC_ADDR (default 127.0.0.1:50051)`;

function fail(message: string): never {
  process.stderr.write(`im-admin: ${message}\n${USAGE}\n`);
  process.exit(2);
}

const [command, name, ...rest] = process.argv.slice(2);
const FLAGS: Record<string, readonly string[]> = {
  'create-tenant': ['--open', '--invite-ttl'],
  invite: ['--admin', '--ttl'],
  'rotate-signing-key': [],
};
for (let i = 0; i < rest.length; i++) {
  const arg = rest[i]!;
  if (!(FLAGS[command ?? ''] ?? []).includes(arg)) fail(`unknown option "${arg}"`);
  if (arg.endsWith('ttl')) i++; // its value
}
const flag = (f: string) => rest.includes(f);
const number = (f: string) => {
  const i = rest.indexOf(f);
  if (i < 0) return 0;
  const n = Number(rest[i + 1]);
  if (!Number.isInteger(n) || n <= 0 || n > 30 * 86_400)
    fail(`${f} needs a number of seconds (at most 30 days)`);
  return n;
};
const token = process.env.AUTH_OPERATOR_TOKEN ?? '';
if (!command) fail('a command is needed');
if (command === 'rotate-signing-key' && name !== undefined) fail(`unexpected "${name}"`);
const tenant = (): string => name || fail('a tenant name is needed');
if (!token) fail('AUTH_OPERATOR_TOKEN is not set');

// the operator's mTLS certificate (CN "operator"): IM_ADMIN_TLS_DIR, or where the chart mounts it
// in the auth pod (whose own GRPC_TLS_DIR names auth, which may not call itself), or GRPC_TLS_DIR
const tlsDir =
  process.env.IM_ADMIN_TLS_DIR ??
  (existsSync(CHART_OPERATOR_TLS) ? CHART_OPERATOR_TLS : undefined) ??
  process.env.GRPC_TLS_DIR;
if (tlsDir) useGrpcIdentity(loadGrpcIdentity(tlsDir));
else process.stderr.write('im-admin: no IM_ADMIN_TLS_DIR or GRPC_TLS_DIR: calling auth without TLS\n');
const auth = createGrpcClient(AuthServiceService, {
  name: 'auth',
  address: process.env.AUTH_GRPC_ADDR ?? '127.0.0.1:50051',
  deadlineMs: 10_000,
});
try {
  let out: unknown;
  if (command === 'create-tenant') {
    out = await auth.createTenant({
      operatorToken: token,
      name: tenant(),
      registration: flag('--open') ? 'open' : 'invite',
      inviteTtlSeconds: number('--invite-ttl'),
    });
  } else if (command === 'invite') {
    out = await auth.createInvite({
      caller: undefined,
      operatorToken: token,
      tenant: tenant(),
      role: flag('--admin') ? 'admin' : 'member',
      ttlSeconds: number('--ttl'),
    });
  } else if (command === 'rotate-signing-key') {
    out = await auth.rotateSigningKey({ operatorToken: token });
  } else fail(`unknown command "${command}"`);
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
} catch (err) {
  const e = err as { code?: string; message?: string };
  process.stderr.write(`im-admin: ${e.code ?? 'error'}: ${e.message ?? String(err)}\n`);
  process.exitCode = 1;
} finally {
  auth.close();
}
