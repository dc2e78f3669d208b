import { describe, expect, it } from 'vitest';
import type { RequestView } from '../../api/schemas.js';
import type { Policy } from '../../server/index.js';
import { keychainAvailable } from '../support/keychain.js';
import { organisationWithTotp } from '../support/totp-organisation.js';
import { captureView } from './support/look.js';
import { pickRole, signIn } from './support/people.js';
import { suiteWorld } from './support/world.js';

/**
 * The demo organisation with two rules nobody can always finish: prod-db/write needs 2 approvals from the
 * team leads, and bob is the only one; prod-db/read is a chain whose second stage is carol alone, who
 * may also approve the first.
 */
async function organisationWithStuckRules(): Promise<Policy> {
  const demo = await organisationWithTotp();
  const prod = demo.resources.get('prod-db');
  const read = prod?.roles.get('read');
  const write = prod?.roles.get('write');
  if (!prod || !read || !write) throw new Error('the demo organisation has prod-db/read and write');
  const stage = (name: string, users: string[], count = 1) => ({
    name,
    approvers: { groups: [], users },
    count,
    escalation: null,
  });
  const roles = new Map(prod.roles)
    .set('write', { ...write, approval: { mode: 'quorum', stages: [stage('approval', ['bob'], 2)] } })
    .set('read', {
      ...read,
      approval: {
        mode: 'chain',
        stages: [stage('Team lead', ['bob', 'carol']), stage('Security', ['carol'])],
      },
    });
  return { ...demo, resources: new Map(demo.resources).set('prod-db', { ...prod, roles }) };
}

describe.runIf(keychainAvailable)('approvals nobody can finish, on the real core and service', () => {
  const world = suiteWorld({ organisation: organisationWithStuckRules });

  it(
    'says so in the request dialog, and lets an administrator decide a stage nobody else can',
    { timeout: 180_000 },
    async () => {
      const alice = await world.open('main');
      await signIn(alice, 'alice');
      const { page } = alice;
      await page
        .getByRole('navigation', { name: 'Timebox' })
        .getByRole('button', { name: 'Request access' })
        .click();
      const dialog = page.getByRole('dialog', { name: 'Request access' });
      await pickRole(page, 'write', /Production database \(orders\) write/);
      await dialog
        .getByText(
          'Nobody can approve this: it needs 2 approvals from distinct people and 1 is eligible. Ask a Timebox administrator to add approvers.',
        )
        .waitFor();
      expect(await captureView(world, page, 'request-dialog-no-approver')).toEqual([]);

      const api = world.api;
      const asked = await api.post<RequestView>('/v1/requests', await api.login('dave'), {
        resourceId: 'prod-db',
        role: 'read',
        durationSeconds: 3600,
        reason: 'Debug order 4411',
      });
      expect(asked.status).toBe(201);
      const stuck = await api.post<RequestView>(
        `/v1/requests/${asked.body.id}/approve`,
        await api.login('carol'),
        {},
      );
      expect(stuck.body.waitingFor).toEqual(['admin']);

      const admin = await world.open('main');
      await signIn(admin, 'admin');
      await admin.page.getByRole('button', { name: /Approvals/ }).click();
      const card = admin.page.getByRole('article', {
        name: /dave asks for Production database \(orders\) · read/,
      });
      await card
        .getByText(
          'Nobody the policy names can complete this stage any more; as an administrator, your approval completes it.',
        )
        .waitFor();
      expect(await captureView(world, admin.page, 'approvals-administrator-override')).toEqual([]);
      await card.getByRole('button', { name: 'Approve' }).click();
      await admin.page.getByText('Nothing waits for you').waitFor();
    },
  );
});
