import { AppError } from '@im/platform/errors';

/** What a client declares when it starts an upload. */
export interface UploadRequest {
  filename: string;
  contentType: string;
  size: number;
}

export type UploadPlan = { kind: 'single' } | { kind: 'multipart'; partSize: number; parts: number };

const MAX_PARTS = 10_000; // S3's limit
const FILENAME_MAX = 255;
const CONTENT_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;

/** Checks a new upload against the tenant's size limit; throws invalid_argument naming the field. */
export function validateUpload(r: UploadRequest, maxBytes: number): void {
  const name = r.filename.trim();
  if (name === '' || [...name].length > FILENAME_MAX || /[\p{Cc}/\\]/u.test(name))
    throw new AppError('invalid_argument', `filename: 1-${FILENAME_MAX} printable characters, no / or \\`);
  if (!CONTENT_TYPE.test(r.contentType.toLowerCase()))
    throw new AppError('invalid_argument', 'contentType: a media type such as image/jpeg');
  if (!Number.isSafeInteger(r.size) || r.size < 1)
    throw new AppError('invalid_argument', 'size: the file size in bytes (at least 1)');
  if (r.size > maxBytes) throw new AppError('invalid_argument', `size: at most ${maxBytes} bytes`);
}

/** One PUT up to the part size; above it, S3 multipart in parts of that size. */
export function planUpload(size: number, partSize: number): UploadPlan {
  if (size <= partSize) return { kind: 'single' };
  const parts = Math.ceil(size / partSize);
  if (parts > MAX_PARTS)
    throw new AppError('invalid_argument', `size: at most ${MAX_PARTS} parts of ${partSize} bytes`);
  return { kind: 'multipart', partSize, parts };
}

/** Whether `type` is in the allowed list (entries may be "family/*"). */
export function isAllowed(type: string, allowed: readonly string[]): boolean {
  const family = type.split('/')[0];
  return allowed.some((a) => a === type || a === `${family}/*`);
}

/**
 * The content type the media gets: the one sniffed from its first bytes. Refused when it is not
 * allowed, or when the bytes are not what the file claims to be (a ".jpg" that is a program).
 * Bytes without a signature count as text/plain only when declared so and free of NUL bytes.
 */
export function decideContentType(
  declared: string,
  sniffed: string | undefined,
  head: Uint8Array,
  allowed: readonly string[],
): string {
  const claimed = declared.toLowerCase();
  let type = sniffed;
  if (!type) {
    if (claimed !== 'text/plain' || head.includes(0))
      throw new AppError('invalid_argument', `content: the bytes are not a recognised ${claimed} file`);
    type = 'text/plain';
  }
  if (!isAllowed(type, allowed))
    throw new AppError('invalid_argument', `content: ${type} files are not accepted`);
  const family = (t: string) => t.split('/')[0];
  if (claimed !== 'application/octet-stream' && family(claimed) !== family(type) && claimed !== type)
    throw new AppError('invalid_argument', `content: the bytes are ${type}, not ${claimed}`);
  return type;
}

/** Images the processor decodes (libvips' prebuilt build has no HEIC decoder: kept as plain files). */
export function isProcessableImage(type: string): boolean {
  return ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif'].includes(type);
}

/** A thumbnail's size: `width` wide at most, the aspect kept, never larger than the image. */
export function thumbnailSize(
  width: number,
  height: number,
  maxWidth: number,
): { width: number; height: number } {
  if (width <= maxWidth) return { width, height };
  return { width: maxWidth, height: Math.max(1, Math.round((height * maxWidth) / width)) };
}

/** The tenant's own list ("tenantId=type|type;…") when it has one, else the platform's. */
export function allowedTypesOf(
  tenantId: string,
  byTenant: string | undefined,
  fallback: readonly string[],
): readonly string[] {
  for (const entry of byTenant?.split(';') ?? []) {
    const [tenant, types] = entry.split('=');
    if (tenant?.trim() === tenantId && types) return types.split('|').map((t) => t.trim().toLowerCase());
  }
  return fallback;
}
