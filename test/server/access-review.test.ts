import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'csv-stringify/sync';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntryView, GrantView, RequestView } from '../../api/schemas.js';
import { hashPassword, parsePolicy, type Policy } from '../../server/index.js';
import { DATABASES } from '../support/databases.js';
import { startService, TEST_PASSWORD_COST, type RunningService } from '../support/service.js';

interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

const OUTPUT = fileURLToPath(new URL('../../test-results/reports/', import.meta.url));
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const iso = (ms: number): string => new Date(ms).toISOString();

/** An app whose role a team lead approves, a sandbox approved at once, and audrey, an auditor. */
async function reviewPolicy(): Promise<Policy> {
  const hash = await hashPassword('demo', TEST_PASSWORD_COST);
  const user = (name: string, groups: string, extra = '') =>
    `  ${name}: { displayName: ${name}, passwordHash: "${hash}", groups: [${groups}]${extra} }`;
  return parsePolicy({
    file: 'access-review.test.ts',
    env: {},
    text: [
      'version: 1',
      'groups: { engineers: {}, team-leads: {}, admins: {} }',
      'users:',
      user('alice', 'engineers'),
      user('bob', 'team-leads'),
      user('audrey', '', ', auditor: true'),
      user('admin', 'admins', ', admin: true'),
      'resources:',
      '  app:',
      '    name: App',
      '    kind: database',
      '    roles:',
      '      read:',
      '        requesters: [engineers]',
      '        duration: { min: 1m, default: 1h, max: 4h }',
      '        approval: { mode: any, approvers: { groups: [team-leads] } }',
      '  sandbox:',
      '    name: Sandbox',
      '    kind: kubernetes',
      '    roles:',
      '      operator:',
      '        requesters: [engineers]',
      '        duration: { min: 10s, default: 5m, max: 1h }',
      '        reasonRequired: false',
      '        approval: auto',
    ].join('\n'),
  });
}

