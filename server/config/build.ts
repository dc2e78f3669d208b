import { createHash } from 'node:crypto';
import type {
  ApprovalRule,
  Policy,
  PolicyUser,
  PostgresTarget,
  Resource,
  ResourceServer,
  Role,
} from '../policy/types.js';
import { toChannelSettings, type EmailSecrets } from './channels.js';
import { toConditions } from './conditions.js';
import { buildIdentity, type IdentitySecrets } from './identity.js';
import type { PolicyFile } from './schema.js';

/** The secrets a policy names, read from where it says they are. */
export interface PolicySecrets {
  /** Base32 TOTP secrets, by user. */
  readonly totp: Map<string, string>;
  /** Admin connection URLs of `postgres` resources, by resource id. */
  readonly postgresAdmin: Map<string, URL>;
  /** Resource servers' bearer tokens, by resource server id. */
  readonly resourceServerTokens: Map<string, string>;
  /** Webhooks' signing secrets, by webhook id. */
  readonly webhookSecrets: ReadonlyMap<string, string>;
  /** The email channel's link key and SMTP password, when it has them. */
  readonly email: EmailSecrets;
  /** Identity providers' client secrets and the SCIM token. */
  readonly identity: IdentitySecrets;
}

/** Where a postgres resource's logins connect, and how Timebox administers it. */
function toPostgresTarget(
  target: NonNullable<PolicyFile['resources'][string]['postgres']>,
  adminUrl: URL,
): PostgresTarget {
  const database = decodeURIComponent(adminUrl.pathname.replace(/^\//, '')) || 'postgres';
  return {
    adminUrl: adminUrl.toString(),
    // URL keeps IPv6 hosts in brackets; a connection wants the bare address.
    host: target.connect.host ?? adminUrl.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: target.connect.port ?? (adminUrl.port === '' ? 5432 : Number(adminUrl.port)),
    database: target.connect.database ?? database,
    sslmode: target.sslmode,
    connectionLimit: target.connectionLimit,
    rolePrefix: target.rolePrefix,
  };
}

/** A signed token's lifetime when the role names none: short enough that a revoked one dies soon anyway. */
const DEFAULT_CREDENTIAL_TTL_SECONDS = 300;

/** The checked file as the service uses it. */
export function buildPolicy(file: PolicyFile, secrets: PolicySecrets): Policy {
  const users = new Map<string, PolicyUser>(
    Object.entries(file.users).map(([name, user]) => [
      name,
      {
        id: name,
        displayName: user.displayName,
        passwordHash: user.passwordHash,
        totpSecret: secrets.totp.get(name) ?? null,
        groups: user.groups,
        isAdmin: user.admin,
        isAuditor: user.auditor,
        ...(user.email === undefined ? {} : { email: user.email }),
      },
    ]),
  );
  const resources = new Map<string, Resource>(
    Object.entries(file.resources).map(([resourceId, resource]) => [
      resourceId,
      {
        id: resourceId,
        name: resource.name,
        kind: resource.kind,
        description: resource.description,
        postgres: (() => {
          const adminUrl = secrets.postgresAdmin.get(resourceId);
          return resource.postgres && adminUrl ? toPostgresTarget(resource.postgres, adminUrl) : null;
        })(),
        roles: new Map<string, Role>(
          Object.entries(resource.roles).map(([roleName, role]) => [
            roleName,
            {
              name: roleName,
              description: role.description,
              requesterGroups: role.requesters,
              minDurationSeconds: role.duration.min,
              defaultDurationSeconds: role.duration.default,
              maxDurationSeconds: role.duration.max,
              reasonRequired: role.reasonRequired,
              ticketPattern:
                role.ticketPattern === undefined
                  ? null
                  : { source: role.ticketPattern, regex: new RegExp(`^(?:${role.ticketPattern})$`, 'u') },
              approval: toApprovalRule(role.approval),
              seats: role.seats ?? null,
              pendingTimeoutSeconds: role.pendingTimeout,
              allowSelfApproval: role.allowSelfApproval,
              mfaRequired: role.mfa === 'required',
              freshAuthSeconds: role.freshAuth ?? null,
              credentialTtlSeconds: role.credentialTtl ?? DEFAULT_CREDENTIAL_TTL_SECONDS,
              conditions: toConditions(role.conditions),
              otherwise: role.otherwise,
              postgres: role.postgres
                ? {
                    memberOf: role.postgres.memberOf,
                    schemas: new Map(Object.entries(role.postgres.schemas)),
                  }
                : null,
            },
          ]),
        ),
      },
    ]),
  );
  const { service } = file;
  const window = (limit: { attempts: number; window: number }) => ({
    attempts: limit.attempts,
    windowSeconds: limit.window,
  });
  return {
    service: {
      publicUrl: service.publicUrl?.replace(/\/+$/, '') ?? null,
      tokenTtlSeconds: service.tokenTtl,
      idleTimeoutSeconds: service.idleTimeout,
      reminderLeadsSeconds: [...new Set(service.reminders)].sort((a, b) => b - a),
      signingKeyRotationSeconds: service.signingKeyRotation,
      requireTotpForAdmins: service.requireTotpForAdmins,
      shutdownTimeoutSeconds: service.shutdownTimeout,
      loginLimits: {
        perAccount: window(service.loginLimits.perAccount),
        perAddress: window(service.loginLimits.perAddress),
      },
    },
    groups: new Map(Object.entries(file.groups)),
    users,
    resources,
    identity: buildIdentity(file.identity, secrets.identity),
    resourceServers: new Map(
      Object.entries(file.resourceServers).flatMap(([id, server]): [string, ResourceServer][] => {
        const token = secrets.resourceServerTokens.get(id);
        return token === undefined
          ? []
          : [
              [
                createHash('sha256').update(token).digest('hex'),
                { id, resources: new Set(server.resources) },
              ],
            ];
      }),
    ),
    channels: toChannelSettings(file.channels, secrets.webhookSecrets, secrets.email),
  };
}

type RoleApproval = PolicyFile['resources'][string]['roles'][string]['approval'];

function toApprovalRule(approval: RoleApproval): ApprovalRule {
  if (approval === 'auto' || approval.mode === 'auto') return { mode: 'auto', stages: [] };
  switch (approval.mode) {
    case 'any':
      return {
        mode: 'any',
        stages: [{ name: 'approval', approvers: approval.approvers, count: 1, escalation: null }],
      };
    case 'quorum':
      return {
        mode: 'quorum',
        stages: [
          { name: 'approval', approvers: approval.approvers, count: approval.count, escalation: null },
        ],
      };
    case 'chain':
      return {
        mode: 'chain',
        stages: approval.stages.map((stage) => ({
          name: stage.name,
          approvers: stage.approvers,
          count: stage.count,
          escalation:
            stage.escalateAfter !== undefined && stage.escalateTo !== undefined
              ? { afterSeconds: stage.escalateAfter, to: stage.escalateTo }
              : null,
        })),
      };
  }
}
