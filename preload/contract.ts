import { z } from 'zod';
import type {
  AuthMethodsView,
  GrantView,
  RequestPreviewView,
  RequestView,
  ResourceView,
} from '../api/schemas.js';
import type { SeatPoolReportView } from '../api/admin-schemas.js';
import type { RecommendationView, RoleInsightView, SeatSeriesView } from '../api/insights-schemas.js';
import type { InvokeMethod } from './channels.js';

/**
 * The one IPC contract between main, preload and renderer. The renderer sees exactly `TimeboxApi`
 * (window.timebox); main registers one handler per method, and validates every argument against the
 * schemas below before any of our code runs. Secrets never cross except through `revealCredential`.
 */

// ── State, mirrored by the renderer ─────────────────────────────────────────────────────────────

export interface UserView {
  readonly id: string;
  readonly username: string;
  readonly displayName: string;
  readonly groups: readonly string[];
  readonly isAdmin: boolean;
}

/**
 * Where the keychain copy of a grant's credential stands. `kept`: the grant ended but the keychain refused
 * to remove its credential (locked, or gone); credentialError says why, and Timebox removes it as soon as
 * the keychain lets it.
 */
export type CredentialState = 'fetching' | 'stored' | 'failed' | 'wiped' | 'none' | 'kept';

export interface GrantState extends GrantView {
  readonly credential: CredentialState;
  /** Why the credential could not be fetched or stored, when it could not. */
  readonly credentialError: string | null;
  /**
   * The kind of the credential in the keychain (`postgres` for a database login, which offers Copy
   * connection URI and Open psql), never anything of its secret; null while none is stored.
   */
  readonly credentialKind: string | null;
}

export type SessionStatus = 'signed-out' | 'signing-in' | 'signed-in' | 'expired';
/** live: the event stream is open; polling: it is not, and the app asks every 15 s; offline: neither works. */
export type ConnectionStatus = 'idle' | 'connecting' | 'live' | 'polling' | 'offline';

export interface Settings {
  /** null: the embedded demo service. */
  readonly serviceUrl: string | null;
  readonly reminderLeadsSeconds: readonly number[];
  readonly doNotDisturb: boolean;
  readonly launchAtLogin: boolean;
}

export interface NoticeRecord {
  readonly id: string;
  readonly at: number;
  readonly title: string;
  readonly body: string;
  readonly target: NavigationTarget;
  /** false when do-not-disturb held it back from the desktop. */
  readonly shown: boolean;
}

export interface AppState {
  readonly service: { readonly url: string | null; readonly embedded: boolean };
  readonly session: {
    readonly status: SessionStatus;
    readonly user: UserView | null;
    readonly message: string | null;
  };
  readonly connection: {
    readonly status: ConnectionStatus;
    /** Local time of the next attempt to reach the service, while it is away. */
    readonly retryAt: number | null;
    readonly message: string | null;
  };
  /** Service time minus local time: add it to Date.now() for the service's now. */
  readonly clockOffsetMs: number;
  /** locked: the keychain is there but locked; Timebox waits for it to be unlocked and carries on. */
  readonly keychain: {
    readonly available: boolean;
    readonly locked: boolean;
    readonly message: string | null;
  };
  readonly catalog: readonly ResourceView[];
  /** My grants, active ones and the most recent ended ones. */
  readonly grants: readonly GrantState[];
  /** My requests, newest first. */
  readonly requests: readonly RequestView[];
  /** Requests I may decide now. */
  readonly approvals: readonly RequestView[];
  readonly settings: Settings;
  /** The latest notifications, newest first. */
  readonly notices: readonly NoticeRecord[];
}

/** The renderer's store takes the snapshot, then each change (whole top-level keys). */
export type StateUpdate =
  | { readonly kind: 'snapshot'; readonly state: AppState }
  | { readonly kind: 'change'; readonly changes: Partial<AppState> };

