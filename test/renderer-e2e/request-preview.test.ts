import { describe, expect, it } from 'vitest';
import type { RequestView } from '../../api/schemas.js';
import { PREVIEW_PAUSE_MS } from '../../renderer/views/request/preview-pause.js';
import { keychainAvailable } from '../support/keychain.js';
import { captureView } from './support/look.js';
import { pickRole, signIn } from './support/people.js';
import { suiteWorld } from './support/world.js';

describe.runIf(keychainAvailable)('the request preview, on the real core and service', () => {
  const world = suiteWorld();

  it('tells, before sending, that the request would be refused and why', { timeout: 180_000 }, async () => {
    const api = world.api;
    const open = await api.post<RequestView>('/v1/requests', await api.login('alice'), {
      resourceId: 'prod-db',
      role: 'read',
      durationSeconds: 3600,
      reason: 'Debug order 4411',
    });
    expect(open.status).toBe(201);

    const alice = await world.open('main');
    await signIn(alice, 'alice');
    const { page } = alice;
    await page
      .getByRole('navigation', { name: 'Timebox' })
      .getByRole('button', { name: 'Request access' })
      .click();
    const dialog = page.getByRole('dialog', { name: 'Request access' });
    await pickRole(page, 'read', /Production database \(orders\) read/);
    await dialog.getByRole('textbox', { name: 'Reason' }).fill('Look at order 4412');
    // The page's clock stands still: the pause in typing that asks the service has to be made to pass.
    await world.advance(PREVIEW_PAUSE_MS);
    await dialog
      .getByText(
        `You already have request ${open.body.id} open for prod-db/read; cancel it or wait for its decision.`,
      )
      .waitFor();
    await expect(dialog.getByRole('status').textContent()).resolves.toContain('It would be refused:');
    expect(await captureView(world, page, 'request-dialog-preview-refused')).toEqual([]);
  });
});
