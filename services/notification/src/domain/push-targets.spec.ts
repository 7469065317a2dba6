import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkTarget, isPublicAddress, TargetRejected } from './push-targets.js';

const keys = {
  p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 7)]).toString('base64url'),
  auth: Buffer.alloc(16, 1).toString('base64url'),
};
const sub = (endpoint: string) => ({ endpoint, ...keys });
const refused = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof TargetRejected && pattern.test(e.message));

describe('push targets', () => {
  it('accepts APNs and FCM tokens of the right shape', () => {
    assert.deepEqual(checkTarget('apns', 'AB'.repeat(32), undefined, false), {
      platform: 'apns',
      token: 'ab'.repeat(32),
    });
    assert.equal(checkTarget('fcm', 'fGx:APA91b' + 'x'.repeat(100), undefined, false).platform, 'fcm');
    refused(() => checkTarget('apns', 'not-hex', undefined, false), /APNs/);
    refused(() => checkTarget('fcm', 'short', undefined, false), /FCM/);
    refused(() => checkTarget('sms', 'x', undefined, false), /platform/);
  });

  it('Web Push: https to a public host, with real keys', () => {
    assert.equal(
      checkTarget('webpush', '', sub('https://fcm.googleapis.com/fcm/send/abc'), false).platform,
      'webpush',
    );
    refused(() => checkTarget('webpush', '', sub('http://push.example.com/x'), false), /https/);
    refused(() => checkTarget('webpush', '', sub('ftp://push.example.com/x'), false), /https/);
    refused(() => checkTarget('webpush', '', sub('not a url'), false), /URL/);
    refused(
      () => checkTarget('webpush', '', { ...sub('https://push.example.com/x'), auth: 'AAAA' }, false),
      /auth/,
    );
    refused(
      () => checkTarget('webpush', '', { ...sub('https://push.example.com/x'), p256dh: keys.auth }, false),
      /p256dh/,
    );
    refused(() => checkTarget('webpush', '', undefined, false), /required/);
  });

  it('Web Push endpoints never point inside the network (SSRF)', () => {
    for (const host of [
      '10.0.0.5',
      '192.168.1.1',
      '169.254.169.254',
      '[::1]',
      '127.0.0.1',
      '[fd00::1]',
      '0.0.0.0',
      '[::ffff:10.0.0.1]',
    ])
      refused(() => checkTarget('webpush', '', sub(`https://${host}/push`), false), /private|reserved/);
    refused(
      () => checkTarget('webpush', '', sub('https://user:pw@push.example.com/x'), false),
      /credentials/,
    );
  });

  it('http to loopback only when allowed (local development)', () => {
    refused(() => checkTarget('webpush', '', sub('http://127.0.0.1:9999/push'), false), /https/);
    assert.equal(checkTarget('webpush', '', sub('http://127.0.0.1:9999/push'), true).platform, 'webpush');
    assert.equal(checkTarget('webpush', '', sub('http://localhost:9999/push'), true).platform, 'webpush');
    refused(() => checkTarget('webpush', '', sub('http://10.1.2.3:9999/push'), true), /https/);
  });

  it('classifies addresses', () => {
    assert.equal(isPublicAddress('8.8.8.8'), true);
    assert.equal(isPublicAddress('2606:4700::1111'), true);
    assert.equal(isPublicAddress('100.64.0.1'), false, 'carrier-grade NAT');
    assert.equal(isPublicAddress('fe80::1'), false);
  });
});
