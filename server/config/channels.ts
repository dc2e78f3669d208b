import type { ChannelSettings } from '../policy/types.js';
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

export function toChannelSettings(
  channels: PolicyFile['channels'],
  webhookSecrets: ReadonlyMap<string, string>,
): ChannelSettings {
  return {
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
