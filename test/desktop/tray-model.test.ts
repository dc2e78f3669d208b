import { describe, expect, it } from 'vitest';
import { timeLeft, trayModel, type TrayMenuItem } from '../../main/core/tray-model.js';
import type { CredentialState } from '../../preload/contract.js';
import { appState, grantState, iso, NOW, requestView } from './fixtures.js';

const clockTime = (ms: number) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

/** The menu as labels, submenus indented, disabled items marked: easy to read in a failure. */
function outline(items: readonly TrayMenuItem[], depth = 0): string[] {
  return items.flatMap((item) => {
    const pad = '  '.repeat(depth);
    if (item.kind === 'separator') return [`${pad}---`];
    if (item.kind === 'submenu') return [`${pad}${item.label} >`, ...outline(item.items, depth + 1)];
    return [`${pad}${item.label}${item.enabled ? '' : ' (disabled)'}`];
  });
}

function submenus(items: readonly TrayMenuItem[]) {
  return items.flatMap((item) => (item.kind === 'submenu' ? [item] : []));
}

function find(items: readonly TrayMenuItem[], label: string) {
  const found = items.find((item) => item.kind === 'item' && item.label === label);
  if (found?.kind !== 'item') throw new Error(`no menu item "${label}" in ${outline(items).join(' | ')}`);
  return found;
}

