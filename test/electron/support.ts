import { vi } from 'vitest';
import type { GrantState } from '../../preload/contract.js';
import type { RequestView } from '../../api/schemas.js';
import { readStoredSettings, type SettingsStore, type StoredSettings } from '../../main/core/settings.js';
import { TimeboxCore } from '../../main/core/timebox.js';
import { ManualClock } from '../support/manual-clock.js';
import { memoryKeychain } from '../support/desktop.js';

export const GRANT_ID = 'grt_0123456789abcdefghjk';
export const REQUEST_ID = 'req_0123456789abcdefghjk';

export interface LogEntry {
  readonly level: 'info' | 'warn';
  readonly message: string;
  readonly details: object;
}

/** A CoreLogger that keeps what it is told. */
export function recordingLog(): {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  readonly entries: LogEntry[];
  warnings(): string[];
} {
  const entries: LogEntry[] = [];
  return {
    entries,
    info: (details, message) => entries.push({ level: 'info', message, details }),
    warn: (details, message) => entries.push({ level: 'warn', message, details }),
    warnings: () => entries.filter((entry) => entry.level === 'warn').map((entry) => entry.message),
  };
}

export function memorySettings(initial: Partial<StoredSettings> = {}): SettingsStore {
  let current = readStoredSettings(initial);
  return {
    read: () => current,
    write: (next) => {
      current = next;
    },
  };
}

/**
 * The real core over fakes: a manual clock, an in-memory keychain and settings, and a fetch that fails
 * (no test here should reach a service unless it passes its own).
 */
export function testCore(options: { clock?: ManualClock; fetch?: typeof fetch; serviceUrl?: string } = {}): {
  core: TimeboxCore;
  clock: ManualClock;
  log: ReturnType<typeof recordingLog>;
  fetch: ReturnType<typeof vi.fn<typeof fetch>>;
} {
  const clock = options.clock ?? new ManualClock();
  const log = recordingLog();
  const fakeFetch = vi.fn<typeof fetch>(() => Promise.reject(new Error('no service in this test')));
  const core = new TimeboxCore({
    clock,
    fetch: options.fetch ?? fakeFetch,
    keychain: memoryKeychain(),
    settings: memorySettings({ serviceUrl: options.serviceUrl ?? 'https://timebox.example.com' }),
    notifier: { show: () => undefined },
    log,
    random: () => 0.5,
  });
  return { core, clock, log, fetch: fakeFetch };
}

/** An active grant ending `msLeft` after `now` (service time = local time in these tests). */
export function activeGrant(now: number, msLeft: number, overrides: Partial<GrantState> = {}): GrantState {
  return {
    id: GRANT_ID,
    requestId: REQUEST_ID,
    userId: 'u-alice',
    resourceId: 'prod-db',
    role: 'read',
    status: 'active',
    startsAt: new Date(now - 60_000).toISOString(),
    expiresAt: new Date(now + msLeft).toISOString(),
    endedAt: null,
    endReason: null,
    maxExpiresAt: new Date(now + 8 * 3_600_000).toISOString(),
    credential: 'stored',
    credentialError: null,
    credentialKind: 'token',
    ...overrides,
  };
}

export const signedInSession = {
  status: 'signed-in',
  user: { id: 'u-alice', username: 'alice', displayName: 'Alice', groups: ['engineers'], isAdmin: false },
  message: null,
} as const;

/** A request waiting for an approver. */
export function pendingRequest(now: number): RequestView {
  return {
    id: REQUEST_ID,
    requesterId: 'u-dave',
    resourceId: 'prod-db',
    role: 'read',
    kind: 'access',
    extendsGrantId: null,
    durationSeconds: 3600,
    reason: 'incident 42',
    ticket: null,
    status: 'pending',
    createdAt: new Date(now).toISOString(),
    updatedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 3_600_000).toISOString(),
    stage: null,
    decisions: [],
    waitingFor: ['u-alice'],
    grantId: null,
    queuePosition: null,
    lapseCause: null,
    outsideConditions: [],
  };
}
