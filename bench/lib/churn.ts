import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchClient } from './http.js';

/** A request a client made and got an answer for: the key it used and what came back. */
export interface Made {
  /** The session it was made in: idempotency keys belong to their user. */
  readonly token: string;
  readonly key: string;
  readonly body: { readonly resourceId: string; readonly role: string; readonly durationSeconds: number };
  readonly requestId: string;
  readonly grantId: string;
  readonly expiresAt: number;
  /** Attempts it took (more than one: the service was down or died mid-request). */
  readonly attempts: number;
}

/** The service said something it must never say: a grant active, or a credential handed out, after expiry + 1 s. */
export interface Violation {
  readonly grantId: string;
  readonly what: 'served as active' | 'credential returned';
  /** How long after the expiry the request was sent, ms. */
  readonly pastExpiryMs: number;
}

const GRACE_MS = 1000;
/** A service that stays away this long is not coming back: the scenario fails instead of hanging. */
const GIVE_UP_MS = 60_000;

/**
 * Retries through network failures and 5xx with the same key until the service answers. It never gives
 * up early: the scenario stops its clients only while the service is up, so every request gets its answer.
 */
async function createWithRetry(client: BenchClient, token: string, body: Made['body']): Promise<Made> {
  const key = randomUUID();
  const giveUpAt = Date.now() + GIVE_UP_MS;
  for (let attempts = 1; ; attempts += 1) {
    try {
      const created = await client.call('POST', '/v1/requests', token, body, { 'idempotency-key': key });
      const answer = created.json as { id?: string; grantId?: string | null } | null;
      if (created.status === 201 && answer?.id && answer.grantId) {
        const grant = await readGrant(client, token, answer.grantId);
        return {
          token,
          key,
          body,
          requestId: answer.id,
          grantId: answer.grantId,
          expiresAt: Date.parse(grant.expiresAt),
          attempts,
        };
      }
      if (created.status < 500) throw new Error(`create answered ${created.status}`);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('create answered')) throw error;
      // The connection failed: the service is down or died while answering. Try again, same key.
    }
    if (Date.now() > giveUpAt) throw new Error(`no answer to request ${key} for ${GIVE_UP_MS} ms`);
    await sleep(50);
  }
}

async function readGrant(
  client: BenchClient,
  token: string,
  grantId: string,
): Promise<{ expiresAt: string }> {
  const giveUpAt = Date.now() + GIVE_UP_MS;
  for (;;) {
    try {
      const read = await client.call('GET', `/v1/grants/${grantId}`, token);
      if (read.status === 200) return read.json as { expiresAt: string };
    } catch {
      // down: try again
    }
    if (Date.now() > giveUpAt) throw new Error(`no answer about grant ${grantId} for ${GIVE_UP_MS} ms`);
    await sleep(50);
  }
}

/** Reads a grant and its credential; records a violation when either is served past expiry + 1 s. */
async function check(client: BenchClient, token: string, made: Made, violations: Violation[]): Promise<void> {
  try {
    const sentAt = Date.now();
    const grant = await client.call('GET', `/v1/grants/${made.grantId}`, token);
    const status = (grant.json as { status?: string } | null)?.status;
    if (grant.status === 200 && status === 'active' && sentAt > made.expiresAt + GRACE_MS)
      violations.push({
        grantId: made.grantId,
        what: 'served as active',
        pastExpiryMs: sentAt - made.expiresAt,
      });
    const credentialSentAt = Date.now();
    const credential = await client.call('GET', `/v1/grants/${made.grantId}/credential`, token);
    if (credential.status === 200 && credentialSentAt > made.expiresAt + GRACE_MS)
      violations.push({
        grantId: made.grantId,
        what: 'credential returned',
        pastExpiryMs: credentialSentAt - made.expiresAt,
      });
  } catch {
    // The service is down: nothing was served.
  }
}

/**
 * One person's churn until `running()` turns false: ask for short grants (10–20 s, so some fall due while
 * the service is down), relinquish one in four, and keep reading recent grants and their credentials,
 * the ones just past their expiry most of all.
 */
export async function churn(
  client: BenchClient,
  token: string,
  running: () => boolean,
  record: { readonly made: Made[]; readonly violations: Violation[] },
): Promise<void> {
  const mine: Made[] = [];
  while (running()) {
    const made = await createWithRetry(client, token, {
      resourceId: 'sandbox',
      role: 'operator',
      durationSeconds: 10 + Math.floor(Math.random() * 11),
    });
    mine.push(made);
    record.made.push(made);
    if (Math.random() < 0.25) {
      await client.call('POST', `/v1/grants/${made.grantId}/revoke`, token, {}).catch(() => undefined);
    }
    const now = Date.now();
    const recentlyDue = mine.filter((candidate) => Math.abs(candidate.expiresAt - now) < 5000);
    for (const candidate of recentlyDue.slice(-3)) await check(client, token, candidate, record.violations);
    await sleep(100);
  }
}
