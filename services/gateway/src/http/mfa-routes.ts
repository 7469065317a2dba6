import {
  beginMfaEnrolmentBody,
  beginOwnMfaEnrolmentBody,
  completeMfaBody,
  mfaCodeBody,
} from './request-schemas.js';
import { authBody, caller, route, type Route, type RouteDeps } from './routes.js';

const enrolment = {
  type: 'object',
  properties: {
    secret: { type: 'string', description: 'base32, to type into an authenticator app' },
    uri: { type: 'string', description: 'otpauth://totp/… to show as a QR code' },
  },
};

const recoveryCodes = {
  type: 'object',
  properties: {
    recoveryCodes: {
      type: 'array',
      items: { type: 'string' },
      description: 'single-use; shown once, store them somewhere safe',
    },
  },
};

/** The second factor: the second step of a login, enrolment, recovery codes, turning it off. */
export function mfaRoutes(d: RouteDeps): Route[] {
  const auth = () => d.downstream.auth;
  return [
    route({
      method: 'POST',
      path: '/v1/auth/mfa',
      summary:
        'Complete a login that answered mfa_required, with an authenticator code or a recovery code (enrolling: the first code of the new secret, and the answer carries recovery codes)',
      tag: 'auth',
      auth: false,
      body: completeMfaBody,
      responses: { 200: 'AuthResult', 401: 'Error', 429: 'Error' },
      handler: async ({ body, request }) => {
        const res = await auth().completeMfa({
          mfaToken: body.mfaToken,
          code: body.code,
          client: d.clientInfo(request),
        });
        return {
          status: 200,
          body: {
            ...authBody(res),
            ...(res.recoveryCodes.length ? { recoveryCodes: res.recoveryCodes } : {}),
          },
        };
      },
    }),
    route({
      method: 'POST',
      path: '/v1/auth/mfa/totp',
      summary: 'Enrol during a login the tenant requires a second factor for (mfa_required, enrolled: false)',
      tag: 'auth',
      auth: false,
      body: beginMfaEnrolmentBody,
      responses: { 201: enrolment, 401: 'Error' },
      handler: async ({ body }) => ({
        status: 201,
        body: await auth().beginTotpEnrolment({ caller: undefined, password: '', mfaToken: body.mfaToken }),
      }),
    }),
    route({
      method: 'GET',
      path: '/v1/users/me/mfa',
      summary:
        'The caller’s second factor: off, pending or on; recovery codes left; whether policy requires it',
      tag: 'users',
      auth: true,
      responses: {
        200: {
          type: 'object',
          properties: {
            totp: { type: 'string', enum: ['off', 'pending', 'on'] },
            recoveryCodesLeft: { type: 'integer' },
            required: { type: 'boolean' },
          },
        },
      },
      handler: async ({ principal }) => ({
        status: 200,
        body: await auth().getMfaStatus({ caller: caller(principal) }),
      }),
    }),
    route({
      method: 'POST',
      path: '/v1/users/me/mfa/totp',
      summary:
        'Begin TOTP enrolment (with the password): a new secret, pending until confirmed with a first code',
      tag: 'users',
      auth: true,
      body: beginOwnMfaEnrolmentBody,
      responses: { 201: enrolment, 401: 'Error', 409: 'Error', 429: 'Error' },
      handler: async ({ principal, body }) => ({
        status: 201,
        body: await auth().beginTotpEnrolment({
          caller: caller(principal),
          password: body.password,
          mfaToken: '',
        }),
      }),
    }),
    route({
      method: 'POST',
      path: '/v1/users/me/mfa/totp/confirm',
      summary: 'Turn the second factor on with a first code of the pending secret; answers recovery codes',
      tag: 'users',
      auth: true,
      body: mfaCodeBody,
      responses: { 200: recoveryCodes, 401: 'Error', 409: 'Error', 429: 'Error' },
      handler: async ({ principal, body }) => ({
        status: 200,
        body: await auth().confirmTotpEnrolment({ caller: caller(principal), code: body.code }),
      }),
    }),
    route({
      method: 'POST',
      path: '/v1/users/me/mfa/recovery-codes',
      summary: 'New recovery codes (needs a current code); the earlier ones stop working',
      tag: 'users',
      auth: true,
      body: mfaCodeBody,
      responses: { 200: recoveryCodes, 401: 'Error', 409: 'Error', 429: 'Error' },
      handler: async ({ principal, body }) => ({
        status: 200,
        body: await auth().regenerateRecoveryCodes({ caller: caller(principal), code: body.code }),
      }),
    }),
    route({
      method: 'POST',
      path: '/v1/users/me/mfa/disable',
      summary: 'Turn the second factor off (needs a current code; refused while tenant policy requires it)',
      tag: 'users',
      auth: true,
      body: mfaCodeBody,
      responses: { 204: {}, 401: 'Error', 403: 'Error', 429: 'Error' },
      handler: async ({ principal, body }) => {
        await auth().disableMfa({ caller: caller(principal), code: body.code });
        return { status: 204 };
      },
    }),
  ];
}
