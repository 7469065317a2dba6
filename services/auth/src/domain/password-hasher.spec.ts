import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PasswordHasher } from './password-hasher.js';

describe('PasswordHasher (argon2id)', () => {
  const hasher = new PasswordHasher({ memoryKiB: 8_192, passes: 1 });

  it('produces a salted PHC string that verifies only the same password', async () => {
    const a = await hasher.hash('correct horse battery');
    const b = await hasher.hash('correct horse battery');
    assert.match(a, /^\$argon2id\$v=19\$m=8192,t=1,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    assert.notEqual(a, b, 'a new salt every time');
    assert.equal(await hasher.verify('correct horse battery', a), true);
    assert.equal(await hasher.verify('correct horse batterY', a), false);
  });

  it('verifies with the parameters stored in the hash', async () => {
    const old = await new PasswordHasher({ memoryKiB: 4_096, passes: 3 }).hash('pw-12345');
    assert.equal(await hasher.verify('pw-12345', old), true);
  });

  it('rejects malformed hashes', async () => {
    assert.equal(await hasher.verify('x', 'not-a-hash'), false);
    assert.equal(await hasher.verify('x', '$argon2i$v=19$m=1,t=1,p=1$aa$bb'), false);
  });
});
