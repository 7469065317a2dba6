import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { OPERATOR_TOKEN, type Platform, repoRoot, testGrpcTlsDir } from '@im/testing';

const run = promisify(execFile);

/** The operators' CLI, as a process, against the platform's auth service: its exit code and JSON. */
export async function imAdmin(platform: Platform, args: string[], token = OPERATOR_TOKEN) {
  try {
    const { stdout } = await run(
      process.execPath,
      [`${repoRoot()}/services/auth/dist/src/cli/im-admin.js`, ...args],
      {
        env: {
          ...process.env,
          AUTH_OPERATOR_TOKEN: token,
          AUTH_GRPC_ADDR: platform.grpc('auth'),
          GRPC_TLS_DIR: testGrpcTlsDir('operator'),
        },
      },
    );
    return { code: 0, out: JSON.parse(stdout) as Record<string, unknown>, err: '' };
  } catch (e) {
    const err = e as { code?: number; stderr?: string };
    return { code: err.code ?? -1, out: {}, err: err.stderr ?? '' };
  }
}
