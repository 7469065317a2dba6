import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { Media } from '@im/proto/client/v1';
import type { ImClient } from '@im/sdk';
import { eventually, Platform } from '@im/testing';
import { outcome } from './support/outcome.js';
import { registerUsers } from './support/users.js';

const MiB = 1024 * 1024;
const URL_TTL_SECONDS = 5;
const QUOTA = 40 * MiB;

/** A real JPEG with EXIF, including GPS tags (where the photo was taken). */
async function photoWithLocation(): Promise<Buffer> {
  return sharp({ create: { width: 320, height: 200, channels: 3, background: { r: 200, g: 60, b: 30 } } })
    .composite([
      {
        input: Buffer.from(
          '<svg width="320" height="200"><circle cx="160" cy="100" r="60" fill="#0a5"/></svg>',
        ),
      },
    ])
    .jpeg({ quality: 90 })
    .withExif({
      IFD0: { Make: 'TestCam', Model: 'E2E' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '48/1 51/1 2400/100',
        GPSLongitudeRef: 'E',
        GPSLongitude: '2/1 21/1 300/100',
      },
    })
    .toBuffer();
}

/**
 * A PUT whose connection drops halfway: it announces the whole length, sends half, then the socket
 * is destroyed. Deterministic, unlike aborting a streamed fetch (the store may answer first).
 */
function interruptedPut(url: string, bytes: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'PUT', headers: { 'content-length': bytes.length } });
    req.on('response', (res) => {
      res.resume();
      resolve(`answered ${res.statusCode}`);
    });
    req.on('error', () => resolve('interrupted'));
    req.write(bytes.subarray(0, bytes.length / 2), () => setTimeout(() => req.destroy(), 50));
  });
}

