import { z } from 'zod';
import type { DirectoryRow } from '../directory.js';
import { groupsOf } from '../directory.js';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** RFC 7644 §3.12: an error in SCIM's own shape, with its `scimType` where the RFC names one. */
export class ScimError extends Error {
  constructor(
    readonly status: number,
    readonly scimType: string | null,
    detail: string,
  ) {
    super(detail);
    this.name = 'ScimError';
  }

  body(): Record<string, unknown> {
    return {
      schemas: [ERROR_SCHEMA],
      status: String(this.status),
      ...(this.scimType === null ? {} : { scimType: this.scimType }),
      detail: this.message,
    };
  }
}

const USERNAME = /^[a-z0-9][a-z0-9._@+-]{0,127}$/;

/**
 * A User as IdPs send it (RFC 7643 §4.1). Attributes Timebox does not keep (emails, phone numbers, the
 * enterprise extension) are accepted and ignored, as SCIM allows: Okta and Entra send them all.
 */
export const scimUserBody = z.looseObject({
  schemas: z.array(z.string()).refine((schemas) => schemas.includes(USER_SCHEMA), {
    error: `expected schemas to include ${USER_SCHEMA}`,
  }),
  userName: z.string().min(1).max(128),
  externalId: z.string().max(256).optional(),
  displayName: z.string().max(100).optional(),
  name: z
    .looseObject({
      formatted: z.string().max(200).optional(),
      givenName: z.string().max(100).optional(),
      familyName: z.string().max(100).optional(),
    })
    .optional(),
  active: z.boolean().optional(),
});

export type ScimUserBody = z.output<typeof scimUserBody>;

export const patchBody = z.looseObject({
  schemas: z.array(z.string()).refine((schemas) => schemas.includes(PATCH_SCHEMA), {
    error: `expected schemas to include ${PATCH_SCHEMA}`,
  }),
  Operations: z
    .array(
      z.looseObject({
        op: z.string().refine((op) => ['add', 'replace', 'remove'].includes(op.toLowerCase()), {
          error: 'expected op add, replace or remove',
        }),
        path: z.string().max(200).optional(),
        value: z.unknown().optional(),
      }),
    )
    .min(1)
    .max(100),
});

/** Reads a body with `schema`, or refuses it as SCIM does: 400 invalidSyntax or invalidValue. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  throw new ScimError(400, 'invalidSyntax', `${where}${issue?.message ?? 'the body is not valid'}`);
}

export function usernameOf(userName: string): string {
  const username = userName.trim().toLowerCase();
  if (!USERNAME.test(username)) {
    throw new ScimError(
      400,
      'invalidValue',
      'userName must be letters, digits and . _ @ + - (at most 128), starting with a letter or digit.',
    );
  }
  return username;
}

export function displayNameOf(body: ScimUserBody, username: string): string {
  const { name } = body;
  const joined = [name?.givenName, name?.familyName].filter((part) => part !== undefined).join(' ');
  return (body.displayName ?? name?.formatted ?? (joined || username)).trim().slice(0, 100) || username;
}

/** `userName eq "…"` or `externalId eq "…"`: the filters IdPs send before creating a user (§3.4.2.2). */
export function parseFilter(
  filter: string | undefined,
): { attribute: 'id' | 'external_id'; value: string } | null {
  if (filter === undefined || filter.trim() === '') return null;
  const match = /^\s*(userName|externalId)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$/i.exec(filter);
  if (!match?.[1] || match[2] === undefined) {
    throw new ScimError(
      400,
      'invalidFilter',
      'Only the filters userName eq "…" and externalId eq "…" are supported.',
    );
  }
  const value = match[2].replace(/\\(.)/g, '$1');
  return match[1].toLowerCase() === 'username'
    ? { attribute: 'id', value: value.trim().toLowerCase() }
    : { attribute: 'external_id', value };
}

export function toScimUser(row: DirectoryRow, baseUrl: string): Record<string, unknown> {
  return {
    schemas: [USER_SCHEMA],
    id: row.scim_id,
    ...(row.external_id === null ? {} : { externalId: row.external_id }),
    userName: row.id,
    displayName: row.display_name,
    name: { formatted: row.display_name },
    active: row.active,
    groups: groupsOf(row).map((group) => ({ value: group, display: group })),
    meta: {
      resourceType: 'User',
      created: row.created_at.toISOString(),
      lastModified: row.updated_at.toISOString(),
      location: `${baseUrl}/scim/v2/Users/${row.scim_id ?? ''}`,
    },
  };
}
