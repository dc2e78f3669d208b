import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestView } from '../../api/schemas.js';
import { ManualClock } from '../support/manual-clock.js';
import { demoOrganisation, startService, type RunningService } from '../support/service.js';

const run = promisify(execFile);
const EXAMPLES = fileURLToPath(new URL('../../docs/examples/', import.meta.url));
const SERVER_TOKEN = 'rs-sandbox-docs-example-3e8b1f0c6d2a4e9b7c5f';
// Debian's Python, with python3-jwt and python3-cryptography (.ci/run installs them).
const PYTHON = '/usr/bin/python3';

async function pythonWithPyJwt(): Promise<boolean> {
  if (!existsSync(PYTHON)) return false;
  try {
    await run(PYTHON, ['-c', 'import jwt, cryptography']);
    return true;
  } catch {
    return false;
  }
}
const hasPython = await pythonWithPyJwt();
if (!hasPython) {
  if (process.env.CI === 'true')
    throw new Error(
      'CI=true but /usr/bin/python3 cannot import jwt: install python3-jwt python3-cryptography.',
    );
  console.warn(
    'resource-server-examples.test.ts: no PyJWT in /usr/bin/python3, the Python example does not run.',
  );
}

interface Verdict {
  signature: string;
  active: boolean;
  allow: boolean;
}

/**
 * docs/examples' resource servers, in Node (jose) and Python (PyJWT), against the real service: both
 * accept a live grant's token, and after its revocation the signature still checks out while
 * introspection refuses it, which is why the docs tell them to ask.
 */
describe('the resource-server examples of docs/credentials.md', () => {
  let running: RunningService;
  let alice: string;
  const examples: [string, (token: string) => Promise<Verdict>][] = [
    ['Node (jose)', (token) => check(process.execPath, [`${EXAMPLES}resource-server.mjs`, token])],
    ...(hasPython
      ? [
          ['Python (PyJWT)', (token: string) => check(PYTHON, [`${EXAMPLES}resource_server.py`, token])] as [
            string,
            (token: string) => Promise<Verdict>,
          ],
        ]
      : []),
  ];

  async function check(command: string, args: string[]): Promise<Verdict> {
    const { stdout } = await run(command, args, {
      env: { ...process.env, TIMEBOX_URL: running.url, TIMEBOX_RS_TOKEN: SERVER_TOKEN, RESOURCE: 'sandbox' },
      timeout: 20_000,
    });
    return JSON.parse(stdout) as Verdict;
  }

  beforeAll(async () => {
    const demo = await demoOrganisation();
    running = await startService({
      kind: 'pglite',
      // The examples check lifetimes against the real time: the service's clock starts there.
      clock: new ManualClock(Date.now()),
      policy: {
        ...demo,
        resourceServers: new Map([
          [
            createHash('sha256').update(SERVER_TOKEN).digest('hex'),
            { id: 'sandbox-api', resources: new Set(['sandbox']) },
          ],
        ]),
      },
    });
    alice = await running.api.login('alice');
  });
  afterAll(async () => {
    await running.stop();
  });

  async function grantToken(): Promise<{ grantId: string; token: string }> {
    const created = await running.api.post<RequestView>('/v1/requests', alice, {
      resourceId: 'sandbox',
      role: 'operator',
      durationSeconds: 600,
    });
    const grantId = created.body.grantId ?? '';
    const credential = await running.api.get<{ secret: { token: string } }>(
      `/v1/grants/${grantId}/credential`,
      alice,
    );
    return { grantId, token: credential.body.secret.token };
  }

  it('allows a live grant’s token; after revocation the signature still holds and introspection refuses it', async () => {
    const { grantId, token } = await grantToken();
    for (const [name, verdictOf] of examples)
      expect([name, await verdictOf(token)]).toEqual([
        name,
        { signature: 'valid', active: true, allow: true },
      ]);
    expect((await running.api.post(`/v1/grants/${grantId}/revoke`, alice, {})).status).toBe(200);
    for (const [name, verdictOf] of examples)
      expect([name, await verdictOf(token)]).toEqual([
        name,
        { signature: 'valid', active: false, allow: false },
      ]);
  });

  it('refuses a tampered token on its signature, without asking the service', async () => {
    const { token } = await grantToken();
    const [head, , signature] = token.split('.');
    const claims = Buffer.from(token.split('.')[1] ?? '', 'base64url')
      .toString('utf8')
      .replace('alice', 'admin');
    const tampered = `${head ?? ''}.${Buffer.from(claims).toString('base64url')}.${signature ?? ''}`;
    for (const [name, verdictOf] of examples) {
      const verdict = await verdictOf(tampered);
      expect([name, verdict.allow, verdict.active, verdict.signature.startsWith('invalid')]).toEqual([
        name,
        false,
        false,
        true,
      ]);
    }
  });
});
