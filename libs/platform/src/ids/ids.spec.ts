import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUuid, nameUuid, uuidv7 } from './index.js';

describe('uuidv7', () => {
  it('is a valid version-7 UUID carrying its millisecond timestamp', () => {
    const id = uuidv7(1_700_000_000_123);
    assert.ok(isUuid(id), id);
    assert.equal(id[14], '7');
    assert.equal(parseInt(id.replaceAll('-', '').slice(0, 12), 16), 1_700_000_000_123);
  });

  it('sorts in creation order, also within one millisecond', () => {
    const ids = Array.from({ length: 500 }, () => uuidv7(1_700_000_000_000));
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('rejects non-UUID strings', () => {
    assert.equal(isUuid('not-a-uuid'), false);
    assert.equal(isUuid(''), false);
  });
});

describe('nameUuid', () => {
  it('gives the same version-5 UUID for the same name and different ones for different names', () => {
    const a = nameUuid('conv-1/7/created');
    assert.ok(isUuid(a), a);
    assert.equal(a[14], '5');
    assert.equal(nameUuid('conv-1/7/created'), a);
    assert.notEqual(nameUuid('conv-1/8/created'), a);
  });
});
