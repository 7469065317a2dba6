import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const PREFIX = 'enc:v1:';

/** AES-256-GCM for private signing keys at rest. Without a key, values are stored as they are. */
export class KeyEncryption {
  private readonly key: Buffer | undefined;

  constructor(base64urlKey: string | undefined) {
    this.key = base64urlKey ? Buffer.from(base64urlKey, 'base64url') : undefined;
    if (this.key && this.key.length !== 32)
      throw new Error('AUTH_KEY_ENCRYPTION_KEY must decode to 32 bytes');
  }

  get enabled(): boolean {
    return this.key !== undefined;
  }

  seal(plaintext: string): string {
    if (!this.key) return plaintext;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${PREFIX}${iv.toString('base64url')}.${ct.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
  }

  open(stored: string): string {
    if (!stored.startsWith(PREFIX)) return stored;
    if (!this.key) throw new Error('a signing key is encrypted but AUTH_KEY_ENCRYPTION_KEY is not set');
    const [iv, ct, tag] = stored.slice(PREFIX.length).split('.');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv!, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag!, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct!, 'base64url')), decipher.final()]).toString('utf8');
  }
}
