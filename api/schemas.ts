import { z } from 'zod';
import { id, isoTime, shortText } from './wire.js';

/**
 * The wire shapes of `../shared/grant-api.md`, in one place. Bodies are strict: an unknown field is a 400,
 * never silently dropped. Registered ids become `components.schemas` in /openapi.json.
 */

export const errorBody = z
  .object({
    error: z.object({
      code: z
        .string()
        .describe(
          'stable snake_case code; database_unavailable (503, with Retry-After) while the service cannot reach its database',
        ),
      message: z.string().describe('a sentence a person can act on'),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({ id: 'Error' });

export const userView = z
  .object({
    id: z.string(),
    username: z.string(),
    displayName: z.string(),
    groups: z.array(z.string()),
    isAdmin: z.boolean(),
  })
  .meta({ id: 'User' });

export const loginBody = z.strictObject({
  username: shortText(64).min(1),
  password: shortText(1024).min(1),
  otp: z
    .string()
    .regex(/^\d{6}$/, { error: 'expected the 6-digit code from your authenticator app' })
    .optional(),
});

export const loginResponse = z
  .object({ token: z.string(), expiresAt: isoTime, user: userView })
  .meta({ id: 'Session' });

/** `GET /v1/me`: the user and how this session was signed in. */
export const meView = userView
  .extend({
    authMethod: z.string().describe('password, or oidc:<provider> for single sign-on'),
    authTime: isoTime.describe('when the person last proved who they are'),
    mfa: z.boolean().describe('whether that proof had more than one factor'),
  })
  .meta({ id: 'Me' });

export const authMethodsView = z
  .object({
    password: z.boolean().describe('whether POST /v1/auth/login accepts passwords'),
    oidc: z
      .array(z.object({ id: z.string(), name: z.string() }))
      .describe('identity providers, one button each'),
  })
  .meta({ id: 'AuthMethods' });

export const oidcStartQuery = z.object({
  redirect_uri: shortText(2000)
    .optional()
    .describe('http://127.0.0.1:<port>/<path> or http://[::1]:<port>/<path>'),
  code_challenge: shortText(128).optional().describe('the S256 challenge of the client’s PKCE verifier'),
  code_challenge_method: shortText(16).optional().describe('S256; plain is refused'),
  state: shortText(512).min(1).describe('the client’s state, returned to it unchanged'),
  max_age: z.coerce
    .number()
    .int()
    .min(0)
    .max(86_400 * 365)
    .optional()
    .describe('seconds: the provider asks the person again when they signed in longer ago (step-up)'),
});

export const oidcTokenBody = z.strictObject({
  code: shortText(200).min(1),
  codeVerifier: shortText(128).min(43, { error: 'expected the PKCE verifier: 43 to 128 characters' }),
});

const approvalStageView = z.object({
  name: z.string(),
  count: z.int().describe('distinct approvals this stage needs'),
  approvers: z.array(z.string()).describe('user ids who may approve this stage'),
  escalation: z.object({ afterSeconds: z.int(), approvers: z.array(z.string()) }).nullable(),
});

export const roleView = z.object({
  name: z.string(),
  description: z.string(),
  minDurationSeconds: z.int(),
  maxDurationSeconds: z.int(),
  defaultDurationSeconds: z.int(),
  reasonRequired: z.boolean(),
  ticketPattern: z.string().nullable(),
  approval: z.object({
    mode: z.enum(['auto', 'any', 'quorum', 'chain']),
    summary: z.string(),
    stages: z.array(approvalStageView),
    allowSelfApproval: z.boolean(),
  }),
  seats: z.object({ total: z.int(), inUse: z.int(), queued: z.int() }).nullable(),
  canRequest: z.boolean(),
  pendingTimeoutSeconds: z.int(),
});

export const resourceView = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.string(),
    description: z.string(),
    roles: z.array(roleView),
  })
  .meta({ id: 'Resource' });

export const requestStatus = z.enum(['pending', 'queued', 'approved', 'denied', 'cancelled', 'lapsed']);

export const requestView = z
  .object({
    id: z.string(),
    requesterId: z.string(),
    resourceId: z.string(),
    role: z.string(),
    kind: z.enum(['access', 'extension']).describe('extension: more time on extendsGrantId'),
    extendsGrantId: z.string().nullable(),
    durationSeconds: z.int(),
    reason: z.string(),
    ticket: z.string().nullable(),
    status: requestStatus,
    createdAt: isoTime,
    updatedAt: isoTime,
    expiresAt: isoTime.describe('when a pending or queued request lapses'),
    stage: z
      .object({
        index: z.int(),
        total: z.int(),
        name: z.string(),
        escalated: z.boolean(),
        approvalsNeeded: z.int(),
        approvalsGiven: z.int(),
      })
      .nullable(),
    decisions: z.array(
      z.object({
        approverId: z.string(),
        decision: z.enum(['approve', 'deny']),
        comment: z.string(),
        at: isoTime,
        stage: z.int(),
        override: z
          .boolean()
          .optional()
          .describe('true: an administrator decided a stage nobody the policy names could complete'),
      }),
    ),
    waitingFor: z.array(z.string()).describe('user ids who may decide it now'),
    grantId: z.string().nullable(),
    queuePosition: z.int().nullable(),
    lapseCause: z
      .enum(['timeout', 'grant_expired', 'grant_relinquished', 'grant_revoked'])
      .nullable()
      .describe(
        'why a lapsed request lapsed: nobody decided in time, or (an extension) its grant ended first; null otherwise, and for requests that lapsed before the service recorded why',
      ),
    outsideConditions: z
      .array(z.string())
      .describe("why people decide it: the role's conditions it was outside of when made (empty: none)"),
  })
  .meta({ id: 'Request' });

export const grantView = z
  .object({
    id: z.string(),
    requestId: z.string(),
    userId: z.string(),
    resourceId: z.string(),
    role: z.string(),
    status: z.enum(['active', 'expired', 'revoked']),
    startsAt: isoTime,
    expiresAt: isoTime,
    endedAt: isoTime.nullable(),
    endReason: z.enum(['expired', 'relinquished', 'revoked']).nullable(),
    maxExpiresAt: isoTime.describe('the latest expiry an extension can reach'),
  })
  .meta({ id: 'Grant' });

export const createRequestBody = z.strictObject({
  resourceId: id,
  role: id,
  durationSeconds: z
    .int()
    .positive()
    .max(366 * 86_400),
  reason: shortText(1000).default(''),
  ticket: shortText(200).nullable().optional(),
});

/** Why a request would not pass, as the preview lists it: the body field to change and the error code. */
const previewProblem = z.object({
  field: z.string().describe('the request body field to change, e.g. durationSeconds, role'),
  code: z.string().describe('the error code POST /v1/requests would answer'),
  message: z.string(),
});

export const requestPreviewView = z
  .object({
    ok: z.boolean().describe('true: POST /v1/requests with this body would be accepted now'),
    problems: z.array(previewProblem),
    decision: z
      .enum(['auto', 'approval', 'refused'])
      .describe(
        'auto: granted (or queued for a seat) at once; approval: people decide; refused: see problems',
      ),
    approval: z
      .object({
        mode: z.enum(['auto', 'any', 'quorum', 'chain']),
        stages: z.array(
          z.object({
            name: z.string(),
            count: z.int().describe('distinct approvals this stage needs'),
            approvers: z
              .array(z.object({ id: z.string(), displayName: z.string() }))
              .describe('who would be asked, the requester left out unless the role allows self-approval'),
          }),
        ),
      })
      .nullable()
      .describe('null when nobody decides (the role grants at once) or the role is unknown'),
    conditions: z
      .array(z.object({ name: z.string(), met: z.boolean(), message: z.string() }))
      .describe("the role's conditions (hours, networks, device) as they stand for this request now"),
  })
  .meta({ id: 'RequestPreview' });

// Fastify hands a POST without a body to the validator as null: these bodies may be absent altogether.
export const approveBody = z.strictObject({ comment: shortText(1000).optional() }).nullish();
export const denyBody = z.strictObject({
  comment: shortText(1000).refine((comment) => comment.trim() !== '', { error: 'a denial needs a comment' }),
});
export const emptyBody = z.strictObject({}).nullish();
/** The requester cancels with no body; an administrator cancelling someone else's request says why. */
export const cancelBody = z.strictObject({ reason: shortText(1000).optional() }).nullish();
export const extendBody = z.strictObject({
  durationSeconds: z
    .int()
    .positive()
    .max(366 * 86_400),
  reason: shortText(1000).default(''),
});
export const revokeBody = z.strictObject({ reason: shortText(1000).optional() }).nullish();

// Any string: one that is not an id we issue simply names nothing (404), like an unknown id.
export const idParams = z.strictObject({ id: z.string().min(1).max(64) });

/** A whole number in a query string: digits only (no "", "0x10" or "1e3"). */
const queryInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,15}$/, { error: 'expected a whole number' })
    .transform(Number)
    .pipe(z.number().min(min).max(max));
