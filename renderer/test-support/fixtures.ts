import type { AppState, GrantState } from '../../preload/contract.js';
import type { RequestView, ResourceView } from '../../api/schemas.js';

/** Service time in the component tests: a Monday morning. */
export const NOW = Date.parse('2030-01-07T09:00:00.000Z');

type Role = ResourceView['roles'][number];

function role(name: string, overrides: Partial<Role>): Role {
  return {
    name,
    description: `${name} role`,
    minDurationSeconds: 60,
    maxDurationSeconds: 4 * 3600,
    defaultDurationSeconds: 3600,
    reasonRequired: true,
    ticketPattern: null,
    approval: { mode: 'auto', summary: 'Granted at once.', stages: [], allowSelfApproval: false },
    seats: null,
    canRequest: true,
    pendingTimeoutSeconds: 4 * 3600,
    ...overrides,
  };
}

const stage = (name: string, approvers: string[], count = 1) => ({
  name,
  count,
  approvers,
  escalation: null,
});

/** The demo organisation's catalog, as alice sees it. */
export const CATALOG: ResourceView[] = [
  {
    id: 'sandbox',
    name: 'Sandbox cluster',
    kind: 'kubernetes',
    description: 'A throwaway cluster.',
    roles: [
      role('operator', {
        minDurationSeconds: 10,
        defaultDurationSeconds: 300,
        maxDurationSeconds: 3600,
        reasonRequired: false,
      }),
    ],
  },
  {
    id: 'prod-db',
    name: 'Production database (orders)',
    kind: 'database',
    description: 'The orders database.',
    roles: [
      role('read', {
        approval: {
          mode: 'any',
          summary: 'Needs approval from Bob Martin.',
          stages: [stage('Approval', ['bob'])],
          allowSelfApproval: false,
        },
      }),
      role('write', {
        defaultDurationSeconds: 1800,
        maxDurationSeconds: 7200,
        ticketPattern: 'OPS-[0-9]+',
        approval: {
          mode: 'any',
          summary: 'Needs approval from Bob Martin.',
          stages: [stage('Approval', ['bob'])],
          allowSelfApproval: false,
        },
      }),
      role('owner', {
        minDurationSeconds: 300,
        defaultDurationSeconds: 1800,
        maxDurationSeconds: 3600,
        ticketPattern: 'CHG-[0-9]+',
        approval: {
          mode: 'quorum',
          summary: '',
          stages: [stage('Approval', ['bob', 'carol'], 2)],
          allowSelfApproval: false,
        },
      }),
    ],
  },
  {
    id: 'cloud-admin',
    name: 'AWS production account',
    kind: 'cloud-role',
    description: 'AdministratorAccess.',
    roles: [
      role('administrator', {
        minDurationSeconds: 300,
        ticketPattern: '(INC|CHG)-[0-9]+',
        approval: {
          mode: 'chain',
          summary: '',
          stages: [stage('Team lead', ['bob']), stage('Security', ['carol'])],
          allowSelfApproval: false,
        },
      }),
    ],
  },
  {
    id: 'design-suite',
    name: 'CAD Studio',
    kind: 'license',
    description: 'Two seats.',
    roles: [
      role('seat', {
        minDurationSeconds: 10,
        defaultDurationSeconds: 7200,
        maxDurationSeconds: 8 * 3600,
        reasonRequired: false,
        seats: { total: 2, inUse: 2, queued: 2 },
      }),
    ],
  },
];

export function appState(overrides: Partial<AppState> = {}): AppState {
  return {
    service: { url: 'http://127.0.0.1:8080', embedded: false },
    session: {
      status: 'signed-in',
      user: {
        id: 'alice',
        username: 'alice',
        displayName: 'Alice Kim',
        groups: ['engineers'],
        isAdmin: false,
      },
      message: null,
    },
    connection: { status: 'live', retryAt: null, message: null },
    clockOffsetMs: 0,
    keychain: { available: true, locked: false, message: null },
    catalog: CATALOG,
    grants: [],
    requests: [],
    approvals: [],
    settings: {
      serviceUrl: 'http://127.0.0.1:8080',
      reminderLeadsSeconds: [600, 60],
      doNotDisturb: false,
      launchAtLogin: false,
    },
    notices: [],
    ...overrides,
  };
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function grant(overrides: Partial<GrantState> = {}): GrantState {
  return {
    id: 'grt_0000000000000000000a',
    requestId: 'req_0000000000000000000a',
    userId: 'alice',
    resourceId: 'sandbox',
    role: 'operator',
    status: 'active',
    startsAt: iso(NOW),
    expiresAt: iso(NOW + 30 * 60_000),
    endedAt: null,
    endReason: null,
    maxExpiresAt: iso(NOW + 3600_000),
    credential: 'stored',
    credentialError: null,
    credentialKind: 'token',
    ...overrides,
  };
}

export function request(overrides: Partial<RequestView> = {}): RequestView {
  return {
    id: 'req_0000000000000000000b',
    requesterId: 'dave',
    resourceId: 'prod-db',
    role: 'read',
    kind: 'access',
    extendsGrantId: null,
    durationSeconds: 3600,
    reason: 'Debug order 4411',
    ticket: null,
    status: 'pending',
    createdAt: iso(NOW),
    updatedAt: iso(NOW),
    expiresAt: iso(NOW + 4 * 3600_000),
    stage: { index: 0, total: 1, name: 'Approval', escalated: false, approvalsNeeded: 1, approvalsGiven: 0 },
    decisions: [],
    waitingFor: ['bob'],
    grantId: null,
    queuePosition: null,
    lapseCause: null,
    outsideConditions: [],
    ...overrides,
  };
}
