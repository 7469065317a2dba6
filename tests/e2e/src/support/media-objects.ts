import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { Platform } from '@im/testing';

/** The object keys under a media's prefix in the run's bucket (S3_* of the run's environment). */
export async function objectsOf(platform: Platform, tenantId: string, mediaId: string): Promise<string[]> {
  const s3 = new S3Client({
    endpoint: process.env.S3_ENDPOINT!,
    region: process.env.S3_REGION ?? 'us-east-1',
    forcePathStyle: true,
    credentials: {
      accessKeyId: process.env.S3_ACCESS_KEY_ID!,
      secretAccessKey: process.env.S3_SECRET_ACCESS_KEY!,
    },
  });
  const res = await s3.send(
    new ListObjectsV2Command({ Bucket: `${platform.prefix}-im-media`, Prefix: `${tenantId}/${mediaId}/` }),
  );
  s3.destroy();
  return (res.Contents ?? []).map((o) => o.Key!.slice(`${tenantId}/${mediaId}/`.length)).sort();
}