const limit = (max: number, fallback: number) => queryInt(1, max).default(fallback);

export const requestListQuery = z.strictObject({
  scope: z.enum(['mine', 'approvable', 'all']).default('mine'),
  status: z
    .string()
    .transform((value) => value.split(','))
    .pipe(z.array(requestStatus))
    .optional()
    .describe('one status or several, comma-separated'),
  limit: limit(200, 50),
  cursor: shortText(200).optional(),
});

export const grantListQuery = z.strictObject({
  status: z.enum(['active', 'ended']).optional(),
  scope: z.enum(['mine', 'all']).default('mine'),
  limit: limit(200, 50),
  cursor: shortText(200).optional(),
});

// Header schemas document the headers in /openapi.json; their values are checked where they are read,
// so a bad one gets its own error code. Loose: every other header passes through untouched.
export const idempotencyHeaders = z.looseObject({
  'idempotency-key': z
    .string()
    .optional()
    .describe('1 to 200 visible ASCII characters; the same key from the same user returns the first answer'),
});

export const eventStreamHeaders = z.looseObject({
  'last-event-id': z
    .string()
    .optional()
    .describe('the id of the last event received: the stream resumes after it'),
});

export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), next: z.string().nullable() });

export const sessionView = z
  .object({
    id: z.string(),
    userId: z.string(),
    current: z.boolean().describe('the session this call was made with'),
    device: z.string().describe("the client's User-Agent when it signed in"),
    address: z.string().describe("the client's address at its last recorded use"),
    createdAt: isoTime,
    lastUsedAt: isoTime.describe('recorded at most once a minute; an open event stream counts as use'),
    expiresAt: isoTime.describe('when it ends by itself (tokenTtl)'),
    idleExpiresAt: isoTime.describe('when it ends if it is not used before (idleTimeout)'),
  })
  .meta({ id: 'UserSession' });

