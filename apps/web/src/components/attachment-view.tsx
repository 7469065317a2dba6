import type { Attachment, Media } from '@im/sdk';
import { useEffect, useState } from 'preact/hooks';
import type { MediaCache } from '../media-cache.js';

/** An image as its thumbnail (the original opens in a new tab); other files as a download link. */
export function AttachmentView({ attachment, media }: { attachment: Attachment; media: MediaCache }) {
  const [loaded, setLoaded] = useState<Media | undefined>();
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let alive = true;
    const load = () =>
      media.get(attachment.mediaId).then(
        (m) => {
          if (!alive) return;
          setLoaded(m);
          if (m.status !== 'ready') setTimeout(load, 1_000); // thumbnails are being made
        },
        () => alive && setFailed(true),
      );
    void load();
    return () => {
      alive = false;
    };
  }, [attachment.mediaId]);

  const name = attachment.filename || attachment.name;
  if (failed) return <span class="file">{name} (unavailable)</span>;
  if (!loaded || !loaded.url) return <span class="file">{name}…</span>;
  const thumb = loaded.thumbnails?.[0];
  if (loaded.contentType.startsWith('image/') && thumb)
    return (
      <a href={loaded.url} target="_blank" rel="noreferrer" class="image" data-testid="attachment-image">
        <img src={thumb.url} width={thumb.width} height={thumb.height} alt={name} />
      </a>
    );
  return (
    <a href={loaded.url} target="_blank" rel="noreferrer" class="file" data-testid="attachment-file">
      {name} ({Math.ceil(loaded.size / 1024)} KiB)
    </a>
  );
}
