import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import exifBeGone from 'exif-be-gone';
import sharp from 'sharp';
import { thumbnailSize } from '../domain/media-rules.js';

export interface ProcessedImage {
  /** The file without EXIF/XMP metadata (location included); same pixels. */
  file: Buffer;
  width: number;
  height: number;
  thumbnails: Array<{ width: number; height: number; webp: Buffer }>;
}

// a CommonJS module whose types say `export default` while it sets module.exports itself
type Scrubber = typeof exifBeGone.default;
const Scrubber: Scrubber =
  (exifBeGone as unknown as { default?: Scrubber }).default ?? (exifBeGone as unknown as Scrubber);

/**
 * Removes an image's metadata (EXIF, XMP: the location with them) and makes WebP thumbnails. An
 * upright image keeps its pixels exactly (the metadata segments are cut out, nothing is re-encoded);
 * one that EXIF says to rotate is rotated and re-encoded, since without EXIF it would show sideways.
 * Throws on a file libvips cannot decode; the caller keeps it as a plain file.
 */
export async function processImage(original: Buffer, widths: readonly number[]): Promise<ProcessedImage> {
  const meta = await sharp(original, { failOn: 'error' }).metadata();
  if (!meta.width || !meta.height) throw new Error('no dimensions');
  const rotated = (meta.orientation ?? 1) > 1;
  // sharp writes no metadata unless asked to: the rotated copy has none
  const file = rotated
    ? await sharp(original, { failOn: 'error' }).rotate().toBuffer()
    : await buffer(Readable.from([original]).pipe(new Scrubber()));
  const { width, height } = rotated
    ? await sharp(file).metadata()
    : { width: meta.width, height: meta.height };
  const sizes = [...new Set(widths.map((w) => thumbnailSize(width!, height!, w).width))];
  const thumbnails = await Promise.all(
    sizes.map(async (w) => {
      const { data, info } = await sharp(file, { failOn: 'error' })
        .resize({ width: w, withoutEnlargement: true })
        .webp({ quality: 80 })
        .toBuffer({ resolveWithObject: true });
      return { width: info.width, height: info.height, webp: data };
    }),
  );
  return { file, width: width!, height: height!, thumbnails };
}
