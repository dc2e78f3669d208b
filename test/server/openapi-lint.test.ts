import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationIdOf } from '../../server/http/openapi.js';
import { startService, type RunningService } from '../support/service.js';

/*
 * /openapi.json, as a real service generates it, passes Redocly's recommended rules and Spectral's oas
 * rules with no error and no warning (the rules turned off, and why, are in redocly.yaml and
 * .spectral.yaml). Integrators generate their clients from it.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PUBLIC_WITHOUT_REFUSALS = ['GET /healthz', 'GET /metrics', 'GET /.well-known/jwks.json'];
/** The browser's steps of single sign-on: their answer is a redirect, never a 2XX. */
const REDIRECTS_ONLY = ['GET /v1/auth/oidc/{provider}/start', 'GET /v1/auth/oidc/{provider}/callback'];

interface Operation {
  readonly operationId?: string;
  readonly summary?: string;
  readonly security?: unknown[];
  readonly responses: Record<string, unknown>;
}

function run(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      join(ROOT, 'node_modules', '.bin', command),
      args,
      { cwd: ROOT, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(new Error(error.message, { cause: error }));
        else resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}

describe('the OpenAPI document', { timeout: 180_000 }, () => {
  let running: RunningService;
  let folder: string;
  let file: string;
  let document: { servers: { url: string }[]; paths: Record<string, Record<string, Operation>> };

  beforeAll(async () => {
    running = await startService({ kind: 'pglite' });
    document = (await running.api.get<typeof document>('/openapi.json')).body;
    folder = mkdtempSync(join(tmpdir(), 'timebox-openapi-'));
    file = join(folder, 'openapi.json');
    writeFileSync(file, JSON.stringify(document, null, 2));
  });
  afterAll(async () => {
    await running.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  it('passes Redocly with no error and no warning', async () => {
    const { code, stdout, stderr } = await run('redocly', [
      'lint',
      file,
      '--config',
      join(ROOT, 'redocly.yaml'),
      '--format',
      'json',
    ]);
    const report = JSON.parse(stdout) as {
      totals: { errors: number; warnings: number };
      problems: unknown[];
    };
    expect(report.problems, stderr).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    expect(code).toBe(0);
  });

  it('passes Spectral with no error and no warning', async () => {
    const results = join(folder, 'spectral.json');
    const { code, stdout, stderr } = await run('spectral', [
      'lint',
      file,
      '--ruleset',
      join(ROOT, '.spectral.yaml'),
      '--format',
      'json',
      '--output',
      results,
      '--fail-severity',
      'hint',
    ]);
    expect(JSON.parse(readFileSync(results, 'utf8')), `${stdout}${stderr}`).toEqual([]);
    expect(code).toBe(0);
  });

  it('names its server, and gives every operation an id, a summary and, where it can refuse, its 4xx', () => {
    expect(document.servers).toEqual([{ url: running.url, description: 'this Timebox grant service' }]);
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const name = `${method.toUpperCase()} ${path}`;
        expect(operation.operationId, name).toBe(operationIdOf(method, path.replace(/\{(\w+)\}/g, ':$1')));
        expect(operation.summary, name).toBeTruthy();
        // What Redocly's operation-4xx-response checked, less the three public routes that never refuse.
        if (!PUBLIC_WITHOUT_REFUSALS.includes(name))
          expect(
            Object.keys(operation.responses).some((status) => status.startsWith('4')),
            name,
          ).toBe(true);
        // What Redocly's operation-2xx-response checked, with a 302 for the two redirects.
        const success = REDIRECTS_ONLY.includes(name) ? /^302$/ : /^2/;
        expect(
          Object.keys(operation.responses).some((status) => success.test(status)),
          name,
        ).toBe(true);
      }
    }
    expect(operationIdOf('post', '/v1/requests/:id/approve')).toBe('postRequestsByIdApprove');
  });
});