describe.each(DATABASES)('the access review on %s', (kind) => {
  let running: RunningService;
  const token = new Map<string, string>();
  const as = (name: string): string => token.get(name) ?? '';
  let start = 0;
  const grants: GrantView[] = [];

  async function ask(
    resourceId: string,
    role: string,
    seconds: number,
    reason: string,
  ): Promise<RequestView> {
    const response = await running.api.post<RequestView>('/v1/requests', as('alice'), {
      resourceId,
      role,
      durationSeconds: seconds,
      reason,
    });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  }

  async function grantOf(id: string | null): Promise<GrantView> {
    return (await running.api.get<GrantView>(`/v1/grants/${id ?? ''}`, as('admin'))).body;
  }

  beforeAll(async () => {
    running = await startService({ kind, policy: await reviewPolicy() });
    for (const name of ['alice', 'bob', 'audrey', 'admin']) token.set(name, await running.api.login(name));
    start = running.clock.now();
    // A reason a spreadsheet would run as a formula, approved by bob with a comment, given back early.
    const first = await ask('app', 'read', 3600, '=HYPERLINK("http://evil.example","fix")');
    await running.advance(MINUTE);
    await running.api.post(`/v1/requests/${first.id}/approve`, as('bob'), { comment: 'ok, "quoted"' });
    await running.advance(10 * MINUTE);
    const firstGrant = await grantOf(
      (await running.api.get<RequestView>(`/v1/requests/${first.id}`, as('alice'))).body.grantId,
    );
    expect((await running.api.post(`/v1/grants/${firstGrant.id}/revoke`, as('alice'), {})).status).toBe(200);
    // Approved at once, left to expire.
    const second = await ask('sandbox', 'operator', 300, '');
    await running.advance(5 * MINUTE);
    // Markup in a reason, still active when the review is read.
    const third = await ask('app', 'read', 3600, '<script>alert(1)</script>');
    await running.api.post(`/v1/requests/${third.id}/approve`, as('bob'), {});
    const thirdRequest = (await running.api.get<RequestView>(`/v1/requests/${third.id}`, as('alice'))).body;
    grants.push(
      await grantOf(firstGrant.id),
      await grantOf(second.grantId),
      await grantOf(thirdRequest.grantId),
    );
  }, 60_000);
  afterAll(async () => {
    await running.stop();
  });

  const period = (): string => `from=${iso(start - HOUR)}&to=${iso(start + DAY)}`;

  it('streams every grant of the period as CSV, stamped with the verified audit chain and its range', async () => {
    const response = await running.api.get<string>(
      `/v1/reports/access-review?${period()}&format=csv`,
      as('audrey'),
    );
    expect(response.status, response.body).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toContain('timebox-access-review-');

    const verdict = (
      await running.api.get<{ ok: boolean; entries: number }>('/v1/audit/verify', as('audrey'))
    ).body;
    expect(verdict.ok).toBe(true);
    const audit = (await running.api.get<{ items: AuditEntryView[] }>('/v1/audit?limit=200', as('audrey')))
      .body.items;
    // Reading the verdict and the log adds no entry: the review saw them all.
    const last = audit.at(-1)?.seq ?? 0;
    expect(verdict.entries).toBe(last);
    expect(response.headers.get('x-timebox-audit-verified')).toBe('true');
    expect(response.headers.get('x-timebox-audit-range')).toBe(`1-${last}`);

    const [firstGrant, secondGrant, thirdGrant] = grants;
    if (!firstGrant || !secondGrant || !thirdGrant) throw new Error('the history has three grants');
    const row = (grant: GrantView, cells: Record<string, string>): string[] => [
      grant.id,
      grant.requestId,
      grant.resourceId,
      grant.role,
      'alice',
      cells.requestedAt ?? '',
      cells.reason ?? '',
      '',
      cells.approvers ?? '',
      cells.decisions ?? '',
      grant.startsAt,
      grant.endedAt ?? grant.expiresAt,
      cells.endReason ?? '',
      cells.endedBy ?? '',
      grant.status,
    ];
    expect(response.body).toBe(
      [
        `# Timebox access review from ${iso(start - HOUR)} to ${iso(start + DAY)}, generated ${iso(running.clock.now())}\n`,
        `# Audit chain verified: the chain of ${last} entries is intact; audit entries 1 to ${last} (${last} entries) cover the period\n`,
        stringify([
          [
            'grantId',
            'requestId',
            'resourceId',
            'role',
            'requester',
            'requestedAt',
            'reason',
            'ticket',
            'approvers',
            'decisions',
            'start',
            'end',
            'endReason',
            'endedBy',
            'status',
          ],
          row(firstGrant, {
            requestedAt: iso(start),
            // Kept as text by a spreadsheet, not run.
            reason: `'=HYPERLINK("http://evil.example","fix")`,
            approvers: 'bob',
            decisions: `bob approved ${iso(start + MINUTE)}: ok, "quoted"`,
            endReason: 'relinquished',
            endedBy: 'alice',
          }),
          row(secondGrant, { requestedAt: iso(start + 11 * MINUTE), endReason: 'expired' }),
          row(thirdGrant, {
            requestedAt: iso(start + 16 * MINUTE),
            reason: '<script>alert(1)</script>',
            approvers: 'bob',
            decisions: `bob approved ${iso(start + 16 * MINUTE)}`,
            endReason: 'active',
          }),
        ]),
      ].join(''),
    );
    // Every grant of the review is on the audit log within the range the stamp names.
    for (const grant of grants) {
      expect(
        audit.find((entry) => entry.action === 'grant.activated' && entry.subjectId === grant.id),
      ).toBeDefined();
    }
  });

  it('prints the page to PDF in Chromium: escaped, styled for print, totals on their own page', async () => {
    const response = await running.api.get<string>(
      `/v1/reports/access-review?${period()}&format=html`,
      as('audrey'),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(response.body).not.toContain('<script>');
    expect(response.body).toContain('Audit chain verified: the chain of');
    expect(response.body).toContain('<p>3 grants to 1 person.</p>');
    expect(response.body).toContain('@media print');

    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu'],
    });
    try {
      const page = await browser.newPage();
      await page.setExtraHTTPHeaders({ authorization: `Bearer ${as('audrey')}` });
      const opened = await page.goto(`${running.url}/v1/reports/access-review?${period()}&format=html`);
      expect(opened?.status()).toBe(200);
      expect(await page.getByRole('heading', { name: 'Access review' }).count()).toBe(1);
      expect(await page.getByRole('row').filter({ hasText: 'relinquished (alice)' }).count()).toBe(1);
      // Kept for a person to open: the printout and a picture of the page as printed.
      mkdirSync(OUTPUT, { recursive: true });
      await page.emulateMedia({ media: 'print' });
      await page.screenshot({ path: join(OUTPUT, `access-review-print-${kind}.png`), fullPage: true });
      const pdf = await page.pdf({
        format: 'A4',
        landscape: true,
        printBackground: true,
        path: join(OUTPUT, `access-review-${kind}.pdf`),
      });
      expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      // The grants on the first page, the totals on a page of their own.
      const pages = pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? [];
      expect(pages.length).toBe(2);
    } finally {
      await browser.close();
    }
  });

  it('says the chain is broken when the log was edited', async () => {
    const { db } = running.service;
    await db.exec('ALTER TABLE audit_log DISABLE TRIGGER USER');
    try {
      await db.query(`UPDATE audit_log SET data = '{"edited": true}'::jsonb WHERE seq = 2`);
      const response = await running.api.get<string>(`/v1/reports/access-review?${period()}`, as('admin'));
      expect(response.status).toBe(200);
      expect(response.headers.get('x-timebox-audit-verified')).toBe('false');
      expect(response.body.split('\n')[1]).toMatch(/^# Audit chain NOT verified: .* \(entry 2\);/);
      const page = await running.api.get<string>(
        `/v1/reports/access-review?${period()}&format=html`,
        as('admin'),
      );
      expect(page.body).toContain('<div class="stamp broken">');
    } finally {
      await db.query(`UPDATE audit_log SET data = $1::jsonb WHERE seq = 2`, [
        JSON.stringify(
          (await running.api.get<{ items: AuditEntryView[] }>('/v1/audit?after=1&limit=1', as('admin'))).body
            .items[0]?.data,
        ),
      ]);
      await db.exec('ALTER TABLE audit_log ENABLE TRIGGER USER');
    }
  });

  it('gives an empty period a header and no rows, and refuses bad periods and formats', async () => {
    const empty = 'from=2020-01-01T00:00:00.000Z&to=2020-02-01T00:00:00.000Z';
    const csv = await running.api.get<string>(`/v1/reports/access-review?${empty}`, as('audrey'));
    expect(csv.status).toBe(200);
    const lines = csv.body.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain('no audit entries in the period');
    expect(csv.headers.get('x-timebox-audit-range')).toBe('none');
    const html = await running.api.get<string>(
      `/v1/reports/access-review?${empty}&format=html`,
      as('audrey'),
    );
    expect(html.body).toContain('No grant was live in this period.');
    expect(html.body).toContain('<p>0 grants to 0 people.</p>');

    for (const [query, code] of [
      ['from=2030-02-01T00:00:00Z&to=2030-01-01T00:00:00Z', 'invalid_period'],
      ['from=2029-01-01T00:00:00Z&to=2030-02-06T00:00:00Z', 'invalid_period'],
      ['from=last-week', 'invalid_request'],
      ['format=pdf', 'invalid_request'],
    ] as const) {
      const refused = await running.api.get<ErrorBody>(`/v1/reports/access-review?${query}`, as('audrey'));
      expect(refused.status, query).toBe(400);
      expect(refused.body.error.code, query).toBe(code);
    }
  });

  it('lets an auditor read reports and the audit log, and nothing else an administrator may', async () => {
    for (const path of ['/v1/reports/access-review', '/v1/audit', '/v1/audit/verify', '/v1/audit/export']) {
      expect((await running.api.get(path, as('audrey'))).status, path).toBe(200);
    }
    for (const path of [
      '/v1/insights/roles',
      '/v1/insights/recommendations',
      '/v1/seat-pools/utilization',
      '/v1/grants?scope=all',
      `/v1/grants/${grants[0]?.id ?? ''}`,
    ]) {
      const response = await running.api.get<ErrorBody>(path, as('audrey'));
      expect([403, 404], path).toContain(response.status);
    }
    const revoke = await running.api.post<ErrorBody>(
      `/v1/grants/${grants[2]?.id ?? ''}/revoke`,
      as('audrey'),
      {},
    );
    expect(revoke.status).toBe(404);
    const asked = await running.api.post<ErrorBody>('/v1/requests', as('audrey'), {
      resourceId: 'sandbox',
      role: 'operator',
      durationSeconds: 60,
      reason: '',
    });
    expect(asked.status).toBe(403);
    // Neither an engineer nor an approver reads reviews.
    for (const name of ['alice', 'bob']) {
      const refused = await running.api.get<ErrorBody>('/v1/reports/access-review', as(name));
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('admin_only');
    }
    expect((await running.api.get('/v1/reports/access-review')).status).toBe(401);
  });
});