export type NavigationTarget =
  | { readonly view: 'popover' }
  | { readonly view: 'request'; readonly resourceId?: string; readonly role?: string }
  | { readonly view: 'approvals'; readonly requestId?: string }
  | { readonly view: 'access'; readonly grantId?: string; readonly requestId?: string }
  | { readonly view: 'extend'; readonly grantId: string }
  | { readonly view: 'settings' }
  | { readonly view: 'sign-in' };

// ── Calls ────────────────────────────────────────────────────────────────────────────────────────

const text = (max: number) => z.string().max(max);
const requestId = z.string().regex(/^req_[0-9a-hjkmnp-tv-z]{20}$/, { error: 'expected a request id' });
const grantId = z.string().regex(/^grt_[0-9a-hjkmnp-tv-z]{20}$/, { error: 'expected a grant id' });
const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: 'expected a resource or role name' });
const seconds = z
  .int()
  .positive()
  .max(366 * 86_400);
const none = z.strictObject({});
/** The periods the seat-pool report offers, each ending now. */
export const SEAT_POOL_PERIODS = ['24h', '7d', '30d'] as const;
export type SeatPoolPeriod = (typeof SEAT_POOL_PERIODS)[number];
/**
 * Made once per dialog (one intent to ask), sent as the Idempotency-Key header: a click repeated after a
 * lost answer gets the first answer, never a second request.
 */
const idempotencyKey = z.uuid({ error: 'expected a UUID made once per dialog' });

export const invokeArgs = {
  /** The renderer has subscribed: main sends the snapshot now. */
  rendererReady: none,
  /** Signs in; answers `otp-required` when the account has a second factor and no code was given. */
  signIn: z.strictObject({
    serviceUrl: z
      .url({ protocol: /^https?$/ })
      .nullable()
      .optional(),
    username: text(64).min(1),
    password: text(1024).min(1),
    otp: z
      .string()
      .regex(/^\d{6}$/)
      .optional(),
  }),
  /** How people sign in to the service in use: passwords, and the identity providers (one button each). */
  authMethods: none,
  /**
   * Signs in through an identity provider in the system browser (RFC 8252): main listens on a loopback
   * port and opens the browser; the answer comes when the person has signed in there, or failed.
   */
  signInWithProvider: z.strictObject({ provider: slug }),
  /** Signs out: ends the session on the service and wipes every stored credential. */
  signOut: none,
  /** Reloads everything from the service. */
  refresh: none,
  requestAccess: z.strictObject({
    resourceId: slug,
    role: slug,
    durationSeconds: seconds,
    reason: text(1000),
    ticket: text(200).optional(),
    idempotencyKey,
  }),
  /** What requestAccess would do with this input now: whether it passes, why not, who decides. */
  previewRequest: z.strictObject({
    resourceId: slug,
    role: slug,
    durationSeconds: seconds,
    reason: text(1000),
    ticket: text(200).optional(),
  }),
  approve: z.strictObject({ requestId, comment: text(1000).optional() }),
  deny: z.strictObject({ requestId, comment: text(1000).min(1) }),
  cancelRequest: z.strictObject({ requestId }),
  extendGrant: z.strictObject({ grantId, durationSeconds: seconds, reason: text(1000), idempotencyKey }),
  relinquishGrant: z.strictObject({ grantId }),
  /** Copies the credential (its token or password) to the clipboard in main; cleared after 30 s if unchanged. */
  copyCredential: z.strictObject({ grantId }),
  /** Copies a database login's connection URI the same way; refused for any other credential. */
  copyConnectionUri: z.strictObject({ grantId }),
  /** Opens a terminal running psql with the login in its environment (never on a command line). */
  openPsql: z.strictObject({ grantId }),
  /** The one way a secret reaches the renderer: the user asked to see it. */
  revealCredential: z.strictObject({ grantId }),
  /** How each licence seat pool was used over the period ending now (administrators). */
  seatPoolUtilization: z.strictObject({
    period: z.enum(SEAT_POOL_PERIODS, { error: 'expected 24h, 7d or 30d' }),
  }),
  /** Per-role figures, recommendations and each seat pool over time, for the period ending now (administrators). */
  insights: z.strictObject({
    period: z.enum(SEAT_POOL_PERIODS, { error: 'expected 24h, 7d or 30d' }),
  }),
  updateSettings: z.strictObject({
    serviceUrl: z
      .url({ protocol: /^https?$/ })
      .nullable()
      .optional(),
    reminderLeadsSeconds: z.array(z.int().min(10).max(86_400)).max(5).optional(),
    doNotDisturb: z.boolean().optional(),
    launchAtLogin: z.boolean().optional(),
  }),
  /** Asks the OS to unlock the keychain (Linux: the Secret Service's prompt); answers what happened. */
  unlockKeychain: none,
  /** Opens an https link from the allowlist in the system browser. */
  openExternal: z.strictObject({ url: z.url({ protocol: /^https$/ }) }),
} as const satisfies Record<InvokeMethod, z.ZodType>;

