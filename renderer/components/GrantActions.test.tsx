// @vitest-environment happy-dom
import { act, cleanup, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ResourceView } from '../../api/schemas.js';
import { appState, CATALOG, grant, NOW } from '../test-support/fixtures.js';
import { renderConnected } from '../test-support/render.js';
import { MyAccess } from '../views/access/MyAccess.js';
import { Popover } from '../views/popover/Popover.js';

const ANALYTICS: ResourceView = {
  id: 'analytics-db',
  name: 'Analytics database',
  kind: 'postgres',
  description: 'A real PostgreSQL login for each grant.',
  roles: [],
};
const LABEL = 'Analytics database · read';
const login = grant({
  id: 'grt_0000000000000000003a',
  resourceId: 'analytics-db',
  role: 'read',
  credentialKind: 'postgres',
});
const state = appState({ catalog: [...CATALOG, ANALYTICS], grants: [login] });

describe('the buttons of a grant whose credential is a database login', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
  });
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it('offer Copy connection URI and Open psql instead of Copy credential, each asking main by grant id', async () => {
    const { user, main, runtime } = renderConnected(<MyAccess />, state);
    main.answer('copyConnectionUri', () => ({ ok: true, value: { clearsAt: NOW + 30_000 } }));
    const card = screen.getByRole('article', { name: LABEL });
    expect(card.textContent).toContain('Database login in your keychain.');
    expect(within(card).queryByRole('button', { name: `Copy credential for ${LABEL}` })).toBeNull();

    await user.click(within(card).getByRole('button', { name: `Copy connection URI for ${LABEL}` }));
    expect(main.callsOf('copyConnectionUri')).toEqual([{ grantId: login.id }]);
    expect(runtime.store.getState().banner).toMatchObject({
      tone: 'success',
      text: 'Connection URI copied. Timebox clears it from the clipboard in 30 s.',
    });

    await user.click(within(card).getByRole('button', { name: `Open psql for ${LABEL}` }));
    expect(main.callsOf('openPsql')).toEqual([{ grantId: login.id }]);
    expect(runtime.store.getState().banner).toMatchObject({
      tone: 'success',
      text: `psql is opening in a terminal window, signed in to ${LABEL}.`,
    });
    // The window asked for actions, never for the secret itself.
    expect(main.callsOf('revealCredential')).toEqual([]);
    expect(main.callsOf('copyCredential')).toEqual([]);
  });

  it('say why psql could not open, with a way to try again', async () => {
    const { user, main, runtime } = renderConnected(<MyAccess />, state);
    const notInstalled = {
      code: 'psql_not_found',
      message: 'psql, PostgreSQL’s command-line client, is not installed (Timebox looked on your PATH).',
    };
    main.answer('openPsql', () => ({ ok: false, error: notInstalled }));
    await user.click(screen.getByRole('button', { name: `Open psql for ${LABEL}` }));
    const banner = runtime.store.getState().banner;
    expect(banner).toMatchObject({
      tone: 'error',
      text: notInstalled.message,
      action: { label: 'Try again' },
    });
    main.answer('openPsql', () => ({ ok: true, value: null }));
    await act(async () => {
      banner?.action?.run();
      await Promise.resolve();
    });
    expect(main.callsOf('openPsql')).toHaveLength(2);
  });

  it('show in the popover too; until the login is in the keychain there is only a disabled Copy credential', () => {
    renderConnected(
      <Popover />,
      appState({ ...state, grants: [{ ...login, credential: 'fetching', credentialKind: null }] }),
      {
        windowKind: 'popover',
      },
    );
    const card = screen.getByRole('article', { name: LABEL });
    expect(within(card).getByRole('button', { name: `Copy credential for ${LABEL}` })).toHaveProperty(
      'disabled',
      true,
    );
    expect(within(card).queryByRole('button', { name: `Open psql for ${LABEL}` })).toBeNull();
    cleanup();

    renderConnected(<Popover />, state, { windowKind: 'popover' });
    expect(screen.getByRole('button', { name: `Open psql for ${LABEL}` })).toBeTruthy();
    expect(screen.getByRole('button', { name: `Copy connection URI for ${LABEL}` })).toBeTruthy();
  });

  it('a signed token keeps its Copy credential, and no psql', () => {
    renderConnected(<MyAccess />, appState({ grants: [grant()] }));
    expect(
      screen.getByRole('button', { name: 'Copy credential for Sandbox cluster · operator' }),
    ).toBeTruthy();
    expect(screen.queryByRole('button', { name: /Open psql/ })).toBeNull();
    expect(screen.queryByRole('button', { name: /Copy connection URI/ })).toBeNull();
  });
});
