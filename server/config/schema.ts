import { z } from 'zod';
import { parseDuration } from '../../api/duration.js';
import { otherwise, roleConditions } from './conditions.js';
import { WEBHOOK_EVENT_TYPES } from '../../api/admin-schemas.js';
import { identitySchema } from './identity-schema.js';

const slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: 'expected a lowercase slug of letters, digits and dashes' });

const duration = z
  .union([z.string(), z.number()], {
    error: 'expected a duration such as "90s", "15m", "1h30m", "7d" or a whole number of seconds',
  })
  .transform((value, ctx) => {
    const seconds = parseDuration(value);
    if (seconds === null) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected a duration such as "90s", "15m", "1h30m", "7d" or a whole number of seconds',
      });
      return z.NEVER;
    }
    return seconds;
  });

/** A duration of at least `floor` seconds; `words` says the floor for people ("1 second"). */
const durationOfAtLeast = (floor: number, words: string) =>
  duration.pipe(z.number().min(floor, { error: `expected at least ${words}` }));

/** A secret is never written into the policy: it is named by an environment variable or a file. */
export const secretReference = z.union([
  z.strictObject({
    env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, { error: 'expected an environment variable name' }),
  }),
  z.strictObject({ file: z.string().min(1) }),
]);

const approvers = z
  .strictObject({ groups: z.array(slug).default([]), users: z.array(slug).default([]) })
  .refine((value) => value.groups.length + value.users.length > 0, {
    error: 'expected at least one group or user',
  });

const stage = z
  .strictObject({
    name: z.string().min(1).max(60),
    approvers,
    count: z.int().min(1).default(1),
    escalateAfter: durationOfAtLeast(1, '1 second').optional(),
    escalateTo: approvers.optional(),
  })
  .superRefine((value, ctx) => {
    // Named at the field that is missing, so the message points where the fix goes.
    const missing = value.escalateAfter === undefined ? 'escalateAfter' : 'escalateTo';
    if ((value.escalateAfter === undefined) !== (value.escalateTo === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message: 'expected escalateAfter and escalateTo together, or neither',
      });
    }
  });

const approval = z.union([
  z.literal('auto'),
  z.discriminatedUnion(
    'mode',
    [
      z.strictObject({ mode: z.literal('auto') }),
      z.strictObject({ mode: z.literal('any'), approvers }),
      z.strictObject({ mode: z.literal('quorum'), count: z.int().min(2), approvers }),
      z.strictObject({ mode: z.literal('chain'), stages: z.array(stage).min(1).max(10) }),
    ],
    { error: 'expected "auto" or an object whose mode is auto, any, quorum or chain' },
  ),
]);

const durations = z
  .strictObject({ min: durationOfAtLeast(1, '1 second'), default: duration, max: duration })
  .superRefine((value, ctx) => {
    if (value.max < value.min)
      ctx.addIssue({ code: 'custom', path: ['max'], message: 'expected max to be at least min' });
    else if (value.default < value.min || value.default > value.max) {
      ctx.addIssue({ code: 'custom', path: ['default'], message: 'expected a default between min and max' });
    }
  });