export const sessionListQuery = z.strictObject({
  scope: z.enum(['mine', 'all']).default('mine'),
  userId: id.optional().describe("administrators: one person's sessions"),
  limit: limit(200, 50),
  cursor: shortText(200).optional(),
});

export const introspectionBody = z.strictObject({
  token: z.string().min(1, { error: 'send the token to check as token' }).max(8192),
  token_type_hint: z.string().max(64).optional().describe('RFC 7662; ignored: only credential tokens exist'),
});

export const introspectionView = z
  .union([
    z.object({ active: z.literal(false) }),
    z.object({
      active: z.literal(true),
      iss: z.string(),
      sub: z.string().describe('the grant owner'),
      aud: z.string().describe('the resource'),
      scope: z.string().describe('the role'),
      jti: z.string().describe('the grant'),
      iat: z.int(),
      exp: z.int(),
      grant_status: z.literal('active'),
    }),
  ])
  .meta({ id: 'Introspection' });

export const credentialView = z
  .object({
    grantId: z.string(),
    kind: z.string(),
    expiresAt: isoTime,
    secret: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'Credential' });

export const auditEntryView = z
  .object({
    seq: z.int(),
    at: isoTime,
    actorId: z.string().nullable(),
    action: z.string(),
    subjectType: z.string(),
    subjectId: z.string(),
    data: z.record(z.string(), z.unknown()),
    prevHash: z.string(),
    hash: z.string(),
  })
  .meta({ id: 'AuditEntry' });

export const auditListQuery = z.strictObject({
  after: queryInt(0, Number.MAX_SAFE_INTEGER).default(0),
  limit: limit(1000, 100),
});

export const auditVerifyView = z.union([
  z.object({ ok: z.literal(true), entries: z.int() }),
  z.object({ ok: z.literal(false), firstBadSeq: z.int(), reason: z.string() }),
]);

export const auditExportQuery = z.strictObject({ format: z.enum(['jsonl', 'csv']).default('jsonl') });

export type UserView = z.output<typeof userView>;
export type MeView = z.output<typeof meView>;
export type AuthMethodsView = z.output<typeof authMethodsView>;
export type RequestView = z.output<typeof requestView>;
export type RequestPreviewView = z.output<typeof requestPreviewView>;
export type GrantView = z.output<typeof grantView>;
export type ResourceView = z.output<typeof resourceView>;
export type AuditEntryView = z.output<typeof auditEntryView>;
export type SessionView = z.output<typeof sessionView>;
export type IntrospectionView = z.output<typeof introspectionView>;
