import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { eventually, Platform, sleep } from '@im/testing';
import { objectsOf } from '../support/media-objects.js';
import { outcome } from '../support/outcome.js';
import { registerUsers } from '../support/users.js';

// kill -9 of the media service while it processes an image, and uploads never completed: the file
// still becomes ready once a processor is back, and nothing is left in the store that no media
// row points at. Needs the S3 store of the run (S3_* in the environment).
const PENDING_TTL_SECONDS = 3;

describe('media faults', () => {
  let platform: Platform;

  before(async () => {
    platform = await Platform.start({
      env: {
        media: {
          LOG_LEVEL: 'debug',
          MEDIA_PENDING_TTL_SECONDS: String(PENDING_TTL_SECONDS),
          MEDIA_SWEEP_INTERVAL_SECONDS: '1',
        },
      },
    });
  });
  after(() => platform?.stop());

  it('kill -9 of the media service during processing: the image still becomes ready, no orphan left', async () => {
    const [ana] = await registerUsers(platform, 1, 'mediacrash');
    // large enough that making its thumbnails takes a moment
    const photo = await sharp({
      create: { width: 4000, height: 3000, channels: 3, background: { r: 10, g: 120, b: 200 } },
    })
      .jpeg({ quality: 95 })
      .toBuffer();
    const media = platform.services.get('media')!;
    const uploaded = await ana!.upload(photo, { filename: 'big.jpg', contentType: 'image/jpeg' });
    assert.equal(uploaded.status, 'processing');
    await media.waitForLog((l) => l.msg === 'processing media' && l.mediaId === uploaded.id, 30_000);
    await media.kill();
    assert.equal(
      (await outcome(ana!.media(uploaded.id))).startsWith('50'),
      true,
      'the media service is down',
    );

    await platform.restartService('media');
    const ready = await ana!.waitUntilReady(uploaded.id, 60_000);
    assert.deepEqual([ready.width, ready.height], [4000, 3000]);
    assert.equal(ready.thumbnails.length, 2);
    for (const t of ready.thumbnails) assert.equal((await fetch(t.url)).status, 200);
    assert.deepEqual(await objectsOf(platform, ana!.user.tenantId, uploaded.id), [
      'file',
      ...ready.thumbnails.map((t) => `thumb-${t.width}.webp`).sort(),
    ]);
  });

  it('an upload never completed is abandoned: its bytes and its row go', async () => {
    const [ana] = await registerUsers(platform, 1, 'mediaswept');
    const bytes = Buffer.from('never completed\n');
    const created = await ana!.call<{
      mediaId: string;
      upload: { url: string; headers: Record<string, string> };
    }>('POST', '/v1/media/uploads', { filename: 'draft.txt', contentType: 'text/plain', size: bytes.length });
    assert.equal(
      (await fetch(created.upload.url, { method: 'PUT', body: bytes, headers: created.upload.headers }))
        .status,
      200,
    );
    assert.deepEqual(await objectsOf(platform, ana!.user.tenantId, created.mediaId), ['upload']);
    await sleep(PENDING_TTL_SECONDS * 1000);
    await eventually(
      async () => assert.deepEqual(await objectsOf(platform, ana!.user.tenantId, created.mediaId), []),
      {
        what: 'the abandoned upload removed',
        timeoutMs: 15_000,
      },
    );
    assert.equal(await outcome(ana!.media(created.mediaId)), '404 not_found');
    assert.equal(
      await outcome(ana!.call('POST', `/v1/media/${created.mediaId}/complete`, {})),
      '404 not_found',
    );
  });
});
