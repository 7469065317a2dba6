import type { Media, MultipartUpload, UploadedPart } from '@im/proto/client/v1';
import { md5 } from '@noble/hashes/legacy.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { ApiError } from './errors.js';

/** What an upload needs of the client: its authenticated REST calls. */
export interface UploadApi {
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
}

export interface UploadOptions {
  filename: string;
  contentType: string;
  /** Parts sent at once (multipart uploads). */
  concurrency?: number;
  /** Attempts per PUT before giving up (a dropped connection is retried). */
  attempts?: number;
}

interface CreatedUpload {
  mediaId: string;
  upload?: { method: string; url: string; headers: Record<string, string> };
  multipart?: MultipartUpload;
}

/**
 * Uploads bytes straight to storage: signed URL(s) from the gateway, one PUT (or a PUT per part,
 * in parallel, each retried), then complete. Returns the media as `complete` answers it (images
 * are `processing` until their thumbnails exist; see waitUntilReady).
 */
export async function uploadMedia(api: UploadApi, bytes: Uint8Array, options: UploadOptions): Promise<Media> {
  const created = await api.call<CreatedUpload>('POST', '/v1/media/uploads', {
    filename: options.filename,
    contentType: options.contentType,
    size: bytes.byteLength,
  });
  const attempts = options.attempts ?? 3;
  if (created.upload) {
    await put(created.upload.url, bytes, created.upload.headers, attempts);
    return complete(api, created.mediaId, []);
  }
  const parts = await uploadParts(created.multipart!, bytes, options.concurrency ?? 4, attempts, []);
  return complete(api, created.mediaId, parts);
}

/**
 * Finishes a multipart upload that was interrupted: asks which parts the store holds, sends the
 * others, completes.
 */
export async function resumeUpload(
  api: UploadApi,
  mediaId: string,
  bytes: Uint8Array,
  options: Pick<UploadOptions, 'concurrency' | 'attempts'> = {},
): Promise<Media> {
  const { multipart, uploaded } = await api.call<{ multipart: MultipartUpload; uploaded?: UploadedPart[] }>(
    'GET',
    `/v1/media/${mediaId}/parts`,
  );
  // a part cut off mid-PUT may be listed anyway (with what arrived): keep only parts whose ETag is
  // the MD5 of the bytes they must hold, upload the others again
  const size = Number(multipart.partSize);
  const intact = (uploaded ?? []).filter(
    (p) =>
      p.etag.replaceAll('"', '') ===
      bytesToHex(md5(bytes.subarray((p.partNumber - 1) * size, p.partNumber * size))),
  );
  const parts = await uploadParts(multipart, bytes, options.concurrency ?? 4, options.attempts ?? 3, intact);
  return complete(api, mediaId, parts);
}

/** Polls until the media is ready (images: thumbnails made), riding out a service restarting. */
export async function waitUntilReady(api: UploadApi, mediaId: string, timeoutMs = 30_000): Promise<Media> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 100; ; delay = Math.min(delay * 2, 1_000)) {
    let status = 'unknown';
    try {
      const { media } = await api.call<{ media: Media }>('GET', `/v1/media/${mediaId}`);
      if (media.status === 'ready') return media;
      if (media.status === 'rejected')
        throw new ApiError('invalid_argument', `media ${mediaId} was rejected by the malware scanner`);
      status = media.status;
    } catch (err) {
      // a service restarting answers unavailable for a moment: keep polling
      const transient = err instanceof ApiError && (err.code === 'unavailable' || err.code === 'timeout');
      if (!transient || Date.now() + delay > deadline) throw err;
    }
    if (Date.now() + delay > deadline) throw new ApiError('timeout', `media ${mediaId} is still ${status}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

async function complete(api: UploadApi, mediaId: string, parts: UploadedPart[]): Promise<Media> {
  return (await api.call<{ media: Media }>('POST', `/v1/media/${mediaId}/complete`, { parts })).media;
}

async function uploadParts(
  multipart: MultipartUpload,
  bytes: Uint8Array,
  concurrency: number,
  attempts: number,
  already: readonly UploadedPart[],
): Promise<UploadedPart[]> {
  const done = new Map(already.map((p) => [p.partNumber, p.etag]));
  const queue = multipart.parts.filter((p) => !done.has(p.partNumber));
  const size = Number(multipart.partSize);
  await Promise.all(
    Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
      for (let target = queue.shift(); target; target = queue.shift()) {
        const start = (target.partNumber - 1) * size;
        const etag = await put(target.url, bytes.subarray(start, start + size), {}, attempts);
        done.set(target.partNumber, etag);
      }
    }),
  );
  return [...done].sort((a, b) => a[0] - b[0]).map(([partNumber, etag]) => ({ partNumber, etag }));
}

/** One PUT to the store, retried with backoff; returns the ETag it answers. */
async function put(
  url: string,
  body: Uint8Array,
  headers: Record<string, string>,
  attempts: number,
): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(url, { method: 'PUT', body, headers });
      if (res.ok) return res.headers.get('etag') ?? '';
      // 4xx other than a timeout will not get better by retrying (an expired URL: start again)
      if (res.status < 500 && res.status !== 408 && res.status !== 429)
        throw new ApiError(
          'upload_refused',
          `the store answered ${res.status}: ${await res.text()}`,
          res.status,
        );
    } catch (err) {
      if (err instanceof ApiError || attempt >= attempts) throw err;
    }
    if (attempt >= attempts)
      throw new ApiError('unavailable', `the store did not take the upload after ${attempts} attempts`);
    await new Promise((r) => setTimeout(r, 200 * 2 ** attempt * (0.5 + Math.random())));
  }
}
