import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestView } from '../../api/schemas.js';
import { withEmail } from '../support/email-organisation.js';
import { approvalLinkIn, Mailbox } from '../support/mailbox.js';
import { settle, startService, type RunningService } from '../support/service.js';

const SCREENSHOTS = join(process.cwd(), 'test-results', 'screenshots');

async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'])
    .analyze();
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`,
    );
}

describe('the approval page in Chromium, without JavaScript', () => {
  let mailbox: Mailbox;
  let running: RunningService;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    mailbox = await Mailbox.start();
    running = await startService({ kind: 'pglite', policy: await withEmail(mailbox.url) });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu'],
    });
  });
  afterAll(async () => {
    await browser.close();
    await running.stop();
    await mailbox.close();
  });

  it('signs the approver in and decides, passing axe at each step', async () => {
    const alice = await running.api.login('alice');
    const created = await running.api.post<RequestView>('/v1/requests', alice, {
      resourceId: 'prod-db',
      role: 'read',
      durationSeconds: 3600,
      reason: 'investigate order 1234',
      ticket: 'INC-42',
    });
    expect(created.status).toBe(201);
    await settle(running.service);
    const [mail] = mailbox.to('bob@example.test');
    if (!mail) throw new Error('bob got no mail');
    const link = approvalLinkIn(mail);

    const context = await browser.newContext({
      javaScriptEnabled: false,
      viewport: { width: 800, height: 720 },
    });
    const page = await context.newPage();
    await page.goto(link);
    await expect.poll(() => page.title()).toBe('Sign in to decide · Timebox');
    await page.screenshot({ path: join(SCREENSHOTS, 'approval-sign-in.png'), fullPage: true });
    // axe runs its own script in the page: it needs JavaScript, which the page itself never uses.
    const scripted = await browser.newContext({ viewport: { width: 800, height: 720 } });
    const checked = await scripted.newPage();
    await checked.goto(link);
    expect(await seriousViolations(checked)).toEqual([]);

    await page.getByLabel('Password').fill('demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.title()).toBe('Decide on this request · Timebox');
    await page.screenshot({ path: join(SCREENSHOTS, 'approval-decide.png'), fullPage: true });
    await checked.getByLabel('Password').fill('demo');
    await checked.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => checked.title()).toBe('Decide on this request · Timebox');
    expect(await seriousViolations(checked)).toEqual([]);

    await page.getByLabel(/Comment/).fill('looks fine');
    await page.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => page.title()).toBe('Approved · Timebox');
    await page.screenshot({ path: join(SCREENSHOTS, 'approval-done.png'), fullPage: true });
    expect(await page.getByRole('status').textContent()).toBe('The request is approved.');
    await checked.reload();
    expect(await seriousViolations(checked)).toEqual([]);
    await context.close();
    await scripted.close();
  });
});
