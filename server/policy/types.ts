import type { Condition } from './conditions/condition.js';
import type { WebhookEventType } from '../../api/admin-schemas.js';

/** The policy after loading: validated, cross-checked, durations in seconds. */
export interface Policy {
  readonly service: ServiceSettings;
  readonly groups: ReadonlyMap<string, { readonly description: string }>;
  readonly users: ReadonlyMap<string, PolicyUser>;
  readonly resources: ReadonlyMap<string, Resource>;
  /** Resource servers that introspect credentials, by the SHA-256 (hex) of their bearer token. */
  readonly resourceServers: ReadonlyMap<string, ResourceServer>;
  readonly identity: IdentitySettings;
  /** Channels outside the app (webhooks); none when left out. */
  readonly channels?: ChannelSettings;
}

export interface ChannelSettings {
  readonly webhooks: readonly WebhookTarget[];
  readonly email: EmailSettings | null;
  /** A delivery that has not succeeded this long after it was written becomes a dead letter. */
  readonly retryForSeconds: number;
  /** How long one attempt may take. */
  readonly timeoutSeconds: number;
}

export interface EmailSettings {
  /** smtp:// or smtps://, without a password. */
  readonly smtpUrl: string;
  readonly smtpPassword: string | null;
  readonly from: string;
  /** Signs the approval links (HMAC-SHA256); at least 32 bytes. */
  readonly linkSecret: string;
}

export interface WebhookTarget {
  readonly id: string;
  readonly url: string;
  /** The Standard Webhooks signing secret, `whsec_` and base64. */
  readonly secret: string;
  /** The event types it wants; null for every type. */
  readonly events: ReadonlySet<WebhookEventType> | null;
}

/** How people sign in: passwords from this file, company identity providers, or both. */
export interface IdentitySettings {
  readonly password: boolean;
  readonly oidc: readonly OidcProvider[];
  /** jit: a first sign-in creates the person; scim: only people SCIM created may sign in. */
  readonly provisioning: 'jit' | 'scim';
  /** The SHA-256 (hex) of the SCIM client's bearer token; null when SCIM is off. */
  readonly scimTokenHash: string | null;
}

/** A company identity provider (Okta, Entra ID, Google, Keycloak) the service is an OIDC client of. */
export interface OidcProvider {
  readonly id: string;
  readonly name: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scopes: readonly string[];
  readonly usernameClaim: string;
  readonly groupsClaim: string;
  /** IdP group → policy group; an IdP group named like a policy group maps to it as is. */
  readonly groupMap: ReadonlyMap<string, string>;
  /** `amr` values that mean the person used more than a password. */
  readonly mfaAmr: readonly string[];
}

/** A resource server (an API that accepts the service's tokens) and the resources it serves. */
export interface ResourceServer {
  readonly id: string;
  readonly resources: ReadonlySet<string>;
}

export interface ServiceSettings {
  /** The URL clients reach the service at; the `iss` of every credential token. */
  readonly publicUrl: string | null;
  readonly tokenTtlSeconds: number;
  /** A session unused this long ends; its open event stream counts as use. */
  readonly idleTimeoutSeconds: number;
  /** Lead times of `grant.expiring` reminders, longest first. */
  readonly reminderLeadsSeconds: readonly number[];
  readonly signingKeyRotationSeconds: number;
  /** Every admin must have a second factor (TOTP); the policy is refused otherwise. */
  readonly requireTotpForAdmins: boolean;
  /** How long a stop (SIGTERM, SIGINT) may take before the process is ended regardless. */
  readonly shutdownTimeoutSeconds: number;
  readonly loginLimits: {
    readonly perAccount: RateWindow;
    readonly perAddress: RateWindow;
  };
}

export interface RateWindow {
  readonly attempts: number;
  readonly windowSeconds: number;
}

