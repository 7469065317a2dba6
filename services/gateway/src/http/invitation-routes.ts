import { conversationParams } from './request-schemas.js';
import { caller, route, type Route, type RouteDeps } from './routes.js';

const invitation = {
  type: 'object',
  properties: {
    conversationId: { type: 'string' },
    type: { type: 'string', enum: ['group', 'channel'] },
    title: { type: 'string' },
    memberCount: { type: 'integer' },
    invitedBy: { type: 'string' },
    invitedAt: { type: 'string', format: 'date-time' },
  },
};

/** Invitations into groups and channels, where the tenant asks for consent to being added. */
export function invitationRoutes(d: RouteDeps): Route[] {
  const message = () => d.downstream.message;
  return [
    route({
      method: 'GET',
      path: '/v1/invitations',
      summary: 'The caller’s open invitations into groups and channels (they lapse after 30 days)',
      tag: 'conversations',
      auth: true,
      responses: {
        200: { type: 'object', properties: { invitations: { type: 'array', items: invitation } } },
      },
      handler: async ({ principal }) => ({
        status: 200,
        body: await message().listInvitations({ caller: caller(principal) }),
      }),
    }),
    route({
      method: 'POST',
      path: '/v1/invitations/:id/accept',
      summary:
        'Join the conversation as the inviter added you (403 when they may no longer add people); the invitation is used up',
      tag: 'conversations',
      auth: true,
      params: conversationParams,
      responses: { 200: 'ConversationEnvelope', 403: 'Error', 404: 'Error' },
      handler: async ({ principal, params }) => ({
        status: 200,
        body: await message().acceptInvitation({ caller: caller(principal), conversationId: params.id }),
      }),
    }),
    route({
      method: 'DELETE',
      path: '/v1/invitations/:id',
      summary: 'Decline an invitation (final for 30 days: the conversation cannot invite you again)',
      tag: 'conversations',
      auth: true,
      params: conversationParams,
      responses: { 204: {}, 404: 'Error' },
      handler: async ({ principal, params }) => {
        await message().declineInvitation({ caller: caller(principal), conversationId: params.id });
        return { status: 204 };
      },
    }),
  ];
}
