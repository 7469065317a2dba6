import { fileURLToPath } from 'node:url';
import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from '@im/platform/logging';
import { PlatformModule } from '@im/platform/nest';
import type { MessageConfig } from './config.js';

const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

@Module({})
export class MessageModule {
  static forRoot(config: MessageConfig, logger: Logger): DynamicModule {
    return {
      module: MessageModule,
      imports: [
        PlatformModule.forRoot({
          service: 'message',
          config,
          logger,
          cassandra: { migrationsDir: MIGRATIONS },
          nats: true,
          kafka: {
            producer: true,
            topics: (registry) => [
              {
                topic: registry.topics.conversationCommands,
                numPartitions: config.KAFKA_TOPIC_PARTITIONS,
                replicationFactor: config.KAFKA_TOPIC_REPLICATION,
              },
              {
                topic: registry.topics.conversationEvents,
                numPartitions: config.KAFKA_TOPIC_PARTITIONS,
                replicationFactor: config.KAFKA_TOPIC_REPLICATION,
              },
            ],
          },
        }),
      ],
    };
  }
}
