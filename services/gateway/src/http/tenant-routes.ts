import {
  botParams,
  createBotBody,
  createInviteBody,
  tenantUsersQuery,
  updateTenantBody,
  updateTenantUserBody,
  userParams,
} from './request-schemas.js';
import { caller, route, type Route, type RouteDeps } from './routes.js';

const tenantUser = {
  type: 'object',
  properties: {
    user: { $ref: '#/components/schemas/User' },
    role: { type: 'string', enum: ['admin', 'member'] },
    disabled: { type: 'boolean' },
    mfa: { type: 'boolean', description: 'a second factor is on' },
    email: {
      type: 'string',
      description: 'the address a mailed invite proved ("" when not joined by email)',
    },
  },
};

const tenant = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    registration: { type: 'string', enum: ['open', 'invite'] },
    mfaPolicy: { type: 'string', enum: ['off', 'admins', 'everyone'] },
    groupAdds: { type: 'string', enum: ['anyone', 'consent'] },
    emailDomains: { type: 'array', items: { type: 'string' } },
  },
};

/** What a tenant's admins do: invite people, list, disable or remove users, open registration. */
export function tenantRoutes(d: RouteDeps): Route[] {
  const auth = () => d.downstream.auth;
  return [
    route({
      method: 'POST',
      path: '/v1/tenant/invites',
      summary: 'A single-use, expiring invite into the caller’s tenant (tenant admins)',
      tag: 'tenant',
      auth: true,
      body: createInviteBody,
      responses: {
        201: { type: 'object', properties: { invite: { type: 'string' }, expiresAt: { type: 'string' } } },
        403: 'Error',
      },
      handler: async ({ principal, body }) => ({
        status: 201,
        body: await auth().createInvite({
          caller: caller(principal),
          role: body.role ?? 'member',
          ttlSeconds: body.ttlSeconds ?? 0,
          operatorToken: '',
          tenant: '',
        }),
      }),
    }),
    route({
      method: 'GET',
      path: '/v1/tenant/users',
      summary: 'The tenant’s users with their role and state, paged (tenant admins)',
      tag: 'tenant',
      auth: true,
      query: tenantUsersQuery,
      responses: {
        200: {
          type: 'object',
          properties: { users: { type: 'array', items: tenantUser }, nextCursor: { type: 'string' } },
        },
        403: 'Error',
      },
      handler: async ({ principal, query }) => ({
        status: 200,
        body: await auth().listTenantUsers({
          caller: caller(principal),
          cursor: query.cursor ?? '',
          limit: query.limit ?? 0,
        }),
      }),
    }),
    route({
      method: 'PATCH',
      path: '/v1/tenant/users/:id',
      summary:
        'Disable (every session ends at once, no login) or enable a user; make them admin or member; reset their second factor',
      tag: 'tenant',
      auth: true,
      params: userParams,
      body: updateTenantUserBody,
      responses: { 200: tenantUser, 403: 'Error', 404: 'Error' },
      handler: async ({ principal, params, body }) => ({
        status: 200,
        body: (
          await auth().updateTenantUser({
            caller: caller(principal),
            userId: params.id,
            disabled: body.disabled,
            role: body.role,
            remove: false,
            resetMfa: body.resetMfa === true,
          })
        ).user,
      }),
    }),
    route({
      method: 'DELETE',
      path: '/v1/tenant/users/:id',
      summary: 'Remove a user: every session ends at once, login is refused, the username stays taken',
      tag: 'tenant',
      auth: true,
      params: userParams,
      responses: { 204: {}, 403: 'Error', 404: 'Error' },
      handler: async ({ principal, params }) => {
        await auth().updateTenantUser({
          caller: caller(principal),
          userId: params.id,
          remove: true,
          resetMfa: false,
        });
        return { status: 204 };
      },
    }),
    route({
      method: 'PATCH',
      path: '/v1/tenant',
      summary:
        'Open self-registration on or off; the email domains whose people may join; who must use a second factor; whether being added to a group needs consent (tenant admins)',
      tag: 'tenant',
      auth: true,
      body: updateTenantBody,
      responses: { 200: tenant, 403: 'Error' },
      handler: async ({ principal, body }) => ({
        status: 200,
        body: (
          await auth().updateTenant({
            caller: caller(principal),
            registration: body.registration,
            mfaPolicy: body.mfaPolicy,
            groupAdds: body.groupAdds,
            emailDomains: body.emailDomains && { domains: body.emailDomains },
          })
        ).tenant,
      }),
    }),
    route({
      method: 'POST',
      path: '/v1/bots',
      summary:
        'A bot user and its API key, shown once (tenant admins); the bot calls the API with Authorization: Bearer <apiKey>',
      tag: 'tenant',
      auth: true,
      body: createBotBody,
      responses: {
        201: {
          type: 'object',
          properties: { bot: { $ref: '#/components/schemas/User' }, apiKey: { type: 'string' } },
        },
        400: 'Error',
        403: 'Error',
        409: 'Error',
      },
      handler: async ({ principal, body }) => ({
        status: 201,
        body: await auth().createBot({
          caller: caller(principal),
          username: body.username,
          displayName: body.displayName ?? '',
        }),
      }),
    }),
    route({
      method: 'POST',
      path: '/v1/bots/:id/keys',
      summary: 'A new API key for the bot; every earlier key stops working (tenant admins)',
      tag: 'tenant',
      auth: true,
      params: botParams,
      responses: {
        201: { type: 'object', properties: { apiKey: { type: 'string' } } },
        403: 'Error',
        404: 'Error',
      },
      handler: async ({ principal, params }) => ({
        status: 201,
        body: await auth().rotateBotKey({ caller: caller(principal), botId: params.id }),
      }),
    }),
    route({
      method: 'DELETE',
      path: '/v1/bots/:id/keys',
      summary: 'Every API key of the bot stops working (tenant admins)',
      tag: 'tenant',
      auth: true,
      params: botParams,
      responses: { 204: {}, 403: 'Error', 404: 'Error' },
      handler: async ({ principal, params }) => {
        await auth().revokeBotKeys({ caller: caller(principal), botId: params.id });
        return { status: 204 };
      },
    }),
  ];
}
