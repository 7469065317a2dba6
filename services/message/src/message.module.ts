import { InvitationsService } from './conversations/invitations.service.js';
import { InvitationsTable } from './storage/invitations.table.js';
import { MemberDirectory } from './conversations/member-directory.js';
import { fileURLToPath } from 'node:url';
import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from '@im/platform/logging';
import { PlatformModule } from '@im/platform/nest';
import { MessageGrpcApi } from './api/message.grpc.js';
import { AuthClient } from './clients/auth.client.js';
import { MediaClient } from './clients/media.client.js';
import type { MessageConfig } from './config.js';
import { ConversationService } from './conversations/conversation.service.js';
import { ConversationSets } from './conversations/conversation-sets.js';
import { MembershipCache } from './conversations/membership-cache.js';
import { HistoryService } from './history/history.service.js';
import { ConversationEvents } from './producers/conversation-events.js';
import { LivePublisher } from './producers/live-publisher.js';
import { CommandBus } from './sending/command-bus.js';
import { MessageCommands } from './sending/message-commands.js';
import { MembershipCommands } from './sending/membership-commands.js';
import { CommandHandlers } from './sequencer/command-handlers.js';
import { DeleteMessageHandler } from './sequencer/handlers/delete-message.handler.js';
import { EditMessageHandler } from './sequencer/handlers/edit-message.handler.js';
import { MarkReadHandler } from './sequencer/handlers/mark-read.handler.js';
import { PinHandler } from './sequencer/handlers/pin.handler.js';
import { UpdateConversationHandler } from './sequencer/handlers/update-conversation.handler.js';
import { ChangeMembersHandler } from './sequencer/handlers/change-members.handler.js';
import { ReactHandler } from './sequencer/handlers/react.handler.js';
import { SendMessageHandler } from './sequencer/handlers/send-message.handler.js';
import { Sequencer } from './sequencer/sequencer.js';
import { SequencerState } from './sequencer/sequencer-state.js';
import { ConversationsTable } from './storage/conversations.table.js';
import { DirectConversationsTable } from './storage/direct-conversations.table.js';
import { MembersTable } from './storage/members.table.js';
import { MessageChangesTable } from './storage/message-changes.table.js';
import { MessageClaimsTable } from './storage/message-claims.table.js';
import { StoreProbesTable } from './storage/store-probes.table.js';
import { MessageEditsTable } from './storage/message-edits.table.js';
import { MessagesTable } from './storage/messages.table.js';
import { MentionsTable } from './storage/mentions.table.js';
import { UserSettingsTable } from './storage/user-settings.table.js';
import { UserSettingsCache } from './conversations/user-settings-cache.js';
import { PinsTable } from './storage/pins.table.js';
import { MediaUsesTable } from './storage/media-uses.table.js';
import { ThreadRepliesTable } from './storage/thread-replies.table.js';
import { ReactionsTable } from './storage/reactions.table.js';
import { MessagesIndex } from './search/messages-index.js';
import { SearchIndexer } from './search/search-indexer.js';
import { SearchService } from './search/search.service.js';

const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

@Module({})
export class MessageModule {
  static forRoot(config: MessageConfig, logger: Logger): DynamicModule {
    const topic = (name: string) => ({
      topic: name,
      numPartitions: config.KAFKA_TOPIC_PARTITIONS,
      replicationFactor: config.KAFKA_TOPIC_REPLICATION,
    });
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
              topic(registry.topics.conversationCommands),
              topic(registry.topics.conversationEvents),
            ],
          },
        }),
      ],
      providers: [
        ConversationsTable,
        DirectConversationsTable,
        MembersTable,
        MessagesTable,
        MessageClaimsTable,
        StoreProbesTable,
        MessageChangesTable,
        MessageEditsTable,
        ReactionsTable,
        PinsTable,
        ThreadRepliesTable,
        MentionsTable,
        UserSettingsTable,
        UserSettingsCache,
        MembershipCache,
        ConversationSets,
        AuthClient,
        MediaClient,
        MediaUsesTable,
        InvitationsTable,
        InvitationsService,
        LivePublisher,
        ConversationEvents,
        ConversationService,
        MemberDirectory,
        HistoryService,
        CommandBus,
        MessageCommands,
        MembershipCommands,
        SequencerState,
        SendMessageHandler,
        MarkReadHandler,
        EditMessageHandler,
        DeleteMessageHandler,
        ReactHandler,
        PinHandler,
        UpdateConversationHandler,
        ChangeMembersHandler,
        CommandHandlers,
        Sequencer,
        MessagesIndex,
        SearchIndexer,
        SearchService,
        MessageGrpcApi,
      ],
    };
  }
}
