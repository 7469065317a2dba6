import { baseEnv, cassandraEnv, env, grpcServerEnv, kafkaEnv } from '@im/platform/config';
import { z } from 'zod';

const MiB = 1024 * 1024;

export const mediaConfigSchema = z.object({
  ...baseEnv,
  ...grpcServerEnv,
  ...cassandraEnv,
  ...kafkaEnv,
  MESSAGE_GRPC_ADDR: env.grpcAddress('message'),
  S3_ENDPOINT: env.url('S3 API of the object store (versitygw, SeaweedFS, Ceph RGW, a cloud bucket)', [
    'http',
    'https',
  ]),
  S3_PUBLIC_ENDPOINT: env
    .optionalString(
      'S3 endpoint put into signed URLs for clients, when they reach the store by another address',
    )
    .refine((v) => v === undefined || /^https?:\/\//.test(v), { message: 'must be an http(s) URL' }),
  S3_CORS_ALLOWED_ORIGINS: env.optionalString(
    "origins (comma-separated, or *) of web apps that upload and download with signed URLs from a browser: set as the bucket's CORS rules at start; unset: the bucket's CORS is left as it is",
  ),
  S3_REGION: env.string('S3 region').default('us-east-1'),
  S3_ACCESS_KEY_ID: env.string('S3 access key'),
  S3_SECRET_ACCESS_KEY: env.string('S3 secret key'),
  S3_BUCKET: env
    .string('bucket of media objects (created when missing; IM_NAME_PREFIX is put in front)')
    .default('im-media'),
  MEDIA_MAX_BYTES: env.int('largest file, in bytes', 100 * MiB, 1, 5 * 1024 * MiB),
  MEDIA_MAX_BYTES_BY_TENANT: env.tenantOverrides(
    'per-tenant largest file overriding MEDIA_MAX_BYTES: "tenantId=bytes,…"',
  ),
  MEDIA_TENANT_QUOTA_BYTES: env.int('bytes of completed media one tenant may store; 0 = unlimited', 0, 0),
  MEDIA_PART_SIZE: env.int(
    'files above this size upload as S3 multipart, in parts of this size (S3 needs at least 5 MiB)',
    8 * MiB,
    5 * MiB,
    512 * MiB,
  ),
  MEDIA_URL_TTL_SECONDS: env.int('how long signed upload and download URLs stay valid', 900, 5, 7 * 86_400),
  MEDIA_PENDING_TTL_SECONDS: env.int(
    'an upload not completed within this long is abandoned and its bytes removed',
    24 * 3600,
    1,
    30 * 86_400,
  ),
  MEDIA_SWEEP_INTERVAL_SECONDS: env.int('how often abandoned uploads are looked for', 300, 1, 86_400),
  MEDIA_UPLOADS_PER_MINUTE: env.int('uploads one user may start per minute', 60, 1, 100_000),
  MEDIA_ALLOWED_TYPES: env
    .string('content types accepted, as sniffed from the bytes (comma-separated; "type/*" for a family)')
    .default(
      'image/jpeg,image/png,image/gif,image/webp,image/avif,image/heic,image/heif,video/mp4,video/quicktime,video/webm,audio/mpeg,audio/ogg,audio/mp4,audio/wav,application/pdf,application/zip,application/vnd.openxmlformats-officedocument.wordprocessingml.document,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,application/vnd.openxmlformats-officedocument.presentationml.presentation,text/plain',
    )
    .transform((v) => v.split(',').map((t) => t.trim().toLowerCase())),
  MEDIA_ALLOWED_TYPES_BY_TENANT: env
    .optionalString(
      'per-tenant lists replacing MEDIA_ALLOWED_TYPES: "tenantId=image/*|application/pdf;otherTenantId=…"',
    )
    .refine((v) => v === undefined || /^[^=;\s]+=[^=;\s]+(;[^=;\s]+=[^=;\s]+)*$/.test(v), {
      message: 'expected "tenantId=type|type" entries separated by semicolons',
    }),
  MEDIA_SCANNER_CLAMD_ADDR: env
    .optionalString(
      'ClamAV daemon (clamd) host:port; set: every completed upload is scanned before it becomes ready, infected ones are rejected',
    )
    .refine((v) => v === undefined || isHostPort(v), { message: 'expected host:port (port 1-65535)' }),
  MEDIA_SCANNER_TIMEOUT_MS: env.int('how long clamd has to scan one file', 60_000, 1_000, 600_000),
  MEDIA_THUMBNAIL_WIDTHS: env
    .string('widths of the WebP thumbnails of an image, in pixels (comma-separated)')
    .default('160,480')
    .transform((v) => v.split(',').map(Number))
    .refine((ws) => ws.every((w) => Number.isInteger(w) && w >= 16 && w <= 4096), {
      message: 'widths between 16 and 4096',
    }),
});

export type MediaConfig = z.output<typeof mediaConfigSchema>;

function isHostPort(v: string): boolean {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(v);
  return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 65_535;
}
