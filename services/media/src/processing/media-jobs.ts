import { Inject, Injectable } from '@nestjs/common';
import type { BatchingProducer } from '@im/platform/kafka';
import { PRODUCER, REGISTRY } from '@im/platform/nest';
import type { Registry } from '@im/platform/registry';
import { MediaCompleted } from '@im/proto/events/v1';

/** Completed uploads to im.media.v1 (key = media id) for the processors. */
@Injectable()
export class MediaJobs {
  constructor(
    @Inject(PRODUCER) private readonly producer: BatchingProducer,
    @Inject(REGISTRY) private readonly registry: Registry,
  ) {}

  submit(job: MediaCompleted): Promise<void> {
    return this.producer.sendMany(
      [
        {
          topic: this.registry.topics.mediaJobs,
          key: job.mediaId,
          value: Buffer.from(MediaCompleted.encode(job).finish()),
        },
      ],
      { waitForRoom: true },
    );
  }
}
