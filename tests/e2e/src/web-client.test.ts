import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { ImClient, TenantAdmin } from '@im/sdk';
import { authenticatorCode, eventually, Platform, repoRoot } from '@im/testing';
import { chromiumPath } from './support/browser.js';
import { PASSWORD, registerUsers } from './support/users.js';

const ARTIFACTS = join(repoRoot(), '.run/test-artifacts/web-client');

/** The reference web client (apps/web) in Debian's Chromium, driven by playwright-core. */
describe('web client in a real browser', () => {
  let platform: Platform;
  let browser: Browser;
  let base: string;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    platform = await Platform.start({ shared: true });
    base = platform.gatewayUrl();
    browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
    await platform?.stop();
  });

  const browserLog: string[] = [];

  async function signIn(context: BrowserContext, user: ImClient, shot?: string): Promise<Page> {
    const page = await context.newPage();
    // what the app logs goes into a failing test's message
    page.on('console', (m) => browserLog.push(`${user.user.username} console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => browserLog.push(`${user.user.username} page error: ${e.message}`));
    await page.goto(base);
    const form = page.getByTestId('login');
    await form.locator('input[name=username]').fill(user.user.username);
    await form.locator('input[name=password]').fill(PASSWORD);
    if (shot) await page.screenshot({ path: join(ARTIFACTS, shot) });
    await form.locator('button[type=submit]').click();
    await page.getByTestId('connection-state').filter({ hasText: 'connected' }).waitFor();
    return page;
  }

  /** The seqs the chat view shows, top to bottom (stored messages only, not pending echoes). */
  async function shownSeqs(page: Page): Promise<number[]> {
    return page
      .getByTestId('timeline')
      .locator('.msg:not([data-pending])')
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));
  }

  it('the gateway serves the app at / and for client-side routes, and the API stays JSON', async () => {
    const root = await fetch(`${base}/`);
    assert.equal(root.status, 200);
    assert.match(root.headers.get('content-type') ?? '', /text\/html/);
    assert.match(root.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.match(await root.text(), /<div id="app">/);
    const deep = await fetch(`${base}/some/client/route`);
    assert.equal(deep.status, 200);
    assert.match(await deep.text(), /<div id="app">/);
    assert.equal(root.headers.get('cache-control'), 'no-cache', 'a new deploy is picked up at once');
    assert.equal((await fetch(`${base}/assets/index-from-an-older-build.js`)).status, 404);
    const api = await fetch(`${base}/v1/no-such-route`);
    assert.equal(api.status, 404);
    assert.equal(((await api.json()) as { error: { code: string } }).error.code, 'not_found');
  });

  it('two people chat: list with unread counts, optimistic send, typing, read state; one goes offline, comes back and sees every message once, in order', async () => {
    const [alice, bob] = await registerUsers(platform, 2, 'web');
    const [ctxA, ctxB] = await Promise.all([browser.newContext(), browser.newContext()]);
    try {
      const pageA = await signIn(ctxA, alice!, 'login.png');
      const pageB = await signIn(ctxB, bob!);

      // Alice starts a direct chat by Bob's username and writes
      await pageA.locator('input[name=usernames]').fill(bob!.user.username);
      await pageA.getByTestId('new-conversation').locator('button[type=submit]').click();
      await pageA.getByTestId('chat').waitFor();
      const composerA = pageA.locator('.composer input[name=message]');
      await composerA.fill('Hi Bob, lunch at noon?');
      await composerA.press('Enter');
      await pageA.locator('.msg.mine:not([data-pending])', { hasText: 'lunch at noon' }).waitFor();

      // Bob's list shows the conversation with one unread; opening it reads it
      const rowB = pageB.getByTestId('conversations').locator('button').first();
      await rowB.getByTestId('unread').filter({ hasText: '1' }).waitFor();
      await rowB.locator('.title', { hasText: alice!.user.username }).waitFor();
      await pageB.screenshot({ path: join(ARTIFACTS, 'conversation-list.png') });
      await rowB.click();
      await pageB.locator('.msg.theirs', { hasText: 'lunch at noon' }).waitFor();
      await rowB.getByTestId('unread').waitFor({ state: 'detached' });
      // Alice sees it read, and sees Bob typing
      await pageA.locator('.msg.mine .meta', { hasText: 'read' }).waitFor();
      await pageB.locator('.composer input[name=message]').pressSequentially('Sure');
      await pageA.getByTestId('typing').filter({ hasText: 'is typing' }).waitFor();
      await pageB.locator('.composer input[name=message]').press('Enter');
      await pageA.locator('.msg.theirs', { hasText: 'Sure' }).waitFor();
      await pageA.getByTestId('typing').filter({ hasText: 'is typing' }).waitFor({ state: 'detached' });
      await pageA.screenshot({ path: join(ARTIFACTS, 'chat.png') });

      // Bob's network goes away; Alice keeps writing (through the API, to be quick); Bob writes too
      const conversationId = (await alice!.listConversations()).conversations[0]!.id;
      await ctxB.setOffline(true);
      await pageB
        .getByTestId('connection-state')
        .filter({ hasNotText: /^connected$/ })
        .waitFor({ timeout: 30_000 });
      for (let i = 1; i <= 5; i++) await alice!.sendMessage(conversationId, `offline-${i}`, `offline-${i}`);
      const composerB = pageB.locator('.composer input[name=message]');
      await composerB.fill('written while offline');
      await composerB.press('Enter');
      await pageB.locator('.msg[data-pending]', { hasText: 'written while offline' }).waitFor();
      await pageB.screenshot({ path: join(ARTIFACTS, 'offline.png') });

      await ctxB.setOffline(false);
      await pageB
        .getByTestId('connection-state')
        .filter({ hasText: /^connected$/ })
        .waitFor({ timeout: 30_000 });
      await pageB.locator('.msg.mine:not([data-pending])', { hasText: 'written while offline' }).waitFor();
      await pageA.locator('.msg.theirs', { hasText: 'written while offline' }).waitFor();

      const expected = (await alice!.allMessages(conversationId)).map((m) => m.seq);
      assert.deepEqual(expected, [1, 2, 3, 4, 5, 6, 7, 8]);
      await waitForSeqs(pageB, expected);
      await waitForSeqs(pageA, expected);
      const texts = await pageB.getByTestId('timeline').locator('.msg .text').allTextContents();
      assert.equal(texts.filter((t) => t.startsWith('offline-')).length, 5, 'each message once');
    } finally {
      await Promise.all([ctxA.close(), ctxB.close()]);
    }
  });

  it('rich messaging in the browser: reply, reactions, edit, an image with its thumbnail, search', async () => {
    const [alice, bob] = await registerUsers(platform, 2, 'webrich');
    const conv = await alice!.createConversation('direct', [bob!.user.id]);
    await alice!.sendMessage(conv.id, 'rich-1', 'The quarterly report is ready');
    const [ctxA, ctxB] = await Promise.all([browser.newContext(), browser.newContext()]);
    try {
      const [pageA, pageB] = [await signIn(ctxA, alice!), await signIn(ctxB, bob!)];
      for (const page of [pageA, pageB]) {
        await page.getByTestId('conversations').locator('button').first().click();
        await page.locator('.msg', { hasText: 'quarterly report' }).waitFor();
      }

      // Bob replies to it
      const rootB = pageB.locator('.msg.theirs', { hasText: 'quarterly report' });
      await rootB.hover();
      await rootB.locator('button[title=Reply]').click();
      await pageB.getByTestId('composer-mode').filter({ hasText: 'Replying to' }).waitFor();
      await pageB.locator('.composer input[name=message]').fill('Great, thanks');
      await pageB.locator('.composer input[name=message]').press('Enter');
      for (const page of [pageA, pageB])
        await page
          .locator('.msg', { hasText: 'Great, thanks' })
          .getByTestId('reply-quote')
          .filter({ hasText: 'The quarterly report is ready' })
          .waitFor();

      // Alice reacts to the reply; both see the count, Alice's chip marked as hers
      const replyA = pageA.locator('.msg.theirs', { hasText: 'Great, thanks' });
      await replyA.hover();
      await replyA.locator('button[title="React 👍"]').click();
      await replyA.locator('.reaction.me', { hasText: '👍 1' }).waitFor();
      await pageB
        .locator('.msg.mine', { hasText: 'Great, thanks' })
        .getByTestId('reaction')
        .filter({ hasText: '👍 1' })
        .waitFor();

      // Alice edits her message
      const rootA = pageA.locator('.msg.mine', { hasText: 'quarterly report' });
      await rootA.hover();
      await rootA.locator('button[title=Edit]').click();
      await pageA.getByTestId('composer-mode').filter({ hasText: 'Editing' }).waitFor();
      await pageA.locator('.composer input[name=message]').fill('The quarterly report is ready (final)');
      await pageA.locator('.composer input[name=message]').press('Enter');
      for (const page of [pageA, pageB])
        await page
          .locator('.msg', { hasText: 'ready (final)' })
          .locator('.meta', { hasText: 'edited' })
          .waitFor();

      // Alice sends a photo; both see its thumbnail, loaded from the S3 store
      const photo = join(ARTIFACTS, 'photo.png');
      await sharp({ create: { width: 640, height: 400, channels: 3, background: { r: 30, g: 120, b: 200 } } })
        .png()
        .toFile(photo);
      await pageA.locator('.composer input[type=file]').setInputFiles(photo);
      for (const page of [pageA, pageB]) {
        const img = page.getByTestId('attachment-image').locator('img');
        await img.waitFor({ timeout: 30_000 }).catch(async (err: unknown) => {
          await page.screenshot({ path: join(ARTIFACTS, 'image-missing.png') });
          throw new Error(`${String(err)}\n${browserLog.slice(-20).join('\n')}`);
        });
        await eventually(async () =>
          assert.ok(
            (await img.evaluate((el) => {
              const image = el as unknown as { complete: boolean; naturalWidth: number };
              return image.complete ? image.naturalWidth : 0;
            })) > 0,
            'the thumbnail loaded',
          ),
        );
      }

      // Bob searches and opens the hit
      await pageB.getByTestId('conversations').locator('button').first().click();
      const box = pageB.getByTestId('search').locator('input[name=q]');
      await eventually(
        async () => {
          await box.fill('quarterly');
          await box.press('Enter');
          await pageB.getByTestId('search-result').first().waitFor({ timeout: 1_000 });
        },
        { timeoutMs: 20_000 },
      );
      assert.equal(
        await pageB.getByTestId('search-result').first().locator('em').first().textContent(),
        'quarterly',
      );
      await pageB.getByTestId('search-result').first().click();
      await pageB.getByTestId('chat').locator('.msg', { hasText: 'ready (final)' }).waitFor();
      await pageA.screenshot({ path: join(ARTIFACTS, 'rich-messaging.png') });
    } finally {
      await Promise.all([ctxA.close(), ctxB.close()]);
    }
  });

  it('a reload keeps the session, and a wrong password says so', async () => {
    const [carol] = await registerUsers(platform, 1, 'webreload');
    const ctx = await browser.newContext();
    try {
      const page = await signIn(ctx, carol!);
      await page.reload();
      await page.getByTestId('connection-state').filter({ hasText: 'connected' }).waitFor();
      await page.getByText('Sign out').click();
      const form = page.getByTestId('login');
      await form.locator('input[name=username]').fill(carol!.user.username);
      await form.locator('input[name=password]').fill('not the password');
      await form.locator('button[type=submit]').click();
      await page.getByRole('alert').filter({ hasText: 'Wrong username or password' }).waitFor();
    } finally {
      await ctx.close();
    }
  });

  it('a workspace that requires two-step verification: enrol at sign-in, keep the recovery codes, sign in with one later', async () => {
    const tenant = `webmfa-${Date.now().toString(36)}`;
    const admin = new ImClient(base, tenant);
    await admin.register(`boss-${Date.now().toString(36)}`, PASSWORD);
    const [dana] = await registerUsers(platform, 1, 'webmfa', tenant);
    await new TenantAdmin(admin).updateTenant({ mfaPolicy: 'everyone' });
    const ctx = await browser.newContext();
    try {
      const page = await ctx.newPage();
      page.on('pageerror', (e) => browserLog.push(`page error: ${e.message}`));
      const signInForm = async () => {
        const form = page.getByTestId('login');
        await form.locator('input[name=tenant]').fill(tenant);
        await form.locator('input[name=username]').fill(dana!.user.username);
        await form.locator('input[name=password]').fill(PASSWORD);
        await form.locator('button[type=submit]').click();
      };
      await page.goto(base);
      await signInForm();
      const step = page.getByTestId('mfa');
      const secret = (await step.getByTestId('mfa-secret').textContent())!;
      await step
        .locator('input[name=code]')
        .fill('000000' === authenticatorCode(secret) ? '111111' : '000000');
      await step.locator('button[type=submit]').click();
      await page.getByRole('alert').filter({ hasText: 'not right' }).waitFor();
      await step.locator('input[name=code]').fill(authenticatorCode(secret));
      await step.locator('button[type=submit]').click();
      await page.getByTestId('recovery-codes').waitFor();
      const codes = await page.getByTestId('recovery-codes').locator('code').allTextContents();
      assert.equal(codes.length, 10);
      await page.screenshot({ path: join(ARTIFACTS, 'recovery-codes.png') });
      await page.getByText('I saved them').click();
      await page.getByTestId('connection-state').filter({ hasText: 'connected' }).waitFor();

      await page.getByText('Sign out').click();
      await signInForm();
      await page.getByTestId('mfa').locator('input[name=code]').fill(codes[0]!);
      await page.getByTestId('mfa').locator('button[type=submit]').click();
      await page.getByTestId('connection-state').filter({ hasText: 'connected' }).waitFor();
    } finally {
      await ctx.close();
    }
  });

  it('an invitation into a group (a workspace that asks before adding people): shown, joined, the group opens', async () => {
    const tenant = `webinv-${Date.now().toString(36)}`;
    const admin = new ImClient(base, tenant);
    await admin.register(`boss-${Date.now().toString(36)}`, PASSWORD);
    await new TenantAdmin(admin).updateTenant({ groupAdds: 'consent' });
    const [gus] = await registerUsers(platform, 1, 'webinv', tenant);
    const ctx = await browser.newContext();
    try {
      const page = await ctx.newPage();
      page.on('pageerror', (e) => browserLog.push(`page error: ${e.message}`));
      await page.goto(base);
      const form = page.getByTestId('login');
      await form.locator('input[name=tenant]').fill(tenant);
      await form.locator('input[name=username]').fill(gus!.user.username);
      await form.locator('input[name=password]').fill(PASSWORD);
      await form.locator('button[type=submit]').click();
      await page.getByTestId('connection-state').filter({ hasText: 'connected' }).waitFor();
      // invited while the page is open: the frame brings it up
      const group = await admin.createConversation('group', [gus!.user.id], 'book club');
      const invitation = page.getByTestId('invitations').locator(`li[data-conversation="${group.id}"]`);
      await invitation.filter({ hasText: 'book club' }).waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'invitation.png') });
      await invitation.getByText('Join').click();
      await page.locator(`button[data-conversation="${group.id}"]`).waitFor();
      await admin.sendMessage(group.id, 'hello-club', 'welcome to the club');
      await page.getByTestId('timeline').getByText('welcome to the club').waitFor();
    } finally {
      await ctx.close();
    }
  });

  async function waitForSeqs(page: Page, expected: number[]): Promise<void> {
    const deadline = Date.now() + 15_000;
    let shown: number[] = [];
    while (Date.now() < deadline) {
      shown = await shownSeqs(page);
      if (shown.join() === expected.join()) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(shown, expected, 'the timeline is dense, in order, without duplicates');
  }
});
