import type { AppState, GrantState } from '../../preload/contract.js';
import type { RequestView, ResourceView } from '../../api/schemas.js';
import { DEFAULT_SETTINGS } from '../../main/core/settings.js';

/** Plain values of the contract's shapes, for the pure parts of the core. */

export const NOW = Date.parse('2030-01-07T09:00:00.000Z');
export const iso = (ms: number): string => new Date(ms).toISOString();

let counter = 0;
/** A well-formed id: prefix, then 20 characters of the service's alphabet. */
export function fakeId(prefix: 'req' | 'grt'): string {
  counter += 1;
  return `${prefix}_${counter
    .toString(32)
    .replace(/[ilou]/g, 'x')
    .padStart(20, '0')}`;
}

export function grantState(overrides: Partial<GrantState> = {}): GrantState {
  const startsAt = NOW - 5 * 60_000;
  return {
    id: fakeId('grt'),
    requestId: fakeId('req'),
    userId: 'alice',
    resourceId: 'prod-db',
    role: 'read',
    status: 'active',
    startsAt: iso(startsAt),
    expiresAt: iso(NOW + 15 * 60_000),
    endedAt: null,
    endReason: null,
    maxExpiresAt: iso(startsAt + 4 * 3600_000),
    credential: 'stored',
    credentialError: null,
    credentialKind: 'token',
    ...overrides,
  };
}

export function requestView(overrides: Partial<RequestView> = {}): RequestView {
  return {
    id: fakeId('req'),
    requesterId: 'alice',
    resourceId: 'prod-db',
    role: 'read',
    kind: 'access',
    extendsGrantId: null,
    durationSeconds: 3600,
    reason: 'incident',
    ticket: null,
    status: 'pending',
    createdAt: iso(NOW - 60_000),
    updatedAt: iso(NOW - 60_000),
    expiresAt: iso(NOW + 4 * 3600_000),
    stage: null,
    decisions: [],
    waitingFor: ['bob'],
    grantId: null,
    queuePosition: null,
    lapseCause: null,
    outsideConditions: [],
    ...overrides,
  };
}

export const catalog: ResourceView[] = [
  {
    id: 'prod-db',
    name: 'Production database (orders)',
    kind: 'database',
    description: '',
    roles: [],
  },
];

export function appState(overrides: Partial<AppState> = {}): AppState {
  return {
    service: { url: 'https://timebox.example.com', embedded: false },
    session: {
      status: 'signed-in',
      user: { id: 'alice', username: 'alice', displayName: 'Alice Kim', groups: [], isAdmin: false },
      message: null,
    },
    connection: { status: 'live', retryAt: null, message: null },
    clockOffsetMs: 0,
    keychain: { available: true, locked: false, message: null },
    catalog,
    grants: [],
    requests: [],
    approvals: [],
    settings: DEFAULT_SETTINGS,
    notices: [],
    ...overrides,
  };
}
