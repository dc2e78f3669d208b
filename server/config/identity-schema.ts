import { z } from 'zod';

const environmentVariable = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, { error: 'expected an environment variable name' });

const providerId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: 'expected a lowercase slug of letters, digits and dashes' });

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** An issuer is https; plain http only on this machine (a provider in a test or a developer's laptop). */
const issuer = z
  .url({ protocol: /^https?$/, error: 'expected the provider’s issuer URL' })
  .refine((value) => new URL(value).protocol === 'https:' || LOOPBACK_HOSTS.has(new URL(value).hostname), {
    error: 'expected an https issuer (http only on 127.0.0.1, [::1] or localhost)',
  });

/** A company identity provider the service signs people in with, as a confidential OIDC client. */
const oidcProvider = z
  .strictObject({
    id: providerId,
    name: z.string().min(1).max(60),
    issuer,
    clientId: z.string().min(1).max(255),
    clientSecretEnv: environmentVariable.optional(),
    clientSecretFile: z.string().min(1).optional(),
    scopes: z
      .array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/))
      .default(['openid', 'profile', 'email', 'groups']),
    usernameClaim: z.string().min(1).default('preferred_username'),
    groupsClaim: z.string().min(1).default('groups'),
    groupMap: z.record(z.string().min(1), z.string().min(1)).default({}),
    /** `amr` values that count as multi-factor. */
    mfaAmr: z.array(z.string().min(1)).min(1).default(['mfa', 'otp', 'hwk', 'swk']),
  })
  .superRefine((value, ctx) => {
    if ((value.clientSecretEnv === undefined) === (value.clientSecretFile === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['clientSecretEnv'],
        message:
          'expected clientSecretEnv or clientSecretFile (one of them): the secret is never written here',
      });
    }
    if (!value.scopes.includes('openid')) {
      ctx.addIssue({ code: 'custom', path: ['scopes'], message: 'expected the openid scope among them' });
    }
  });

export const identitySchema = z
  .strictObject({
    /** Password sign-in for the users in this file; false leaves only the identity providers. */
    password: z.boolean().default(true),
    oidc: z.array(oidcProvider).max(20).default([]),
    /** jit: a first sign-in creates the person; scim: only people SCIM created may sign in. */
    provisioning: z.enum(['jit', 'scim'], { error: 'expected jit or scim' }).default('jit'),
    /** Where the SCIM client's bearer token is; without it /scim/v2 answers nobody. */
    scim: z
      .strictObject({ tokenEnv: environmentVariable.optional(), tokenFile: z.string().min(1).optional() })
      .refine((value) => (value.tokenEnv === undefined) !== (value.tokenFile === undefined), {
        error: 'expected tokenEnv or tokenFile (one of them): where the SCIM bearer token is',
      })
      .optional(),
  })
  .superRefine((value, ctx) => {
    const seen = new Set<string>();
    value.oidc.forEach((provider, index) => {
      if (seen.has(provider.id))
        ctx.addIssue({
          code: 'custom',
          path: ['oidc', index, 'id'],
          message: `a second provider "${provider.id}"`,
        });
      seen.add(provider.id);
    });
    if (value.provisioning === 'scim' && value.scim === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['scim'],
        message: 'missing; provisioning: scim needs scim.tokenEnv or scim.tokenFile',
      });
    }
    if (!value.password && value.oidc.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['password'],
        message: 'with password sign-in off, name at least one provider under oidc: nobody could sign in',
      });
    }
  });

export type IdentityFile = z.output<typeof identitySchema>;
