import type { ImClient, Media } from '@im/sdk';

/** Media by id with fresh short-lived URLs: fetched once, again when their URLs are about to expire. */
export class MediaCache {
  private readonly held = new Map<string, Promise<Media>>();

  constructor(private readonly client: ImClient) {}

  get(mediaId: string): Promise<Media> {
    const cached = this.held.get(mediaId);
    if (cached) return cached;
    const loading = this.client.media(mediaId).then((media) => {
      const expires = Date.parse(media.urlExpiresAt ?? '') || Date.now() + 60_000;
      // still processing (no thumbnails yet), or URLs about to lapse: ask again next time
      const keepFor = media.status === 'ready' ? Math.max(0, expires - Date.now() - 30_000) : 2_000;
      setTimeout(() => this.held.delete(mediaId), keepFor);
      return media;
    });
    loading.catch(() => this.held.delete(mediaId));
    this.held.set(mediaId, loading);
    return loading;
  }
}