const ticketPattern = z
  .string()
  .min(1)
  .max(200)
  .superRefine((pattern, ctx) => {
    try {
      new RegExp(pattern, 'u');
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a regular expression (${error instanceof Error ? error.message : 'invalid'})`,
      });
    }
  });

/** A PostgreSQL identifier we create or name (a group role, a schema, a role prefix). */
const pgIdentifier = z.string().regex(/^[a-z_][a-z0-9_$]{0,62}$/, {
  error: 'expected a PostgreSQL name: lowercase letters, digits, _ and $, starting with a letter or _',
});

const TABLE_PRIVILEGES = [
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'TRUNCATE',
  'REFERENCES',
  'TRIGGER',
] as const;

/** What a grant of a role of a `postgres` resource may do: group roles to join, privileges per schema. */
const postgresRoleAccess = z
  .strictObject({
    memberOf: z.array(pgIdentifier).max(20).default([]),
    schemas: z
      .record(
        pgIdentifier,
        z
          .array(z.enum(TABLE_PRIVILEGES, { error: `expected one of ${TABLE_PRIVILEGES.join(', ')}` }))
          .min(1, { error: 'expected at least one privilege' }),
      )
      .default({}),
  })
  .refine((value) => value.memberOf.length + Object.keys(value.schemas).length > 0, {
    error: 'expected memberOf or schemas: a login that can do nothing is no grant',
  });

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;

/** The database a `postgres` resource hands out logins to, and how Timebox administers it. */
const postgresTarget = z.strictObject({
  /** A postgres:// URL of a role that may create roles; named, never written here. */
  admin: secretReference,
  /** Where clients connect, when that differs from the admin URL's host, port and database. */
  connect: z
    .strictObject({
      host: z.string().min(1).max(255).optional(),
      port: z.int().min(1).max(65_535).optional(),
      database: z.string().min(1).max(63).optional(),
    })
    .default({}),
  sslmode: z.enum(SSL_MODES, { error: `expected one of ${SSL_MODES.join(', ')}` }).default('require'),
  connectionLimit: z.int().min(1).max(1000).default(5),
  rolePrefix: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,19}$/, {
      error: 'expected up to 20 lowercase letters, digits and _, starting with a letter or _',
    })
    .default('timebox_'),
});

const role = z.strictObject({
  description: z.string().max(500).default(''),
  requesters: z.array(slug).min(1, { error: 'expected at least one group that may request this role' }),
  duration: durations,
  reasonRequired: z.boolean().default(true),
  ticketPattern: ticketPattern.optional(),
  approval,
  seats: z.int().min(1).optional(),
  pendingTimeout: durationOfAtLeast(1, '1 second').default(24 * 3600),
  allowSelfApproval: z.boolean().default(false),
  /** How long a signed token lives before the owner's client fetches a fresh one (never past the grant). */
  credentialTtl: durationOfAtLeast(30, '30 seconds')
    .pipe(z.number().max(86_400, { error: 'expected at most 1 day' }))
    .optional(),
  postgres: postgresRoleAccess.optional(),
  /** When and from where the role may be granted as its approval rule says (docs/policy.md, "Conditions"). */
  conditions: roleConditions.optional(),
  otherwise: otherwise.default('approval'),
  /** required: only a session whose sign-in had a second factor (TOTP, or the IdP's amr) may request it. */
  mfa: z.literal('required', { error: 'expected required (or leave mfa out)' }).optional(),
  /** A request needs a sign-in at most this long ago (the IdP's auth_time); older sessions sign in again. */
  freshAuth: durationOfAtLeast(60, '1 minute').optional(),
});

const resource = z
  .strictObject({
    name: z.string().min(1).max(100),
    kind: slug,
    description: z.string().max(1000).default(''),
    postgres: postgresTarget.optional(),
    roles: z.record(slug, role).refine((roles) => Object.keys(roles).length > 0, {
      error: 'expected at least one role',
    }),
  })
  .superRefine((resource, ctx) => {
    // A postgres resource hands out real logins: it needs its database, and every role says what the
    // login may do. Anywhere else those fields would be silently ignored, so they are refused.
    const isPostgres = resource.kind === 'postgres';
    if (isPostgres && resource.postgres === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['postgres'],
        message: 'missing; a postgres resource needs postgres.admin',
      });
    }
    if (!isPostgres && resource.postgres !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['postgres'],
        message: 'only a resource of kind postgres takes this field',
      });
    }
    for (const [name, role] of Object.entries(resource.roles)) {
      if (isPostgres && role.postgres === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['roles', name, 'postgres'],
          message: 'missing; say what the login may do (memberOf, schemas)',
        });
      }
      if (isPostgres && role.credentialTtl !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['roles', name, 'credentialTtl'],
          message:
            'a postgres login lives until its grant ends and is dropped at once when it is revoked: credentialTtl does not apply',
        });
      }
      if (!isPostgres && role.postgres !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['roles', name, 'postgres'],
          message: 'only a role of a resource of kind postgres takes this field',
        });
      }
    }
  });

const user = z.strictObject({
  displayName: z.string().min(1).max(100),
  passwordHash: z.string().regex(/^scrypt:\d+:\d+:\d+:[A-Za-z0-9+/]+={0,2}:[A-Za-z0-9+/]+={0,2}$/, {
    error: 'expected a hash made by `npm run server -- hash-password`',
  }),
  totpSecret: secretReference.optional(),
  groups: z.array(slug).default([]),
  admin: z.boolean().default(false),
  /** Read-only access to the access-review reports and the audit log, and nothing more. */
  auditor: z.boolean().default(false),
  /** Where the email channel writes to them: approvals to decide, and their requests' outcomes. */
  email: z.email({ error: 'expected an email address' }).optional(),
});

const rateWindow = z.strictObject({ attempts: z.int().min(1), window: durationOfAtLeast(1, '1 second') });

const service = z.strictObject({
  publicUrl: z.url({ protocol: /^https?$/, error: 'expected an http or https URL' }).optional(),
  tokenTtl: durationOfAtLeast(60, '1 minute').default(8 * 3600),
  idleTimeout: durationOfAtLeast(300, '5 minutes').default(3600),
  reminders: z.array(durationOfAtLeast(1, '1 second')).max(10).default([600, 60]),
  signingKeyRotation: durationOfAtLeast(3600, '1 hour').default(30 * 86_400),
  requireTotpForAdmins: z.boolean().default(false),
  shutdownTimeout: durationOfAtLeast(1, '1 second').default(10),
  loginLimits: z
    .strictObject({
      perAccount: rateWindow.default({ attempts: 5, window: 900 }),
      perAddress: rateWindow.default({ attempts: 30, window: 60 }),
    })
    .prefault({}),
});

const environmentVariable = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, { error: 'expected an environment variable name' });

/** A resource server that asks the service whether credentials are still active (RFC 7662). */
const resourceServer = z
  .strictObject({
    tokenEnv: environmentVariable.optional(),
    tokenFile: z.string().min(1).optional(),
    resources: z.array(slug).min(1, { error: 'expected at least one resource it serves' }),
  })
  .superRefine((value, ctx) => {
    if ((value.tokenEnv === undefined) === (value.tokenFile === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['tokenEnv'],
        message: 'expected tokenEnv or tokenFile (one of them): where its bearer token is',
      });
    }
  });

/** A webhook receiver: every event it names (all of them when `events` is left out), signed with its secret. */
const webhook = z.strictObject({
  id: slug,
  url: z.url({ protocol: /^https?$/, error: 'expected an http or https URL' }),
  secretEnv: environmentVariable,
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).optional(),
});

/** Mail to approvers (with links to the approval page) and to requesters, through an SMTP server. */
const email = z.strictObject({
  smtpUrl: z
    .url({ protocol: /^smtps?$/, error: 'expected an smtp:// or smtps:// URL' })
    .refine((value) => new URL(value).password === '', {
      error: 'expected no password in the URL: name it with passwordEnv',
    }),
  from: z.string().min(3).max(200),
  passwordEnv: environmentVariable.optional(),
  linkSecretEnv: environmentVariable,
});

/** Where approvals and outcomes are told outside the app, and how long a delivery is retried. */
const channels = z.strictObject({
  email: email.optional(),
  webhooks: z
    .array(webhook)
    .default([])
    .refine((hooks) => new Set(hooks.map((hook) => hook.id)).size === hooks.length, {
      error: 'expected each webhook to have an id of its own',
    }),
  retryFor: durationOfAtLeast(60, '1 minute').default(86_400),
  timeout: durationOfAtLeast(1, '1 second').default(10),
});

export const policyFileSchema = z.strictObject({
  version: z.literal(1, { error: 'expected version: 1' }),
  service: service.prefault({}),
  groups: z.record(slug, z.strictObject({ description: z.string().max(500).default('') })),
  users: z.record(slug, user),
  resources: z.record(slug, resource),
  resourceServers: z.record(slug, resourceServer).default({}),
  channels: channels.prefault({}),
  identity: identitySchema.prefault({}),
});

export type PolicyFile = z.output<typeof policyFileSchema>;
export type SecretReference = z.output<typeof secretReference>;
