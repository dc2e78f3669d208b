import { decisionText, rangeText, verdictText, type ReviewRow, type ReviewStamp } from './access-review.js';

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (character) => ESCAPES[character] ?? character);

// Printed landscape on A4 or Letter: the header row repeats on every page, a grant never splits across
// two, and the totals start a page of their own.
const STYLE = `
  :root { color-scheme: light; font: 11px/1.4 system-ui, sans-serif; color: #1d1d21; }
  body { margin: 24px; }
  h1 { font-size: 18px; margin: 0 0 4px; }
  .stamp { margin: 0 0 12px; padding: 8px 12px; border: 1px solid #b8b8bf; border-radius: 6px; }
  .stamp.broken { border-color: #b42318; color: #b42318; font-weight: 600; }
  .stamp p { margin: 2px 0; }
  table { width: 100%; border-collapse: collapse; }
  th, td { padding: 3px 6px; border-bottom: 1px solid #dcdce0; text-align: left; vertical-align: top; }
  thead th { background: #efeff1; }
  td.time { white-space: nowrap; font-variant-numeric: tabular-nums; }
  ol { margin: 0; padding-left: 16px; }
  .totals { margin-top: 24px; }
  .totals table { width: auto; min-width: 320px; margin-bottom: 12px; }
  .totals caption { text-align: left; font-weight: 600; padding: 4px 6px; }
  .totals td:last-child { text-align: right; font-variant-numeric: tabular-nums; }
  @page { size: landscape; margin: 12mm; }
  @media print {
    body { margin: 0; }
    thead { display: table-header-group; }
    tr { break-inside: avoid; }
    .totals { break-before: page; }
  }
`;

const plural = (count: number, one: string, many: string): string => `${count} ${count === 1 ? one : many}`;

/** "2030-01-07 09:01:00Z": an ISO time as a person reads it in a table. */
const readable = (iso: string): string => iso.replace('T', ' ').replace('.000Z', 'Z');
const time = (iso: string): string => `<td class="time">${escape(readable(iso))}</td>`;

function rowHtml(row: ReviewRow): string {
  const decisions =
    row.decisions.length === 0
      ? 'approved at once by the policy'
      : `<ol>${row.decisions.map((decision) => `<li>${escape(decisionText({ ...decision, at: readable(decision.at) }))}</li>`).join('')}</ol>`;
  return `<tr><td>${escape(row.grantId)}</td><td>${escape(row.requester)}</td><td>${escape(`${row.resourceId}/${row.role}`)}</td>${time(row.requestedAt)}<td>${escape(row.reason)}</td><td>${escape(row.ticket)}</td><td>${decisions}</td>${time(row.start)}${time(row.end)}<td>${escape(row.endReason)}${row.endedBy ? ` (${escape(row.endedBy)})` : ''}</td></tr>\n`;
}

/**
 * The review as a page to read and print: the audit stamp on top, one row per grant, then the totals (per
 * end reason, per role, and the people). Streamed row by row; only the totals are kept while it goes.
 */
export async function* reviewHtml(
  rows: AsyncIterable<ReviewRow>,
  stamp: ReviewStamp,
): AsyncGenerator<string> {
  const from = new Date(stamp.period.from).toISOString();
  const to = new Date(stamp.period.to).toISOString();
  yield `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Access review ${escape(from)} to ${escape(to)}</title><style>${STYLE}</style></head><body>\n`;
  yield `<h1>Access review</h1>\n<div class="stamp${stamp.verdict.ok ? '' : ' broken'}"><p>Every grant live between ${escape(from)} and ${escape(to)}; generated ${escape(new Date(stamp.generatedAt).toISOString())}.</p><p>Audit chain ${escape(verdictText(stamp.verdict))}; ${escape(rangeText(stamp))}.</p></div>\n`;
  yield '<table><thead><tr><th>Grant</th><th>Requester</th><th>Role</th><th>Requested</th><th>Reason</th><th>Ticket</th><th>Approvers and decisions</th><th>Start</th><th>End</th><th>End reason</th></tr></thead><tbody>\n';
  let grants = 0;
  const byEnd = new Map<string, number>();
  const byRole = new Map<string, number>();
  const people = new Set<string>();
  for await (const row of rows) {
    grants++;
    byEnd.set(row.endReason, (byEnd.get(row.endReason) ?? 0) + 1);
    byRole.set(`${row.resourceId}/${row.role}`, (byRole.get(`${row.resourceId}/${row.role}`) ?? 0) + 1);
    people.add(row.requester);
    yield rowHtml(row);
  }
  if (grants === 0) yield '<tr><td colspan="10">No grant was live in this period.</td></tr>\n';
  yield '</tbody></table>\n';
  const table = (caption: string, counts: ReadonlyMap<string, number>): string =>
    `<table><caption>${escape(caption)}</caption><tbody>${[...counts]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, count]) => `<tr><td>${escape(name)}</td><td>${count}</td></tr>`)
      .join('')}</tbody></table>`;
  yield `<section class="totals"><h2>Totals</h2><p>${plural(grants, 'grant', 'grants')} to ${plural(people.size, 'person', 'people')}.</p>${table('By end reason', byEnd)}${table('By role', byRole)}</section>\n</body></html>\n`;
}