export type SignInOutcome =
  { readonly status: 'signed-in'; readonly user: UserView } | { readonly status: 'otp-required' };

/** The service's seat-pool report: the period it covers, and each pool's use over it. */
export interface SeatPoolUtilization {
  readonly from: string;
  readonly to: string;
  readonly items: readonly SeatPoolReportView[];
}

/** The Insights screen's figures over one period: the roles, the advice, and each seat pool over time. */
export interface InsightsReport {
  readonly from: string;
  readonly to: string;
  readonly roles: readonly RoleInsightView[];
  readonly recommendations: readonly RecommendationView[];
  readonly seats: readonly SeatSeriesView[];
}

export type ExtendOutcome =
  | { readonly kind: 'extended'; readonly grant: GrantView }
  | { readonly kind: 'needs-approval'; readonly request: RequestView };

/**
 * What asking the OS to unlock the keychain came to, as checked: `unlocked` only once the keychain says so;
 * `not-offered` where Timebox cannot ask (macOS and Windows ask by themselves when the keychain is used).
 */
export type KeychainUnlockOutcome =
  'unlocked' | 'dismissed' | 'timed-out' | 'no-prompt' | 'unavailable' | 'not-offered';
export interface KeychainUnlockResult {
  readonly outcome: KeychainUnlockOutcome;
  /** What to tell the person. */
  readonly message: string;
}

export interface InvokeResults {
  rendererReady: null;
  signIn: SignInOutcome;
  authMethods: AuthMethodsView;
  signInWithProvider: SignInOutcome;
  signOut: null;
  refresh: null;
  requestAccess: RequestView;
  previewRequest: RequestPreviewView;
  approve: RequestView;
  deny: RequestView;
  cancelRequest: RequestView;
  extendGrant: ExtendOutcome;
  relinquishGrant: GrantView;
  copyCredential: { readonly clearsAt: number };
  copyConnectionUri: { readonly clearsAt: number };
  openPsql: null;
  revealCredential: {
    readonly kind: string;
    readonly secret: Readonly<Record<string, unknown>>;
    readonly expiresAt: string;
  };
  seatPoolUtilization: SeatPoolUtilization;
  insights: InsightsReport;
  updateSettings: Settings;
  unlockKeychain: KeychainUnlockResult;
  openExternal: null;
}

/** Errors cross IPC as values: a code to branch on and a sentence to show. */
export interface IpcError {
  readonly code: string;
  readonly message: string;
}

export type IpcResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: IpcError };

export type InvokeArgs<Method extends InvokeMethod> = z.input<(typeof invokeArgs)[Method]>;

export type TimeboxApi = {
  readonly [Method in InvokeMethod]: (args: InvokeArgs<Method>) => Promise<IpcResult<InvokeResults[Method]>>;
} & {
  /** State updates: a snapshot, then changes. Returns the unsubscribe. */
  readonly onState: (listener: (update: StateUpdate) => void) => () => void;
  /** Requests from main to show a view. Returns the unsubscribe. */
  readonly onNavigate: (listener: (target: NavigationTarget) => void) => () => void;
};
