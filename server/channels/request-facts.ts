import type { RequestView } from '../../api/schemas.js';

/** Text as HTML shows it: the five characters that could start markup or end an attribute, escaped. */
export const escapeHtml = (value: string): string =>
  value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/** What an approver sees of a request, as name and value pairs, in the mail and on the approval page alike. */
export function requestFacts(request: RequestView, requester: string): [string, string][] {
  const rows: [string, string][] = [
    ['Requester', requester],
    ['Resource', request.resourceId],
    ['Role', request.role],
    ['Duration', `${Math.round(request.durationSeconds / 60)} minutes`],
    ['Reason', request.reason || '(none given)'],
  ];
  if (request.ticket) rows.push(['Ticket', request.ticket]);
  if (request.stage)
    rows.push(['Stage', `${request.stage.name} (${request.stage.index + 1} of ${request.stage.total})`]);
  rows.push(['Decide by', new Date(request.expiresAt).toUTCString()]);
  return rows;
}
