import sharp from 'sharp';
import { CpuMeter, LatencyHistogram, platformPids, type Percentiles } from '../metrics.js';
import { registerUsers } from '../population.js';
import type { Env } from './setup.js';

export interface UploadsResult {
  targetPerSec: number;
  started: number;
  ready: number;
  readyPerSec: number;
  errors: Record<string, number>;
  imageBytes: number;
  /** From asking for an upload URL to the media being ready (PUT, complete, processing, polling). */
  timeToReadyMs: Percentiles;
  /** The PUT to the store alone. */
  putMs: Percentiles;
  cpuMsPerImage: { totalMsPerMessage: number; byProcess: Record<string, number> };
}

/** A JPEG of about `bytes` bytes: noise does not compress, so the size is near what is asked. */
async function noisyJpeg(bytes: number): Promise<Buffer> {
  const side = Math.round(Math.sqrt(bytes / 0.63)); // noise at quality 80: about 0.63 bytes a pixel
  const raw = Buffer.alloc(side * side * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (Math.random() * 256) | 0;
  return sharp(raw, { raw: { width: side, height: side, channels: 3 } })
    .jpeg({ quality: 80 })
    .toBuffer();
}

/**
 * Image uploads at `rate` per second for `duration` s, each by one of `users` users: signed URL,
 * PUT to the store, complete, then polling until ready (metadata removed, thumbnails made).
 */
export async function runUploads(
  env: Env,
  opts: { users: number; rate: number; durationSec: number; imageBytes: number },
): Promise<UploadsResult> {
  env.log(`registering ${opts.users} users; making a ${opts.imageBytes}-byte JPEG`);
  const users = await registerUsers(env.gatewayUrl, opts.users, env.runId);
  const image = await noisyJpeg(opts.imageBytes);
  const toReady = new LatencyHistogram();
  const puts = new LatencyHistogram();
  const errors: Record<string, number> = {};
  let ready = 0;
  const pids = platformPids();
  const cpu = new CpuMeter([...pids.keys()]);
  cpu.start();
  const start = performance.now();
  const total = Math.round(opts.rate * opts.durationSec);
  const inFlight: Promise<void>[] = [];
  for (let n = 0; n < total; n++) {
    const wait = start + (n * 1000) / opts.rate - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const user = users[n % users.length]!;
    inFlight.push(
      (async () => {
        const t0 = performance.now();
        try {
          const created = await user.call<{
            mediaId: string;
            upload: { url: string; headers: Record<string, string> };
          }>('POST', '/v1/media/uploads', {
            filename: `img-${n}.jpg`,
            contentType: 'image/jpeg',
            size: image.length,
          });
          const p0 = performance.now();
          const res = await fetch(created.upload.url, {
            method: 'PUT',
            body: image,
            headers: created.upload.headers,
          });
          if (!res.ok) throw Object.assign(new Error('put'), { code: `put_${res.status}` });
          puts.recordMs(performance.now() - p0);
          await user.call('POST', `/v1/media/${created.mediaId}/complete`, {});
          await user.waitUntilReady(created.mediaId, 120_000);
          toReady.recordMs(performance.now() - t0);
          ready++;
        } catch (err) {
          const code = (err as { code?: string }).code ?? 'error';
          errors[code] = (errors[code] ?? 0) + 1;
        }
      })(),
    );
  }
  await Promise.all(inFlight);
  const elapsedSec = (performance.now() - start) / 1000;
  return {
    targetPerSec: opts.rate,
    started: total,
    ready,
    readyPerSec: Math.round((ready / elapsedSec) * 10) / 10,
    errors,
    imageBytes: image.length,
    timeToReadyMs: toReady.summary(),
    putMs: puts.summary(),
    cpuMsPerImage: cpu.stop(ready, (p) => pids.get(p) ?? String(p)),
  };
}