const download = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
};
const pixels = async (img: Buffer) => (await sharp(img).raw().toBuffer({ resolveWithObject: true })).data;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('media: uploads to a real S3 store (versitygw), checked files, thumbnails, members-only access', () => {
  let platform: Platform;

  before(async () => {
    platform = await Platform.start({
      env: {
        media: {
          MEDIA_URL_TTL_SECONDS: String(URL_TTL_SECONDS),
          MEDIA_TENANT_QUOTA_BYTES: String(QUOTA),
        },
      },
    });
  });
  after(() => platform?.stop());

  it('a photo: uploaded, sent, fetched by another member with the same pixels, its location gone; a thumbnail', async () => {
    const [ana, bo] = await registerUsers(platform, 2, 'photo');
    const group = await ana!.createConversation('group', [bo!.user.id], 'photos');
    const original = await photoWithLocation();
    assert.ok((await sharp(original).metadata()).exif, 'the test photo carries EXIF');

    const uploaded = await ana!.upload(original, { filename: 'beach.jpg', contentType: 'image/jpeg' });
    assert.equal(uploaded.contentType, 'image/jpeg');
    const ready = await ana!.waitUntilReady(uploaded.id);
    assert.deepEqual([ready.width, ready.height], [320, 200]);

    const sent = await ana!.sendMessage(group.id, 'p-1', 'look', { attachments: [{ mediaId: ready.id }] });
    const [attachment] = sent.attachments;
    assert.deepEqual(
      { ...attachment, name: undefined },
      {
        mediaId: ready.id,
        filename: 'beach.jpg',
        contentType: 'image/jpeg',
        size: ready.size,
        width: 320,
        height: 200,
        name: undefined,
      },
    );

    const seen: Media = await bo!.media(ready.id);
    const file = await download(seen.url);
    assert.equal(file.status, 200);
    const meta = await sharp(file.bytes).metadata();
    assert.deepEqual([meta.width, meta.height], [320, 200]);
    assert.equal(meta.exif, undefined, 'EXIF (and the GPS tags in it) removed');
    assert.ok(!file.bytes.includes(Buffer.from('TestCam')), 'no trace of the camera tags');
    assert.ok((await pixels(file.bytes)).equals(await pixels(original)), 'the same pixels');

    assert.ok(seen.thumbnails.length > 0);
    const thumb = await download(seen.thumbnails[0]!.url);
    const tmeta = await sharp(thumb.bytes).metadata();
    assert.equal(tmeta.format, 'webp');
    assert.deepEqual([tmeta.width, tmeta.height], [seen.thumbnails[0]!.width, seen.thumbnails[0]!.height]);
    assert.ok(tmeta.width! <= 160);
  });

  it('a 30 MiB file in parts, one PUT interrupted and resumed; the stored bytes are exactly the upload', async () => {
    const [ana] = await registerUsers(platform, 1, 'multipart', `media-mp-${Date.now()}`);
    const body = Buffer.alloc(30 * MiB, 'lorem ipsum dolor sit amet\n');
    Buffer.from('%PDF-1.4\n').copy(body);
    const created = await ana!.call<{
      mediaId: string;
      multipart: { partSize: number; parts: Array<{ partNumber: number; url: string }> };
    }>('POST', '/v1/media/uploads', {
      filename: 'report.pdf',
      contentType: 'application/pdf',
      size: body.length,
    });
    const { partSize, parts } = created.multipart;
    assert.ok(parts.length >= 4, `${parts.length} parts of ${partSize}`);
    const slice = (n: number) => body.subarray((n - 1) * partSize, n * partSize);
    // every part but the second goes through
    for (const p of parts.filter((p) => p.partNumber !== 2)) {
      const res = await fetch(p.url, { method: 'PUT', body: slice(p.partNumber) });
      assert.equal(res.status, 200);
    }
    // the second one's connection drops halfway: the full length is announced, half is sent
    assert.equal(await interruptedPut(parts[1]!.url, slice(2)), 'interrupted');
    // completing now is refused (a part is missing), and changes nothing
    assert.equal(
      await outcome(ana!.call('POST', `/v1/media/${created.mediaId}/complete`, { parts: [] })),
      '400 invalid_argument',
    );

    const done = await ana!.resumeUpload(created.mediaId, body);
    assert.equal(done.status, 'ready');
    assert.equal(done.contentType, 'application/pdf');
    const stored = await download(done.url);
    assert.equal(stored.bytes.length, body.length);
    assert.equal(sha256(stored.bytes), sha256(body));

    // the tenant's quota counts completed files: 30 MiB stored, 15 more would pass 40
    const over = ana!.call('POST', '/v1/media/uploads', {
      filename: 'more.pdf',
      contentType: 'application/pdf',
      size: 15 * MiB,
    });
    assert.equal(await outcome(over), '409 limit_exceeded');
  });

  it('access: the uploader and members; not a non-member, another tenant, a removed member; URLs expire', async () => {
    const [ana, bo, outsider] = await registerUsers(platform, 3, 'access');
    const [stranger] = await registerUsers(platform, 1, 'access', `media-other-${Date.now()}`);
    const group = await ana!.createConversation('group', [bo!.user.id], 'access');
    const media = await ana!.upload(Buffer.from('minutes of the meeting\n'), {
      filename: 'notes.txt',
      contentType: 'text/plain',
    });
    assert.equal(media.status, 'ready');
    assert.equal(await outcome(bo!.media(media.id)), '404 not_found', 'not yet sent anywhere');
    await ana!.sendMessage(group.id, 'a-1', 'notes', { attachments: [{ mediaId: media.id }] });
    const seen = await bo!.media(media.id);
    assert.equal((await download(seen.url)).bytes.toString(), 'minutes of the meeting\n');
    for (const who of [outsider!, stranger!])
      assert.equal(await outcome(who.media(media.id)), '404 not_found');
    await ana!.removeMember(group.id, bo!.user.id);
    assert.equal(await outcome(bo!.media(media.id)), '404 not_found', 'a removed member loses access');
    // deleting the message detaches the file: members no longer reach it
    const [cy] = await registerUsers(platform, 1, 'access');
    await ana!.addMembers(group.id, [cy!.user.id]);
    assert.equal((await cy!.media(media.id)).id, media.id);
    await ana!.deleteMessage(group.id, 1);
    assert.equal(await outcome(cy!.media(media.id)), '404 not_found');
    assert.equal((await ana!.media(media.id)).id, media.id, 'the uploader still has it');

    await new Promise((r) => setTimeout(r, (URL_TTL_SECONDS + 1) * 1000));
    assert.equal((await download(seen.url)).status, 403, 'the store refuses an expired URL');
  });

  it('bad input: size mismatch, a program posing as a photo, someone else’s upload, pending or foreign attachments, over quota', async () => {
    const [ana, bo] = await registerUsers(platform, 2, 'badmedia');
    const group = await ana!.createConversation('group', [bo!.user.id], 'bad');
    const start = (c: ImClient, filename: string, contentType: string, size: number) =>
      c.call<{ mediaId: string; upload: { url: string; headers: Record<string, string> } }>(
        'POST',
        '/v1/media/uploads',
        {
          filename,
          contentType,
          size,
        },
      );
    const put = (u: { url: string; headers: Record<string, string> }, bytes: Buffer) =>
      fetch(u.url, { method: 'PUT', body: bytes, headers: u.headers });

    const short = await start(ana!, 'a.txt', 'text/plain', 100);
    await put(short.upload, Buffer.from('only fifty bytes '.repeat(3).slice(0, 50)));
    assert.equal(
      await outcome(ana!.call('POST', `/v1/media/${short.mediaId}/complete`, {})),
      '400 invalid_argument',
    );

    const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(4096, 1)]);
    const fake = await start(ana!, 'cat.jpg', 'image/jpeg', elf.length);
    await put(fake.upload, elf);
    assert.equal(
      await outcome(ana!.call('POST', `/v1/media/${fake.mediaId}/complete`, {})),
      '400 invalid_argument',
    );
    assert.equal(await outcome(bo!.call('POST', `/v1/media/${fake.mediaId}/complete`, {})), '404 not_found');

    for (const body of [
      { filename: '', contentType: 'text/plain', size: 1 },
      { filename: 'a', contentType: 'nope', size: 1 },
      { filename: 'a', contentType: 'text/plain', size: 0 },
      { filename: 'a/b', contentType: 'text/plain', size: 1 },
    ])
      assert.equal(
        await outcome(ana!.call('POST', '/v1/media/uploads', body)),
        '400 invalid_argument',
        JSON.stringify(body),
      );
    assert.equal(
      await outcome(
        ana!.call('POST', '/v1/media/uploads', {
          filename: 'big',
          contentType: 'video/mp4',
          size: 101 * MiB,
        }),
      ),
      '400 invalid_argument',
    );

    // the upload URL still works after complete, but what was checked is what members get
    const good = Buffer.from('checked text\n');
    const swap = await start(ana!, 'swap.txt', 'text/plain', good.length);
    await put(swap.upload, good);
    const checked = (await ana!.call<{ media: Media }>('POST', `/v1/media/${swap.mediaId}/complete`, {}))
      .media;
    assert.equal((await put(swap.upload, elf)).status, 200);
    assert.ok((await download((await ana!.media(checked.id)).url)).bytes.equals(good), 'the checked bytes');

    const pending = await start(ana!, 'later.txt', 'text/plain', 5);
    const bosOwn = await bo!.upload(Buffer.from('bo’s\n'), { filename: 'b.txt', contentType: 'text/plain' });
    const lastSeq = (await ana!.getConversation(group.id)).lastSeq;
    for (const mediaId of [pending.mediaId, bosOwn.id, 'no-such-media'])
      assert.equal(
        await outcome(ana!.sendMessage(group.id, `bad-${mediaId}`, 'x', { attachments: [{ mediaId }] })),
        '400 invalid_argument',
        mediaId,
      );
    assert.equal((await ana!.getConversation(group.id)).lastSeq, lastSeq, 'nothing stored');

    const [fresh] = await registerUsers(platform, 1, 'quota', `media-quota-${Date.now()}`);
    assert.equal(await outcome(start(fresh!, 'huge.mp4', 'video/mp4', QUOTA + 1)), '409 limit_exceeded');
    assert.equal(await outcome(start(fresh!, 'fits.mp4', 'video/mp4', QUOTA)), 'ok');
    // two uploads that each fit when started: the second to complete would pass the quota
    const half = Buffer.alloc(QUOTA / 2 + 1, 'a');
    const second = await start(fresh!, 'second.txt', 'text/plain', half.length);
    await fresh!.upload(half, { filename: 'first.txt', contentType: 'text/plain' });
    assert.equal(
      await outcome(fresh!.call('POST', `/v1/media/${second.mediaId}/complete`, {})),
      '409 limit_exceeded',
    );
    assert.equal(
      (await fresh!.media(second.mediaId)).status,
      'pending',
      'left pending, as if never completed',
    );
  });

  it('a tenant that takes only PDFs refuses a photo at complete; other tenants are unaffected', async () => {
    const [strict] = await registerUsers(platform, 1, 'pdfonly', `pdf-only-${Date.now()}`);
    const [other] = await registerUsers(platform, 1, 'anytype');
    await platform.restartService('media', {
      MEDIA_URL_TTL_SECONDS: String(URL_TTL_SECONDS),
      MEDIA_TENANT_QUOTA_BYTES: String(QUOTA),
      MEDIA_ALLOWED_TYPES_BY_TENANT: `${strict!.user.tenantId}=application/pdf`,
    });
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } })
      .png()
      .toBuffer();
    // the gateway reconnects to the restarted media service within a few seconds
    await eventually(
      async () =>
        assert.equal(
          await outcome(strict!.upload(png, { filename: 'p.png', contentType: 'image/png' })),
          '400 invalid_argument',
        ),
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');
    assert.equal(
      (await strict!.upload(pdf, { filename: 'd.pdf', contentType: 'application/pdf' })).contentType,
      'application/pdf',
    );
    assert.equal(
      (await other!.upload(png, { filename: 'p.png', contentType: 'image/png' })).contentType,
      'image/png',
    );
  });
});
