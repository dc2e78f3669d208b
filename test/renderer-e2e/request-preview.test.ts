import { describe, expect, it } from 'vitest';
import type { RequestView } from '../../api/schemas.js';
import { PREVIEW_PAUSE_MS } from '../../renderer/views/request/preview-pause.js';
import {
  HoursCondition,
  NetworksCondition,
  parseNetwork,
  type NetworkRange,
  type Policy,
} from '../../server/index.js';
import { keychainAvailable } from '../support/keychain.js';
import { organisationWithTotp } from '../support/totp-organisation.js';
import { captureView } from './support/look.js';
import { pickRole, signIn } from './support/people.js';
import { suiteWorld, type World } from './support/world.js';

/**
 * The demo organisation where prod-db/read may be asked for only in Berlin office hours and from the
 * office network, else it is refused. The world's clock starts on a Monday morning; the app talks to the
 * service from 127.0.0.1, outside 10.0.0.0/8.
 */
async function organisationWithConditions(): Promise<Policy> {
  const demo = await organisationWithTotp();
  const prod = demo.resources.get('prod-db');
  const read = prod?.roles.get('read');
  if (!prod || !read) throw new Error('the demo organisation has prod-db/read');
  const conditions = [
    new HoursCondition({
      tz: 'Europe/Berlin',
      days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      from: 480,
      to: 1140,
    }),
    new NetworksCondition([parseNetwork('10.0.0.0/8') as NetworkRange]),
  ];
  const roles = new Map(prod.roles).set('read', { ...read, conditions, otherwise: 'refuse' as const });
  return { ...demo, resources: new Map(demo.resources).set('prod-db', { ...prod, roles }) };
}

async function openDialogFor(world: World, search: string, option: RegExp) {
  const alice = await world.open('main');
  await signIn(alice, 'alice');
  const { page } = alice;
  await page
    .getByRole('navigation', { name: 'Timebox' })
    .getByRole('button', { name: 'Request access' })
    .click();
  await pickRole(page, search, option);
  return { page, dialog: page.getByRole('dialog', { name: 'Request access' }) };
}

describe.runIf(keychainAvailable)('the request preview, on the real core and service', () => {
  const world = suiteWorld({ organisation: organisationWithConditions });

  it(
    'tells, before sending, which condition fails and why, and which hold',
    { timeout: 180_000 },
    async () => {
      const { page, dialog } = await openDialogFor(world, 'read', /Production database \(orders\) read/);
      await dialog.getByRole('textbox', { name: 'Reason' }).fill('Look at order 4412');
      // The page's clock stands still: the pause in typing that asks the service has to be made to pass.
      await world.advance(PREVIEW_PAUSE_MS);
      const outside =
        'From 127.0.0.1, outside the allowed networks (10.0.0.0/8): connect from the office or the VPN.';
      await dialog.getByText('It would be refused: the role’s conditions are not all met.').waitFor();
      const conditions = dialog.getByRole('list', { name: 'Conditions' }).getByRole('listitem');
      expect(await conditions.allTextContents()).toEqual([
        expect.stringMatching(
          /^✓ Within working hours \(Mon–Fri 08:00–19:00 Europe\/Berlin\): it is Mon \d\d:\d\d there\.$/,
        ),
        `✗ ${outside}`,
      ]);
      expect(await captureView(world, page, 'request-dialog-preview-refused')).toEqual([]);
    },
  );

  it('tells that a request for the role is open already', { timeout: 180_000 }, async () => {
    const api = world.api;
    const open = await api.post<RequestView>('/v1/requests', await api.login('alice'), {
      resourceId: 'prod-db',
      role: 'write',
      durationSeconds: 1800,
      reason: 'Fix order 4411',
      ticket: 'OPS-1',
    });
    expect(open.status).toBe(201);
    const { dialog } = await openDialogFor(world, 'write', /Production database \(orders\) write/);
    await world.advance(PREVIEW_PAUSE_MS);
    await dialog
      .getByText(
        `You already have request ${open.body.id} open for prod-db/write; cancel it or wait for its decision.`,
      )
      .waitFor();
    await expect(dialog.getByRole('status').textContent()).resolves.toContain('It would be refused:');
  });
});
