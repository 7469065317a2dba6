import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { Clamd, EICAR, eventually, Platform, sleep } from '@im/testing';
import { objectsOf } from './support/media-objects.js';
import { outcome } from './support/outcome.js';
import { registerUsers } from './support/users.js';

// The malware-scanner hook against a real ClamAV daemon (Debian's clamav-daemon, with a local
// signature for the EICAR test file: the official databases are not reachable from here).
describe('media: malware scanning with ClamAV (clamd)', () => {
  let clamd: Clamd;
  let platform: Platform;

  before(async () => {
    clamd = await Clamd.start({ streamMaxLength: '1M' });
    platform = await Platform.start({
      shared: true,
      env: { media: { MEDIA_SCANNER_CLAMD_ADDR: clamd.address } },
    });
  });
  after(async () => {
    await platform?.stop();
    await clamd?.stop();
  });

  it('an infected file is rejected, its bytes deleted, it cannot be sent; clean files and photos pass', async () => {
    const [ana, bo] = await registerUsers(platform, 2, 'scan');
    const group = await ana!.createConversation('group', [bo!.user.id], 'scanned');

    const infected = await ana!.upload(EICAR, { filename: 'notes.txt', contentType: 'text/plain' });
    assert.equal(infected.status, 'processing', 'scanned before it is ready');
    await eventually(async () => assert.equal((await ana!.media(infected.id)).status, 'rejected'), {
      what: 'the infected upload rejected',
      timeoutMs: 30_000,
    });
    assert.equal((await ana!.media(infected.id)).url, '', 'no download URL');
    assert.deepEqual(await objectsOf(platform, ana!.user.tenantId, infected.id), [], 'its bytes are gone');
    await assert.rejects(ana!.waitUntilReady(infected.id), /rejected by the malware scanner/);
    assert.equal(
      await outcome(ana!.sendMessage(group.id, 'scan-1', 'see', { attachments: [{ mediaId: infected.id }] })),
      '400 invalid_argument',
    );
    assert.equal(await outcome(bo!.media(infected.id)), '404 not_found');

    const clean = await ana!.upload(Buffer.from('minutes of the meeting\n'), {
      filename: 'minutes.txt',
      contentType: 'text/plain',
    });
    const photo = await ana!.upload(
      await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3a6' } })
        .jpeg()
        .toBuffer(),
      { filename: 'leaf.jpg', contentType: 'image/jpeg' },
    );
    const [cleanReady, photoReady] = await Promise.all([
      ana!.waitUntilReady(clean.id),
      ana!.waitUntilReady(photo.id),
    ]);
    assert.ok(photoReady.thumbnails.length > 0, 'a scanned photo still gets its thumbnails');
    const sent = await ana!.sendMessage(group.id, 'scan-2', 'both', {
      attachments: [{ mediaId: cleanReady.id }, { mediaId: photoReady.id }],
    });
    assert.equal(sent.attachments.length, 2);
    const fetched = await fetch((await bo!.media(cleanReady.id)).url);
    assert.equal(await fetched.text(), 'minutes of the meeting\n');
  });

  it('a file larger than the scanner takes is rejected, never let through unscanned', async () => {
    const [ana] = await registerUsers(platform, 1, 'scanbig');
    const big = await ana!.upload(Buffer.alloc(2 * 1024 * 1024, 'b'), {
      filename: 'big.txt',
      contentType: 'text/plain',
    });
    await eventually(async () => assert.equal((await ana!.media(big.id)).status, 'rejected'), {
      what: 'the unscannable upload rejected',
      timeoutMs: 30_000,
    });
    assert.deepEqual(await objectsOf(platform, ana!.user.tenantId, big.id), []);
  });

  it('while the scanner is down uploads wait in processing (never unscanned), then pass once it is back', async () => {
    const [ana] = await registerUsers(platform, 1, 'scandown');
    await clamd.halt();
    let upload;
    try {
      upload = await ana!.upload(Buffer.from('written while the scanner was away\n'), {
        filename: 'later.txt',
        contentType: 'text/plain',
      });
      await sleep(3_000);
      const waiting = await ana!.media(upload.id);
      assert.equal(waiting.status, 'processing');
      assert.equal(waiting.url, '');
    } finally {
      await clamd.resume();
    }
    const ready = await ana!.waitUntilReady(upload.id, 90_000);
    assert.equal(await (await fetch(ready.url)).text(), 'written while the scanner was away\n');
  });
});
