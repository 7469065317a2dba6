import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { headerSocketFactory, ImChat, ImClient, ImSocket } from '@im/sdk';
import { eventually, Platform } from '@im/testing';
import { outcome } from './support/outcome.js';
import { registerUsers } from './support/users.js';

const TTL_SEC = 30; // the shortest access-token lifetime auth accepts

// An open socket is bound to its access token's lifetime: it must be handed a fresh token of the
// same session (auth.refresh) before expiry, or it is closed with 4401 token_expired.
describe('WebSocket and access-token expiry', () => {
  let platform: Platform;

  before(async () => {
    platform = await Platform.start({
      env: { auth: { ACCESS_TOKEN_TTL_SEC: String(TTL_SEC) }, gateway: { WS_HEARTBEAT_INTERVAL_MS: '1000' } },
    });
  });
  after(() => platform?.stop());

  it('without auth.refresh the socket closes at expiry; with it the socket lives on; the SDK renews by itself', async () => {
    const [alice, bob] = await registerUsers(platform, 2, 'tokenexp');
    const conv = await alice!.createConversation('direct', [bob!.user.id]);
    const lapsing = await ImSocket.connect(platform.wsUrl(), alice!.session!.accessToken);
    const renewed = await ImSocket.connect(platform.wsUrl(), alice!.session!.accessToken);

    // refused renewals change nothing: another session's token, too often, a token that is not one
    assert.equal(
      await outcome(renewed.request('auth.refresh', { token: bob!.session!.accessToken })),
      'ws invalid_argument',
    );
    assert.equal(
      await outcome(renewed.request('auth.refresh', { token: 'not-a-token' })),
      'ws rate_limited',
      'one auth.refresh per 5 s',
    );
    assert.equal(await outcome(renewed.request('auth.refresh', {})), 'ws invalid_argument');
    await new Promise((r) => setTimeout(r, 5_000));
    assert.equal(
      await outcome(renewed.request('auth.refresh', { token: 'not-a-token' })),
      'ws invalid_token',
    );

    // the SDK's connection, on its own
    const sdkUser = new ImClient(platform.gatewayUrl());
    sdkUser.session = bob!.session;
    const chat = new ImChat(sdkUser, { socketFactory: headerSocketFactory });
    let readies = 0;
    chat.connection.on('ready', () => readies++);
    await chat.start();
    try {
      await eventually(() => assert.equal(chat.state, 'open'));
      // a fresh token of the same session, well before expiry
      await new Promise((r) => setTimeout(r, 5_500));
      const fresh = await alice!.refresh();
      await renewed.request('auth.refresh', { token: fresh.accessToken });

      const closed = await Promise.race([
        lapsing.closed,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), (TTL_SEC + 15) * 1000)),
      ]);
      assert.equal(closed?.code, 4401, 'closed at expiry');
      const reason = await lapsing.waitFor('error');
      assert.equal(reason.code, 'token_expired');

      assert.ok(renewed.isOpen, 'the renewed socket is still open');
      await renewed.sendMessage(conv.id, 'still here', 'after-expiry');
      // the SDK renewed in time: one session, never closed
      await chat.send(conv.id, 'me too');
      await eventually(() => assert.equal(chat.outbox.pending().length, 0));
      assert.equal(chat.state, 'open');
      assert.equal(readies, 1, 'the SDK never had to reconnect');
    } finally {
      chat.stop();
      await renewed.close();
    }
  });
});