describe('the tray model', () => {
  it('signed out: idle, says so, and offers sign-in, settings and quit', () => {
    const model = trayModel(appState({ session: { status: 'signed-out', user: null, message: null } }), NOW);
    expect(model.icon).toBe('idle');
    expect(model.tooltip).toBe('Timebox: signed out');
    expect(outline(model.menu)).toEqual(['Sign in…', '---', 'Settings', 'Quit Timebox']);
    expect(find(model.menu, 'Sign in…').command).toEqual({ kind: 'open', target: { view: 'sign-in' } });
    expect(find(model.menu, 'Quit Timebox').command).toEqual({ kind: 'quit' });
  });

  it('signed in with nothing active: idle, and the full menu with its commands', () => {
    const model = trayModel(appState(), NOW);
    expect(model.icon).toBe('idle');
    expect(model.tooltip).toBe('Timebox: no active access');
    expect(outline(model.menu)).toEqual([
      'Request access…',
      '---',
      'No active access (disabled)',
      '---',
      'Approvals (0)',
      'Open Timebox',
      'Settings',
      '---',
      'Quit Timebox',
    ]);
    expect(find(model.menu, 'Request access…').command).toEqual({
      kind: 'open',
      target: { view: 'request' },
    });
    expect(find(model.menu, 'Approvals (0)').command).toEqual({
      kind: 'open',
      target: { view: 'approvals' },
    });
    expect(find(model.menu, 'Open Timebox').command).toEqual({ kind: 'open', target: { view: 'access' } });
    expect(find(model.menu, 'Settings').command).toEqual({ kind: 'open', target: { view: 'settings' } });
  });

  it('active grants: each with its time left and its commands, nearest first; the tooltip names the nearest', () => {
    const later = grantState({
      resourceId: 'sandbox',
      role: 'operator',
      expiresAt: iso(NOW + 2 * 3600_000 + 5 * 60_000),
    });
    const nearest = grantState({ expiresAt: iso(NOW + 12 * 60_000 - 500) });
    const ended = grantState({ status: 'expired', endReason: 'expired', expiresAt: iso(NOW - 1000) });
    const model = trayModel(appState({ grants: [later, ended, nearest] }), NOW);
    expect(model.icon).toBe('active');
    expect(model.tooltip).toBe(
      `Timebox: Production database (orders) · read ends in 12 min (${clockTime(NOW + 12 * 60_000 - 500)}), 1 more active`,
    );
    expect(outline(model.menu).slice(2, 10)).toEqual([
      'Production database (orders) · read: 12 min left >',
      '  Copy credential',
      '  Extend…',
      '  Relinquish',
      'sandbox · operator: 2 h 05 min left >',
      '  Copy credential',
      '  Extend…',
      '  Relinquish',
    ]);
    const [first] = submenus(model.menu);
    expect(first?.items).toEqual([
      {
        kind: 'item',
        label: 'Copy credential',
        enabled: true,
        command: { kind: 'copy', grantId: nearest.id },
      },
      {
        kind: 'item',
        label: 'Extend…',
        enabled: true,
        command: { kind: 'open', target: { view: 'extend', grantId: nearest.id } },
      },
      {
        kind: 'item',
        label: 'Relinquish',
        enabled: true,
        command: { kind: 'relinquish', grantId: nearest.id },
      },
    ]);
  });

  it.each<CredentialState>(['fetching', 'failed', 'none', 'wiped'])(
    'Copy credential is disabled while the credential is %s',
    (credential) => {
      const model = trayModel(appState({ grants: [grantState({ credential })] }), NOW);
      const [grant] = submenus(model.menu);
      expect(grant && find(grant.items, 'Copy credential').enabled).toBe(false);
      expect(grant && find(grant.items, 'Relinquish').enabled).toBe(true);
    },
  );

  it('asks for attention when approvals wait, and counts them in the tooltip and the menu', () => {
    const one = trayModel(appState({ approvals: [requestView()] }), NOW);
    expect(one.icon).toBe('attention');
    expect(one.tooltip).toBe('Timebox: no active access; 1 approval waits');
    const grant = grantState({ expiresAt: iso(NOW + 30 * 60_000) });
    const two = trayModel(appState({ approvals: [requestView(), requestView()], grants: [grant] }), NOW);
    expect(two.icon).toBe('attention');
    expect(two.tooltip).toBe(
      `Timebox: Production database (orders) · read ends in 30 min (${clockTime(NOW + 30 * 60_000)}); 2 approvals wait`,
    );
    expect(outline(two.menu)).toContain('Approvals (2)');
  });

  it('asks for attention in the last minute of a grant, not before', () => {
    const grant = grantState({ expiresAt: iso(NOW + 60_000) });
    expect(trayModel(appState({ grants: [grant] }), NOW - 1).icon).toBe('active');
    expect(trayModel(appState({ grants: [grant] }), NOW).icon).toBe('attention');
    expect(trayModel(appState({ grants: [grant] }), NOW).tooltip).toContain('ends in 1 min');
    // At its expiry it is gone from the tray, whatever the service has said yet.
    const after = trayModel(appState({ grants: [grant] }), NOW + 60_000);
    expect(after.icon).toBe('idle');
    expect(outline(after.menu)).toContain('No active access (disabled)');
  });

  it('counts time on the service’s clock: with the service 90 s ahead, a grant ends 90 s earlier here', () => {
    const grant = grantState({ expiresAt: iso(NOW + 10 * 60_000) });
    const model = trayModel(appState({ grants: [grant], clockOffsetMs: 90_000 }), NOW);
    expect(model.tooltip).toBe(
      `Timebox: Production database (orders) · read ends in 9 min (${clockTime(NOW + 10 * 60_000 - 90_000)})`,
    );
    expect(trayModel(appState({ grants: [grant], clockOffsetMs: 90_000 }), NOW + 510_000).icon).toBe('idle');
  });

  it('after the session expired: asks to sign in again, and still lists the grants that keep credentials', () => {
    const grant = grantState();
    const model = trayModel(
      appState({
        session: { status: 'expired', user: null, message: 'Your session has ended.' },
        grants: [grant],
        approvals: [requestView()],
      }),
      NOW,
    );
    expect(model.icon).toBe('attention');
    expect(model.tooltip).toBe('Timebox: sign in again'); // no approvals count: they cannot be decided now
    expect(outline(model.menu)).toEqual([
      'Sign in again…',
      '---',
      'Production database (orders) · read: 15 min left >',
      '  Copy credential',
      '  Extend…',
      '  Relinquish',
      '---',
      'Settings',
      'Quit Timebox',
    ]);
    expect(find(model.menu, 'Sign in again…').command).toEqual({ kind: 'open', target: { view: 'sign-in' } });
  });

  it('a database login offers Copy connection URI and Open psql in place of Copy credential, once it is kept', () => {
    const login = grantState({ credentialKind: 'postgres', expiresAt: iso(NOW + 30 * 60_000) });
    const token = grantState({ resourceId: 'sandbox', role: 'operator', expiresAt: iso(NOW + 40 * 60_000) });
    const model = trayModel(appState({ grants: [login, token] }), NOW);
    expect(outline(model.menu).slice(2, 11)).toEqual([
      'Production database (orders) · read: 30 min left >',
      '  Copy connection URI',
      '  Open psql',
      '  Extend…',
      '  Relinquish',
      'sandbox · operator: 40 min left >',
      '  Copy credential',
      '  Extend…',
      '  Relinquish',
    ]);
    const [first] = submenus(model.menu);
    expect(first && find(first.items, 'Copy connection URI').command).toEqual({
      kind: 'copy-uri',
      grantId: login.id,
    });
    expect(first && find(first.items, 'Open psql').command).toEqual({ kind: 'psql', grantId: login.id });

    // Until the login is in the keychain (fetching, or failed), there is nothing to connect with yet.
    for (const credential of ['fetching', 'failed', 'none'] as const) {
      const waiting = trayModel(appState({ grants: [{ ...login, credential, credentialKind: null }] }), NOW);
      const [grant] = submenus(waiting.menu);
      expect(grant && outline(grant.items)).toEqual(['Copy credential (disabled)', 'Extend…', 'Relinquish']);
    }
  });

  it('a locked keychain and an ended grant’s credential it kept: said first, in the tooltip, with attention', () => {
    const model = trayModel(
      appState({
        keychain: { available: false, locked: true, message: 'Your keychain is locked.' },
        grants: [
          grantState({ id: 'grt_ended', status: 'expired', expiresAt: iso(NOW - 1000), credential: 'kept' }),
        ],
      }),
      NOW,
    );
    expect(model.icon).toBe('attention');
    expect(model.tooltip).toBe(
      'Timebox: no active access; keychain locked, 1 ended grant’s credential still in the keychain',
    );
    expect(outline(model.menu).slice(0, 4)).toEqual([
      'Keychain locked: unlock it to go on (disabled)',
      'Unlock keychain…',
      '1 ended grant’s credential still in the keychain',
      '---',
    ]);
    expect(find(model.menu, 'Unlock keychain…').command).toEqual({ kind: 'unlock-keychain' });
    expect(find(model.menu, '1 ended grant’s credential still in the keychain').command).toEqual({
      kind: 'open',
      target: { view: 'access' },
    });
    const gone = trayModel(appState({ keychain: { available: false, locked: false, message: 'gone' } }), NOW);
    expect(outline(gone.menu)[0]).toBe('Keychain unavailable (disabled)');
    // Nothing to unlock: a keychain that is gone is not offered the unlock.
    expect(outline(gone.menu)).not.toContain('Unlock keychain…');
    expect(gone.tooltip).toBe('Timebox: no active access; keychain unavailable');
  });

  it('reads time left as a person does', () => {
    expect(
      [
        -5000,
        0,
        1,
        44_001,
        59_000,
        59_001,
        60_000,
        61_000,
        59 * 60_000,
        3600_000,
        2 * 3600_000 + 5 * 60_000,
      ].map(timeLeft),
    ).toEqual([
      '0 s',
      '0 s',
      '1 s',
      '45 s',
      '59 s',
      '1 min',
      '1 min',
      '2 min',
      '59 min',
      '1 h 00 min',
      '2 h 05 min',
    ]);
  });
});
