import { describe, expect, it } from 'vitest';
import type { GrantView, RequestView } from '../../api/schemas.js';
import { keychainAvailable } from '../support/keychain.js';
import { captureView } from './support/look.js';
import { pickRole, signIn } from './support/people.js';
import { suiteWorld, waitFor } from './support/world.js';

const ORDERS_READ = 'Production database (orders) · read';

describe.runIf(keychainAvailable)('asking, deciding and waiting, on the real core and service', () => {
  const world = suiteWorld();

  /** Asks for access as `user` straight through the API, as another of their devices would. */
  async function requestAs(
    user: string,
    body: { resourceId: string; role: string; durationSeconds: number; reason: string; ticket?: string },
  ): Promise<RequestView> {
    const answer = await world.api.post<RequestView>('/v1/requests', await world.api.login(user), body);
    if (answer.status >= 300) throw new Error(`${user}'s request answered ${answer.status}`);
    return answer.body;
  }

  it(
    'validates the ticket as it is typed, and shows a denial with its comment',
    { timeout: 180_000 },
    async () => {
      const alice = await world.open('main');
      const bob = await world.open('main');
      await signIn(alice, 'alice');
      await signIn(bob, 'bob');

      const { page } = alice;
      await page
        .getByRole('navigation', { name: 'Timebox' })
        .getByRole('button', { name: 'Request access' })
        .click();
      const dialog = page.getByRole('dialog', { name: 'Request access' });
      await pickRole(page, 'write', /Production database \(orders\) write/);
      const ticket = dialog.getByRole('textbox', { name: 'Ticket' });
      await ticket.fill('OPS-');
      await dialog.getByText('That does not match the format OPS-[0-9]+.').waitFor();
      expect(await ticket.getAttribute('aria-invalid')).toBe('true');
      expect(await captureView(world, page, 'request-dialog-invalid-ticket')).toEqual([]);
      await ticket.fill('OPS-42');
      await dialog.getByText('Looks right.').waitFor();
      await dialog.getByLabel('Reason').fill('Fix the stuck order 4411');
      await dialog.getByRole('button', { name: 'Send request' }).click();
      await page.getByText('Waiting for approval').waitFor();

      await bob.page.getByRole('button', { name: /Approvals/ }).click();
      const request = bob.page.getByRole('article', {
        name: /alice asks for Production database \(orders\) · write/,
      });
      await expect.poll(() => request.innerText()).toContain('OPS-42');
      await request.focus();
      await bob.page.keyboard.press('d');
      const deny = bob.page.getByRole('dialog', { name: 'Deny alice’s request' });
      await deny.waitFor();
      await deny.getByRole('button', { name: 'Deny request' }).click();
      await deny.getByText(/A denial needs a comment/).waitFor();
      expect(await captureView(world, bob.page, 'deny-dialog')).toEqual([]);
      await deny.getByLabel('Comment (required)').fill('Use the read role; OPS-42 needs no writes.');
      await deny.getByRole('button', { name: 'Deny request' }).click();
      await bob.page.getByText('Nothing waits for you').waitFor();
      // Focus went back to the inbox, not to the page's start.
      expect(await bob.page.locator(':focus').getAttribute('id')).toBe(
        await bob.page.getByRole('heading', { name: 'Approvals' }).getAttribute('id'),
      );

      const denied = page.getByRole('listitem').filter({ hasText: 'Denied' });
      await denied.filter({ hasText: 'by bob: “Use the read role; OPS-42 needs no writes.”' }).waitFor();
      await world.advance(1000);
      await waitFor(
        () => alice.desktop.shown.some((notice) => notice.kind === 'request-decided'),
        'the denial notice',
      );
      expect(await captureView(world, bob.page, 'approvals-empty')).toEqual([]);
    },
  );

  it('takes a chain of approvals one stage at a time', { timeout: 180_000 }, async () => {
    const bob = await world.open('main');
    const carol = await world.open('main');
    await signIn(bob, 'bob');
    await signIn(carol, 'carol');
    const asked = await requestAs('alice', {
      resourceId: 'cloud-admin',
      role: 'administrator',
      durationSeconds: 3600,
      reason: 'Rotate the leaked access key',
      ticket: 'INC-7',
    });
    const name = /alice asks for AWS production account · administrator for 1 h/;

    // The team lead decides the first stage.
    await bob.page.getByRole('button', { name: /Approvals/ }).click();
    const first = bob.page.getByRole('article', { name: name });
    await expect.poll(() => first.innerText()).toContain('1 of 2: Team lead');
    await first.focus();
    await bob.page.keyboard.press('a');
    await bob.page.getByText('Approved your stage of alice’s request; it moves on to Security.').waitFor();

    // Security sees the second stage, and who approved the first.
    await carol.page.getByRole('button', { name: /Approvals/ }).click();
    const second = carol.page.getByRole('article', { name: name });
    await expect.poll(() => second.innerText()).toContain('2 of 2: Security');
    expect(await second.innerText()).toMatch(/Approved by\s+bob/);
    expect(await second.innerText()).toContain('INC-7');
    expect(await captureView(world, carol.page, 'approvals-chain-stage')).toEqual([]);
    await second.getByRole('button', { name: 'Approve' }).click();
    await carol.page.getByText('Nothing waits for you').waitFor();
    const decided = await world.api.get<RequestView>(
      `/v1/requests/${asked.id}`,
      await world.api.login('alice'),
    );
    expect(decided.body.status).toBe('approved');
  });

  it(
    'asks for more time that needs approval, and shows it waiting until it is given',
    {
      timeout: 180_000,
    },
    async () => {
      const alice = await world.open('main');
      const bob = await world.open('main');
      await signIn(alice, 'alice');
      await signIn(bob, 'bob');
      const asked = await requestAs('alice', {
        resourceId: 'prod-db',
        role: 'read',
        durationSeconds: 3600,
        reason: 'Month-end report',
      });
      await world.api.post(`/v1/requests/${asked.id}/approve`, await world.api.login('bob'), {});
      const { page } = alice;
      const card = page.getByRole('article', { name: ORDERS_READ });
      await card.getByText('Credential in your keychain.').waitFor();
      const grantId = alice.desktop.core.store.state.grants.find(
        (grant) => grant.resourceId === 'prod-db',
      )?.id;
      if (!grantId) throw new Error('alice has no prod-db grant');
      const endBefore = Date.parse(
        (await world.api.get<GrantView>(`/v1/grants/${grantId}`, await world.api.login('alice'))).body
          .expiresAt,
      );

      await card.getByRole('button', { name: `Extend ${ORDERS_READ}` }).click();
      const extend = page.getByRole('dialog', { name: `Extend ${ORDERS_READ}` });
      await extend.waitFor();
      await expect.poll(() => extend.getByRole('status').innerText()).toContain('Needs approval from bob.');
      await extend.getByRole('button', { name: '15 min', exact: true }).click();
      // The role wants a reason: without one, the dialog says so and sends nothing.
      await extend.getByRole('button', { name: 'Extend', exact: true }).click();
      await extend.getByText('Say why you need more time; approvers read this.').waitFor();
      expect(alice.wired.calls).not.toContain('extendGrant');
      await extend.getByLabel('Reason').fill('The report needs another pass');
      await extend.getByRole('button', { name: 'Extend', exact: true }).click();
      await page.getByText(`Extension requested for ${ORDERS_READ}: waiting for bob.`).waitFor();
      const waiting = page.getByRole('article', { name: `Extension of ${ORDERS_READ}` });
      await expect.poll(() => waiting.innerText()).toContain('More time on');
      expect(await waiting.innerText()).toContain('Waiting for approval');
      expect(await waiting.innerText()).toContain('Waiting for bob.');
      expect(await captureView(world, page, 'my-access-extension-pending')).toEqual([]);

      // Bob gives it from his inbox; the pending extension goes and the grant ends later.
      await bob.page.getByRole('button', { name: /Approvals/ }).click();
      const request = bob.page.getByRole('article', { name: /alice asks for Production database/ });
      await expect.poll(() => request.innerText()).toContain('Extension');
      await request.getByRole('button', { name: 'Approve' }).click();
      await expect.poll(() => waiting.count()).toBe(0);
      const extendedTo = new Date(endBefore + 15 * 60_000).toISOString();
      await expect.poll(() => card.locator('time').getAttribute('datetime')).toBe(extendedTo);
    },
  );

  it(
    'queues for a seat, gives the place up, and gets a seat when one frees up',
    {
      timeout: 180_000,
    },
    async () => {
      // Both seats taken before Alice looks (the catalog's seat counts come with each full load).
      const seats: RequestView[] = [];
      for (const user of ['bob', 'carol'])
        seats.push(
          await requestAs(user, {
            resourceId: 'design-suite',
            role: 'seat',
            durationSeconds: 3600,
            reason: '',
          }),
        );
      const alice = await world.open('main');
      await signIn(alice, 'alice');
      const { page } = alice;
      const askForASeat = async (position: number): Promise<void> => {
        await page
          .getByRole('navigation', { name: 'Timebox' })
          .getByRole('button', { name: 'Request access' })
          .click();
        const dialog = page.getByRole('dialog', { name: 'Request access' });
        await pickRole(page, 'cad', /CAD Studio seat/);
        await expect
          .poll(() => dialog.getByRole('status').innerText())
          .toContain(`All 2 seats in use: you will be queued (position ${String(position)}).`);
        await dialog.getByRole('button', { name: 'Get access' }).click();
      };
      await askForASeat(1);
      const queued = page.getByRole('article', { name: 'Request for CAD Studio · seat' });
      await queued.getByText('Queued · #1').waitFor();
      expect(await captureView(world, page, 'my-access-queued')).toEqual([]);

      // Dave queues behind her; Alice gives her place up, and Dave moves up to first in line.
      const daves = await requestAs('dave', {
        resourceId: 'design-suite',
        role: 'seat',
        durationSeconds: 3600,
        reason: '',
      });
      expect(daves.queuePosition).toBe(2);
      await queued.getByRole('button', { name: 'Cancel request for CAD Studio · seat' }).click();
      const confirm = page.getByRole('dialog', { name: 'Cancel your request for CAD Studio · seat?' });
      await confirm.getByText('You give up your place in the queue.').waitFor();
      expect(await page.locator(':focus').textContent()).toBe('Keep waiting');
      expect(await captureView(world, page, 'cancel-request-confirm')).toEqual([]);
      await confirm.getByRole('button', { name: 'Cancel request' }).click();
      await expect.poll(() => queued.count()).toBe(0);
      await page
        .getByRole('listitem')
        .filter({ hasText: 'Cancelled' })
        .filter({ hasText: 'CAD Studio' })
        .waitFor();
      const daveToken = await world.api.login('dave');
      const davesNow = await world.api.get<RequestView>(`/v1/requests/${daves.id}`, daveToken);
      expect(davesNow.body).toMatchObject({ status: 'queued', queuePosition: 1 });

      // Alice asks again and is second now; two seats free up, one for Dave, then one for her.
      await askForASeat(2);
      await queued.getByText('Queued · #2').waitFor();
      for (const seat of seats) {
        const owner = await world.api.login(seat.requesterId);
        await world.api.post(`/v1/grants/${seat.grantId ?? ''}/revoke`, owner, {});
      }
      const card = page.getByRole('article', { name: 'CAD Studio · seat' });
      await card.getByText('Credential in your keychain.').waitFor();
      expect(await queued.count()).toBe(0);
      const davesSeat = await world.api.get<RequestView>(`/v1/requests/${daves.id}`, daveToken);
      expect(davesSeat.body.status).toBe('approved');
    },
  );
});
