import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RequestView } from '../../api/schemas.js';
import { Housekeeping } from '../../server/ops/housekeeping.js';
import { DATABASES } from '../support/databases.js';
import { approvalLinkIn, Mailbox } from '../support/mailbox.js';
import { withEmail } from '../support/email-organisation.js';
import { settle, startService, type RunningService } from '../support/service.js';

const PROD_READ = { resourceId: 'prod-db', role: 'read', durationSeconds: 3600, reason: 'order 1234' };
interface Page {
  readonly status: number;
  readonly html: string;
  readonly headers: Headers;
}

async function open(url: string, cookie?: string): Promise<Page> {
  const response = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  return { status: response.status, html: await response.text(), headers: response.headers };
}

async function submit(url: string, form: Record<string, string>, cookie?: string): Promise<Page> {
  const response = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, html: await response.text(), headers: response.headers };
}

const csrfIn = (html: string): string => {
  const match = /name="csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error(`no CSRF token in the page:\n${html}`);
  return match[1];
};

describe.each(DATABASES)('approving by email on %s', (kind) => {
  let mailbox: Mailbox;
  let running: RunningService;
  let alice: string;

  beforeEach(async () => {
    mailbox = await Mailbox.start();
    running = await startService({ kind, policy: await withEmail(mailbox.url) });
    alice = await running.api.login('alice');
  });
  afterEach(async () => {
    await running.stop();
    await mailbox.close();
  });

  async function requestStatus(id: string): Promise<RequestView['status']> {
    const response = await running.api.get<RequestView>(`/v1/requests/${id}`, alice);
    expect(response.status).toBe(200);
    return response.body.status;
  }

  /** Signs bob in on the link's page and returns his cookie. */
  async function signInBob(link: string): Promise<string> {
    const wrong = await submit(`${link}/sign-in`, { password: 'not his password' });
    expect(wrong.status, wrong.html).toBe(401);
    expect(wrong.html).toContain('The username or password is wrong.');
    const signedIn = await submit(`${link}/sign-in`, { password: 'demo' });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe(new URL(link).pathname);
    const cookie = signedIn.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    return cookie.split(';')[0] ?? '';
  }

  it('mails the approver a link that decides once, as them, with the CSRF token; the requester hears the outcome', async () => {
    const created = await running.api.post<RequestView>('/v1/requests', alice, PROD_READ);
    expect(created.status).toBe(201);
    await settle(running.service);
    const [mail] = mailbox.to('bob@example.test');
    expect(mail?.subject).toBe("Approve Alice Kim's access to prod-db (read)?");
    expect(mail?.raw).toMatch(/Content-Type: text\/plain/);
    expect(mail?.raw).toMatch(/Content-Type: text\/html/);
    expect(mailbox.to('alice@example.test')).toEqual([]);
    const link = approvalLinkIn(mail ?? { to: '', subject: '', messageId: '', decoded: '', raw: '' });
    expect(link.startsWith(`${running.url}/approve/`)).toBe(true);

    // Not signed in: the page asks for the approver's password, and shows nothing of the request.
    const first = await open(link);
    expect(first.status).toBe(200);
    expect(first.html).toContain('Sign in to decide');
    expect(first.html).not.toContain('order 1234');
    expect(first.headers.get('referrer-policy')).toBe('no-referrer');
    expect(first.html).not.toContain('<script');

    // Someone else's session is not the approver's.
    const carolToken = await running.api.login('carol');
    const asCarol = await submit(
      link,
      { decision: 'approve', comment: '', csrf: 'x' },
      `timebox_approval=${carolToken}`,
    );
    expect(asCarol.status).toBe(401);
    expect(await requestStatus(created.body.id)).toBe('pending');

    const cookie = await signInBob(link);
    const page = await open(link, cookie);
    expect(page.status).toBe(200);
    expect(page.html).toContain('order 1234');
    const csrf = csrfIn(page.html);

    // Without the CSRF token, or with another, nothing is decided.
    expect((await submit(link, { decision: 'approve', comment: '' }, cookie)).status).toBe(403);
    expect((await submit(link, { decision: 'approve', comment: '', csrf: `${csrf}x` }, cookie)).status).toBe(
      403,
    );
    // A forged link, or one signed for someone else, is not ours.
    const [body = '', mac = ''] = new URL(link).pathname.replace('/approve/', '').split('.');
    const forged = `${running.url}/approve/${Buffer.from(JSON.stringify(['dlv_x', created.body.id, 'carol', 9e15])).toString('base64url')}.${mac}`;
    expect((await open(forged)).status).toBe(404);
    expect((await open(`${running.url}/approve/${body}.${mac.slice(1)}A`)).status).toBe(404);
    // Denying needs a reason.
    expect((await submit(link, { decision: 'deny', comment: ' ', csrf }, cookie)).status).toBe(400);
    expect(await requestStatus(created.body.id)).toBe('pending');

    const decided = await submit(link, { decision: 'approve', comment: 'ok', csrf }, cookie);
    expect(decided.status).toBe(200);
    expect(decided.html).toContain('The request is approved.');
    expect(await requestStatus(created.body.id)).toBe('approved');

    // Once only.
    const again = await submit(link, { decision: 'approve', comment: '', csrf }, cookie);
    expect(again.status).toBe(410);
    expect(again.html).toContain('each link works only once');
    expect((await open(link, cookie)).status).toBe(409);
    // Housekeeping forgets used links of decided requests: such a link still decides nothing.
    await new Housekeeping(running.service.db, running.clock, (error) => {
      throw error;
    }).sweep();
    const afterSweep = await submit(link, { decision: 'deny', comment: 'changed my mind', csrf }, cookie);
    expect(afterSweep.status).toBe(409);
    expect(await requestStatus(created.body.id)).toBe('approved');

    await settle(running.service);
    const [outcome] = mailbox.to('alice@example.test');
    expect(outcome?.subject).toBe('Your request for prod-db (read) was approved');
    expect(outcome?.decoded).toContain('bob (approve): ok');
  });

  it('lets a link lapse with its request', async () => {
    const created = await running.api.post<RequestView>('/v1/requests', alice, PROD_READ);
    expect(created.status).toBe(201);
    await settle(running.service);
    const [mail] = mailbox.to('bob@example.test');
    const link = approvalLinkIn(mail ?? { to: '', subject: '', messageId: '', decoded: '', raw: '' });
    const cookie = await signInBob(link);
    const csrf = csrfIn((await open(link, cookie)).html);
    await running.advance(Date.parse(created.body.expiresAt) - running.clock.now() + 1000);
    const lapsed = await submit(link, { decision: 'approve', comment: '', csrf }, cookie);
    expect(lapsed.status).toBe(410);
    expect(lapsed.html).toContain('The request lapsed');
    expect(await requestStatus(created.body.id)).toBe('lapsed');
    const [outcome] = mailbox.to('alice@example.test');
    expect(outcome?.subject).toBe('Your request for prod-db (read) lapsed: nobody decided in time');
  });
});