export interface PolicyUser {
  readonly id: string;
  readonly displayName: string;
  /** null for a person who signs in only through an identity provider. */
  readonly passwordHash: string | null;
  /** Base32 TOTP secret, when the account has a second factor. */
  readonly totpSecret: string | null;
  readonly groups: readonly string[];
  readonly isAdmin: boolean;
  /** May read the access-review reports and the audit log (read-only); administrators may too. */
  readonly isAuditor: boolean;
  /** Where the email channel writes to them; none, no mail. */
  readonly email?: string;
}

export interface Resource {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly description: string;
  /** The database a `postgres` resource hands out logins to; null for every other kind. */
  readonly postgres: PostgresTarget | null;
  readonly roles: ReadonlyMap<string, Role>;
}

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

export interface PostgresTarget {
  /** postgres:// URL of a role that may create roles, read from the environment or a secret file. */
  readonly adminUrl: string;
  /** Where clients connect: the admin URL's host, port and database unless the policy says otherwise. */
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly sslmode: SslMode;
  /** Live sessions each issued login may hold at once. */
  readonly connectionLimit: number;
  /** Every login Timebox creates is named `<rolePrefix><grant id>`; nothing else with it is ours. */
  readonly rolePrefix: string;
}

export type TablePrivilege =
  'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE' | 'TRUNCATE' | 'REFERENCES' | 'TRIGGER';

/** What a login issued for a role may do. */
export interface PostgresRoleAccess {
  /** Group roles the login joins, e.g. pg_read_all_data. */
  readonly memberOf: readonly string[];
  /** Privileges on every table of each schema (and USAGE on the schema). */
  readonly schemas: ReadonlyMap<string, readonly TablePrivilege[]>;
}

export interface Role {
  readonly name: string;
  readonly description: string;
  /** Groups whose members may request this role. */
  readonly requesterGroups: readonly string[];
  readonly minDurationSeconds: number;
  readonly defaultDurationSeconds: number;
  /** The longest a grant may last in total, extensions included. */
  readonly maxDurationSeconds: number;
  readonly reasonRequired: boolean;
  /** The pattern as written (for clients) and compiled to match a whole ticket. */
  readonly ticketPattern: { readonly source: string; readonly regex: RegExp } | null;
  readonly approval: ApprovalRule;
  /** At most this many active grants at once; null when unlimited. */
  readonly seats: number | null;
  /** A request nobody decides within this time lapses. */
  readonly pendingTimeoutSeconds: number;
  readonly allowSelfApproval: boolean;
  /** How long a signed token lives, at most (never past its grant); the owner's client renews it. */
  readonly credentialTtlSeconds: number;
  /** For roles of `postgres` resources: what the issued login may do. */
  readonly postgres: PostgresRoleAccess | null;
  /** When and from where the approval rule applies as written (hours, networks); empty: always. */
  readonly conditions: readonly Condition[];
  /** Outside the conditions: people decide (an automatic role asks the administrators), or refused. */
  readonly otherwise: 'approval' | 'refuse';
  /** Only a session signed in with more than one factor may request it (or extend its grants). */
  readonly mfaRequired: boolean;
  /** A request needs a sign-in at most this many seconds old; null when any session will do. */
  readonly freshAuthSeconds: number | null;
}

export interface Approvers {
  readonly groups: readonly string[];
  readonly users: readonly string[];
}

/**
 * Every rule is a list of stages decided in order; `auto` has none. `any` is one stage needing one
 * approval, `quorum` one stage needing N distinct approvals, `chain` several stages.
 */
export interface ApprovalRule {
  readonly mode: 'auto' | 'any' | 'quorum' | 'chain';
  readonly stages: readonly ApprovalStage[];
}

export interface ApprovalStage {
  readonly name: string;
  readonly approvers: Approvers;
  /** Distinct approvals this stage needs. */
  readonly count: number;
  readonly escalation: { readonly afterSeconds: number; readonly to: Approvers } | null;
}
