import type { AppState, GrantState, NavigationTarget } from '../../preload/contract.js';
import { POSTGRES_KIND } from '../../api/credential-kinds.js';

export type TrayIcon = 'idle' | 'active' | 'attention';

export type TrayCommand =
  | { readonly kind: 'open'; readonly target: NavigationTarget }
  | { readonly kind: 'copy'; readonly grantId: string }
  | { readonly kind: 'copy-uri'; readonly grantId: string }
  | { readonly kind: 'psql'; readonly grantId: string }
  | { readonly kind: 'relinquish'; readonly grantId: string }
  /** Asks the OS to unlock the keychain (offered only while it is locked, which only Linux reports). */
  | { readonly kind: 'unlock-keychain' }
  | { readonly kind: 'quit' };

export type TrayMenuItem =
  | { readonly kind: 'separator' }
  | {
      readonly kind: 'item';
      readonly label: string;
      readonly enabled: boolean;
      readonly command?: TrayCommand;
    }
  | { readonly kind: 'submenu'; readonly label: string; readonly items: readonly TrayMenuItem[] };

export interface TrayModel {
  readonly icon: TrayIcon;
  readonly tooltip: string;
  readonly menu: readonly TrayMenuItem[];
}

/** A grant this close to its end makes the icon ask for attention. */
const ATTENTION_WITHIN_MS = 60_000;
const separator: TrayMenuItem = { kind: 'separator' };
const item = (label: string, command?: TrayCommand, enabled = true): TrayMenuItem => ({
  kind: 'item',
  label,
  enabled,
  ...(command ? { command } : {}),
});

/** "45 s", "12 min", "2 h 05 min": how a person reads time left at a glance. */
export function timeLeft(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** The resource's name and the role, as the tray and notifications show a grant. */
export function grantLabel(
  state: Pick<AppState, 'catalog'>,
  grant: Pick<GrantState, 'resourceId' | 'role'>,
): string {
  const name = state.catalog.find((resource) => resource.id === grant.resourceId)?.name ?? grant.resourceId;
  return `${name} · ${grant.role}`;
}

/** What a grant's credential offers: a database login connects; anything else is copied as it is. */
function credentialItems(grant: GrantState): TrayMenuItem[] {
  const stored = grant.credential === 'stored';
  return grant.credentialKind === POSTGRES_KIND && stored
    ? [
        item('Copy connection URI', { kind: 'copy-uri', grantId: grant.id }),
        item('Open psql', { kind: 'psql', grantId: grant.id }),
      ]
    : [item('Copy credential', { kind: 'copy', grantId: grant.id }, stored)];
}

/**
 * What the tray shows, from the state and the local time: the icon, the tooltip with the nearest expiry,
 * and the context menu. It is always a menu: a tray click is unreliable on Linux
 * (https://github.com/electron/electron/issues/21008), so everything is reachable from it.
 */
export function trayModel(state: AppState, localNow: number): TrayModel {
  const serviceNow = localNow + state.clockOffsetMs;
  const active = state.grants
    .filter((grant) => grant.status === 'active' && Date.parse(grant.expiresAt) > serviceNow)
    .sort((a, b) => Date.parse(a.expiresAt) - Date.parse(b.expiresAt));
  const signedIn = state.session.status === 'signed-in';
  const waiting = state.approvals.length;
  const nearest = active[0];
  const endingSoon =
    nearest !== undefined && Date.parse(nearest.expiresAt) - serviceNow <= ATTENTION_WITHIN_MS;
  const needsSignIn = state.session.status === 'expired';

  let tooltip: string;
  if (!signedIn) tooltip = needsSignIn ? 'Timebox: sign in again' : 'Timebox: signed out';
  else if (nearest) {
    const ends = new Date(Date.parse(nearest.expiresAt) - state.clockOffsetMs).toLocaleTimeString([], {
      hour: '2-digit',
      minute: '2-digit',
    });
    tooltip = `Timebox: ${grantLabel(state, nearest)} ends in ${timeLeft(Date.parse(nearest.expiresAt) - serviceNow)} (${ends})${active.length > 1 ? `, ${active.length - 1} more active` : ''}`;
  } else tooltip = 'Timebox: no active access';
  if (signedIn && waiting > 0)
    tooltip += `; ${waiting} ${waiting === 1 ? 'approval waits' : 'approvals wait'}`;
  const keychain = keychainItems(state);
  if (keychain.tooltip) tooltip += `; ${keychain.tooltip}`;

  const grants: TrayMenuItem[] =
    active.length === 0
      ? [item('No active access', undefined, false)]
      : active.map((grant) => ({
          kind: 'submenu',
          label: `${grantLabel(state, grant)}: ${timeLeft(Date.parse(grant.expiresAt) - serviceNow)} left`,
          items: [
            ...credentialItems(grant),
            item('Extend…', { kind: 'open', target: { view: 'extend', grantId: grant.id } }),
            item('Relinquish', { kind: 'relinquish', grantId: grant.id }),
          ],
        }));

  const menu: TrayMenuItem[] = signedIn
    ? [
        ...keychain.items,
        item('Request access…', { kind: 'open', target: { view: 'request' } }),
        separator,
        ...grants,
        separator,
        item(`Approvals (${waiting})`, { kind: 'open', target: { view: 'approvals' } }),
        item('Open Timebox', { kind: 'open', target: { view: 'access' } }),
        item('Settings', { kind: 'open', target: { view: 'settings' } }),
        separator,
        item('Quit Timebox', { kind: 'quit' }),
      ]
    : [
        ...keychain.items,
        item(needsSignIn ? 'Sign in again…' : 'Sign in…', { kind: 'open', target: { view: 'sign-in' } }),
        ...(active.length > 0 ? [separator, ...grants] : []),
        separator,
        item('Settings', { kind: 'open', target: { view: 'settings' } }),
        item('Quit Timebox', { kind: 'quit' }),
      ];

  const icon: TrayIcon =
    (signedIn && waiting > 0) || endingSoon || needsSignIn || keychain.items.length > 0
      ? 'attention'
      : active.length > 0
        ? 'active'
        : 'idle';
  return { icon, tooltip, menu };
}

/**
 * A keychain that refuses (locked, or gone) and the credentials of ended grants it still holds: said at
 * the top of the menu and in the tooltip, because what the app says was removed must be true.
 */
function keychainItems(state: AppState): { tooltip: string | null; items: TrayMenuItem[] } {
  const kept = state.grants.filter((grant) => grant.credential === 'kept').length;
  const problem = state.keychain.available
    ? null
    : state.keychain.locked
      ? 'keychain locked'
      : 'keychain unavailable';
  const leftovers =
    kept === 0
      ? null
      : `${kept} ended ${kept === 1 ? 'grant’s credential' : 'grants’ credentials'} still in the keychain`;
  const tooltip = [problem, leftovers].filter((part) => part !== null).join(', ');
  const items: TrayMenuItem[] = [
    ...(problem
      ? [
          item(
            state.keychain.locked ? 'Keychain locked: unlock it to go on' : 'Keychain unavailable',
            undefined,
            false,
          ),
          ...(state.keychain.locked ? [item('Unlock keychain…', { kind: 'unlock-keychain' })] : []),
        ]
      : []),
    ...(leftovers
      ? [
          item(leftovers, {
            kind: 'open',
            target: { view: 'access' },
          }),
        ]
      : []),
  ];
  return { tooltip: tooltip === '' ? null : tooltip, items: items.length > 0 ? [...items, separator] : [] };
}
