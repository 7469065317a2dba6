import { fileURLToPath } from 'node:url';
import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from '@im/platform/logging';
import { PlatformModule } from '@im/platform/nest';
import { MediaGrpcApi } from './api/media.grpc.js';
import { MessageClient } from './clients/message.client.js';
import type { MediaConfig } from './config.js';
import { MalwareScanner } from './processing/malware-scanner.js';
import { MediaJobs } from './processing/media-jobs.js';
import { MediaProcessor } from './processing/media-processor.js';
import { MediaTable } from './storage/media.table.js';
import { ObjectStore } from './storage/object-store.js';
import { MediaUploads } from './uploads/media-uploads.js';
import { UploadSweeper } from './uploads/upload-sweeper.js';

const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

@Module({})
export class MediaModule {
  static forRoot(config: MediaConfig, logger: Logger): DynamicModule {
    return {
      module: MediaModule,
      imports: [
        PlatformModule.forRoot({
          service: 'media',
          config,
          logger,
          cassandra: { migrationsDir: MIGRATIONS },
          kafka: {
            producer: true,
            topics: (registry) => [
              {
                topic: registry.topics.mediaJobs,
                numPartitions: config.KAFKA_TOPIC_PARTITIONS,
                replicationFactor: config.KAFKA_TOPIC_REPLICATION,
              },
            ],
          },
        }),
      ],
      providers: [
        MediaTable,
        ObjectStore,
        MessageClient,
        MediaJobs,
        MalwareScanner,
        MediaUploads,
        MediaProcessor,
        UploadSweeper,
        MediaGrpcApi,
      ],
    };
  }
}
