import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '@im/platform/errors';
import {
  allowedTypesOf,
  decideContentType,
  isAllowed,
  isProcessableImage,
  planUpload,
  thumbnailSize,
  validateUpload,
} from './media-rules.js';

const MiB = 1024 * 1024;
const code = (f: () => unknown) => {
  try {
    f();
    return 'ok';
  } catch (err) {
    return err instanceof AppError ? err.code : String(err);
  }
};
const allowed = ['image/jpeg', 'image/png', 'application/pdf', 'text/plain', 'video/*'];

describe('media rules', () => {
  it('refuses bad names, types and sizes, and files over the limit', () => {
    const ok = { filename: 'a.jpg', contentType: 'image/jpeg', size: 10 };
    assert.equal(
      code(() => validateUpload(ok, 100)),
      'ok',
    );
    for (const bad of [
      { ...ok, filename: ' ' },
      { ...ok, filename: 'a/b.jpg' },
      { ...ok, filename: 'a\u0000.jpg' },
      { ...ok, filename: 'x'.repeat(256) },
      { ...ok, contentType: 'jpeg' },
      { ...ok, size: 0 },
      { ...ok, size: 1.5 },
      { ...ok, size: 101 },
    ])
      assert.equal(
        code(() => validateUpload(bad, 100)),
        'invalid_argument',
        JSON.stringify(bad),
      );
  });

  it('one PUT up to the part size, parts above it', () => {
    assert.deepEqual(planUpload(8 * MiB, 8 * MiB), { kind: 'single' });
    assert.deepEqual(planUpload(30 * MiB, 8 * MiB), { kind: 'multipart', partSize: 8 * MiB, parts: 4 });
    assert.equal(
      code(() => planUpload(10_001 * 5 * MiB, 5 * MiB)),
      'invalid_argument',
    );
  });

  it('takes the sniffed type: allowed, and what the file claims to be', () => {
    const head = new Uint8Array([1, 2, 3]);
    assert.equal(decideContentType('image/jpeg', 'image/jpeg', head, allowed), 'image/jpeg');
    assert.equal(decideContentType('image/jpeg', 'image/png', head, allowed), 'image/png', 'same family');
    assert.equal(
      decideContentType('application/octet-stream', 'application/pdf', head, allowed),
      'application/pdf',
    );
    assert.equal(decideContentType('video/mp4', 'video/webm', head, allowed), 'video/webm', 'a family entry');
    const refused = (declared: string, sniffed: string | undefined, bytes = head) =>
      code(() => decideContentType(declared, sniffed, bytes, allowed));
    assert.equal(
      refused('image/jpeg', 'application/x-elf'),
      'invalid_argument',
      'a program posing as a photo',
    );
    assert.equal(refused('application/pdf', 'image/png'), 'invalid_argument', 'not what it claims');
    assert.equal(refused('image/jpeg', undefined), 'invalid_argument', 'no signature');
    assert.equal(
      decideContentType('text/plain', undefined, new TextEncoder().encode('hello'), allowed),
      'text/plain',
    );
    assert.equal(
      refused('text/plain', undefined, new Uint8Array([104, 0, 105])),
      'invalid_argument',
      'binary',
    );
  });

  it('knows which images it decodes (not HEIC) and sizes thumbnails without enlarging', () => {
    assert.ok(isProcessableImage('image/jpeg') && !isProcessableImage('image/heic'));
    assert.ok(isAllowed('video/mp4', allowed) && !isAllowed('audio/mpeg', allowed));
    assert.deepEqual(thumbnailSize(320, 200, 160), { width: 160, height: 100 });
    assert.deepEqual(thumbnailSize(100, 50, 160), { width: 100, height: 50 });
  });
});

describe('allowedTypesOf', () => {
  it("takes the tenant's own list, else the platform's", () => {
    const byTenant = 'acme=image/*|application/pdf;globex=text/plain';
    assert.deepEqual(allowedTypesOf('acme', byTenant, ['x/y']), ['image/*', 'application/pdf']);
    assert.deepEqual(allowedTypesOf('globex', byTenant, ['x/y']), ['text/plain']);
    assert.deepEqual(allowedTypesOf('initech', byTenant, ['x/y']), ['x/y']);
    assert.deepEqual(allowedTypesOf('acme', undefined, ['x/y']), ['x/y']);
  });
});
