import type { ChannelSettings, EmailSettings } from '../policy/types.js';
import type { PolicyFile } from './schema.js';
import type { Path, Problem, SecretSource } from './secrets.js';

// Standard Webhooks: a secret of 24 to 64 random bytes, written `whsec_` and base64.
const WEBHOOK_SECRET = /^whsec_([A-Za-z0-9+/]+={0,2})$/;
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;

/**
 * Each webhook's signing secret, from its `secretEnv`, by webhook id. The message never repeats the
 * value. `webhooks` is the raw policy's list, read before the schema's verdict so every problem is told.
 */
export function readWebhookSecrets(
  webhooks: unknown,
  source: SecretSource,
  problems: Problem[],
): Map<string, string> {
  const secrets = new Map<string, string>();
  if (!Array.isArray(webhooks)) return secrets;
  webhooks.forEach((hook: unknown, index) => {
    if (typeof hook !== 'object' || hook === null) return;
    const { id, secretEnv } = hook as { id?: unknown; secretEnv?: unknown };
    if (typeof id !== 'string' || typeof secretEnv !== 'string') return; // the schema says so
    const path: Path = ['channels', 'webhooks', index, 'secretEnv'];
    const value = source.env[secretEnv]?.trim() ?? '';
    if (value === '') {
      problems.push({ path, message: `environment variable ${secretEnv} is not set` });
      return;
    }
    const base64 = WEBHOOK_SECRET.exec(value)?.[1];
    const bytes = base64 === undefined ? 0 : Buffer.from(base64, 'base64').length;
    if (bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES) {
      problems.push({
        path,
        message: `expected ${secretEnv} to hold a Standard Webhooks secret: whsec_ and ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} random bytes in base64 (make one with: echo whsec_$(openssl rand -base64 32))`,
      });
      return;
    }
    secrets.set(id, value);
  });
  return secrets;
}

export interface EmailSecrets {
  readonly linkSecret: string | null;
  readonly smtpPassword: string | null;
}

const MIN_LINK_SECRET_LENGTH = 32;

/** The email channel's link key (at least 32 characters) and SMTP password, from the environment. */
export function readEmailSecrets(email: unknown, source: SecretSource, problems: Problem[]): EmailSecrets {
  if (typeof email !== 'object' || email === null) return { linkSecret: null, smtpPassword: null };
  const { linkSecretEnv, passwordEnv } = email as { linkSecretEnv?: unknown; passwordEnv?: unknown };
  const read = (name: unknown, field: string): string | null => {
    if (typeof name !== 'string') return null; // the schema says so
    const value = source.env[name]?.trim() ?? '';
    if (value === '') {
      problems.push({
        path: ['channels', 'email', field],
        message: `environment variable ${name} is not set`,
      });
      return null;
    }
    return value;
  };
  const linkSecret = read(linkSecretEnv, 'linkSecretEnv');
  if (linkSecret !== null && linkSecret.length < MIN_LINK_SECRET_LENGTH) {
    problems.push({
      path: ['channels', 'email', 'linkSecretEnv'],
      message: `expected a key of at least ${MIN_LINK_SECRET_LENGTH} characters (make one with: openssl rand -base64 32)`,
    });
    return { linkSecret: null, smtpPassword: read(passwordEnv, 'passwordEnv') };
  }
  return { linkSecret, smtpPassword: read(passwordEnv, 'passwordEnv') };
}

function toEmailSettings(
  email: NonNullable<PolicyFile['channels']['email']>,
  secrets: EmailSecrets,
): EmailSettings | null {
  if (secrets.linkSecret === null) return null;
  return {
    smtpUrl: email.smtpUrl,
    smtpPassword: secrets.smtpPassword,
    from: email.from,
    linkSecret: secrets.linkSecret,
  };
}

export function toChannelSettings(
  channels: PolicyFile['channels'],
  webhookSecrets: ReadonlyMap<string, string>,
  emailSecrets: EmailSecrets,
): ChannelSettings {
  return {
    email: channels.email ? toEmailSettings(channels.email, emailSecrets) : null,
    webhooks: channels.webhooks.flatMap((hook) => {
      const secret = webhookSecrets.get(hook.id);
      return secret === undefined
        ? []
        : [{ id: hook.id, url: hook.url, secret, events: hook.events ? new Set(hook.events) : null }];
    }),
    retryForSeconds: channels.retryFor,
    timeoutSeconds: channels.timeout,
  };
}
