import { Injectable } from '@nestjs/common';
import { bindService, requireCaller as caller, type ServiceBinding } from '@im/platform/grpc';
import { MediaServiceService } from '@im/proto/media/v1';
import { MediaUploads } from '../uploads/media-uploads.js';

/** im.media.v1.MediaService: unpack, check the caller, call the domain. */
@Injectable()
export class MediaGrpcApi {
  constructor(private readonly uploads: MediaUploads) {}

  binding(): ServiceBinding {
    return bindService('im.media.v1.MediaService', MediaServiceService, {
      createUpload: async (r) => {
        const created = await this.uploads.create(caller(r.caller), {
          filename: r.name,
          contentType: r.contentType,
          size: r.size,
        });
        return { ...created, ...(created.multipart ? { multipart: created.multipart } : {}) };
      },
      completeUpload: async (r) => ({
        media: await this.uploads.complete(caller(r.caller), r.mediaId, r.parts),
        attachment: undefined,
      }),
      getAttachments: async (r) => ({
        attachments: await this.uploads.attachments(caller(r.caller), r.mediaIds),
      }),
      getDownloadUrl: async (r) => {
        const media = await this.uploads.get(caller(r.caller), r.mediaId);
        const url = r.thumbnail ? (media.thumbnails[0]?.url ?? media.url) : media.url;
        return { url, expiresAt: media.urlExpiresAt };
      },
      getMedia: async (r) => ({ media: await this.uploads.get(caller(r.caller), r.mediaId) }),
      getUploadParts: (r) => this.uploads.parts(caller(r.caller), r.mediaId),
    });
  }
}
