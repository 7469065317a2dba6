import type { Readable } from 'node:stream';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { CONFIG, REGISTRY } from '@im/platform/nest';
import type { Registry } from '@im/platform/registry';
import type { MediaConfig } from '../config.js';

export interface StoredPart {
  partNumber: number;
  etag: string;
}

/**
 * The media bucket over plain S3 (path-style): versitygw here, SeaweedFS, Ceph RGW or a cloud
 * bucket elsewhere, by configuration only. Bytes go between clients and the store through signed
 * URLs; the service itself reads an object only to check or process it.
 */
@Injectable()
export class ObjectStore implements OnModuleInit {
  readonly bucket: string;
  private readonly s3: S3Client;
  /** Signs URLs for clients (S3_PUBLIC_ENDPOINT when they reach the store by another address). */
  private readonly signer: S3Client;

  constructor(
    @Inject(CONFIG) private readonly config: MediaConfig,
    @Inject(REGISTRY) registry: Registry,
  ) {
    this.bucket = registry.prefix ? `${registry.prefix}-${config.S3_BUCKET}` : config.S3_BUCKET;
    const client = (endpoint: string) =>
      new S3Client({
        endpoint,
        region: config.S3_REGION,
        forcePathStyle: true,
        credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY },
        // the store is not AWS: no checksum headers that a presigned PUT from a browser cannot send
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
    this.s3 = client(config.S3_ENDPOINT);
    this.signer = config.S3_PUBLIC_ENDPOINT ? client(config.S3_PUBLIC_ENDPOINT) : this.s3;
  }

  async onModuleInit(): Promise<void> {
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch {
      await this.s3.send(new CreateBucketCommand({ Bucket: this.bucket })).catch((err: { name?: string }) => {
        if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists') throw err;
      });
    }
    const origins = this.config.S3_CORS_ALLOWED_ORIGINS?.split(',')
      .map((o) => o.trim())
      .filter(Boolean);
    if (origins?.length) await this.allowBrowsers(origins);
  }

  /**
   * Browsers PUT parts and GET files straight from the store, so it must answer their CORS
   * preflights; the multipart helper reads each part's ETag, so that header is exposed. Signed URLs
   * are the credential: no cookies are involved.
   */
  private async allowBrowsers(origins: string[]): Promise<void> {
    await this.s3.send(
      new PutBucketCorsCommand({
        Bucket: this.bucket,
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: origins,
              AllowedMethods: ['GET', 'HEAD', 'PUT'],
              AllowedHeaders: ['*'],
              ExposeHeaders: ['ETag'],
              MaxAgeSeconds: 3_600,
            },
          ],
        },
      }),
    );
  }

  private get ttl(): number {
    return this.config.MEDIA_URL_TTL_SECONDS;
  }

  signPut(key: string, contentType: string): Promise<string> {
    return getSignedUrl(
      this.signer,
      new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentType: contentType }),
      {
        expiresIn: this.ttl,
      },
    );
  }

  signGet(key: string, filename: string, contentType: string): Promise<string> {
    return getSignedUrl(
      this.signer,
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: key,
        ResponseContentType: contentType,
        ResponseContentDisposition: `inline; filename*=UTF-8''${encodeURIComponent(filename)}`,
      }),
      { expiresIn: this.ttl },
    );
  }

  async createMultipart(key: string, contentType: string): Promise<string> {
    const res = await this.s3.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: contentType }),
    );
    return res.UploadId!;
  }

  signPart(key: string, uploadId: string, partNumber: number): Promise<string> {
    return getSignedUrl(
      this.signer,
      new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber }),
      { expiresIn: this.ttl },
    );
  }

  async listParts(key: string, uploadId: string): Promise<StoredPart[]> {
    const out: StoredPart[] = [];
    let marker: string | undefined;
    for (;;) {
      const res = await this.s3.send(
        new ListPartsCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }),
      );
      for (const p of res.Parts ?? []) out.push({ partNumber: p.PartNumber!, etag: p.ETag! });
      if (!res.IsTruncated) return out;
      marker = res.NextPartNumberMarker;
    }
  }

  async completeMultipart(key: string, uploadId: string, parts: readonly StoredPart[]): Promise<void> {
    await this.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
      }),
    );
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    await this.s3.send(
      new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }),
    );
  }

  /** The object's size, or undefined when there is none. */
  async size(key: string): Promise<number | undefined> {
    try {
      return (await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }))).ContentLength;
    } catch (err) {
      if ((err as { name?: string }).name === 'NotFound') return undefined;
      throw err;
    }
  }

  /** The first `bytes` bytes (for sniffing the type). */
  async head(key: string, bytes: number): Promise<Uint8Array> {
    const res = await this.s3.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=0-${bytes - 1}` }),
    );
    return res.Body!.transformToByteArray();
  }

  async get(key: string): Promise<Buffer> {
    const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return Buffer.from(await res.Body!.transformToByteArray());
  }

  async stream(key: string): Promise<Readable> {
    const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return res.Body as Readable;
  }

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }),
    );
  }

  /** Server-side copy (the bytes stay in the store). */
  async copy(from: string, to: string, contentType: string): Promise<void> {
    await this.s3.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key: to,
        CopySource: `${this.bucket}/${from.split('/').map(encodeURIComponent).join('/')}`,
        ContentType: contentType,
        MetadataDirective: 'REPLACE',
      }),
    );
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}

/**
 * Where a media's objects live. Clients upload to `upload` (their signed URLs name it); complete
 * checks it and copies it to `original`, which no client URL can write: bytes PUT after the
 * checks never reach what members download.
 */
export const objectKeys = {
  upload: (tenantId: string, mediaId: string) => `${tenantId}/${mediaId}/upload`,
  original: (tenantId: string, mediaId: string) => `${tenantId}/${mediaId}/file`,
  thumbnail: (tenantId: string, mediaId: string, width: number) =>
    `${tenantId}/${mediaId}/thumb-${width}.webp`,
};
