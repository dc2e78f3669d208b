import type { RequestView } from '../../api/schemas.js';
import { escapeHtml, requestFacts } from './request-facts.js';

/** A mail's subject and its two parts. */
export interface Message {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body style="font-family: sans-serif; color: #1a1a1a">${body}</body></html>`;
}

function table(rows: readonly [string, string][]): string {
  return `<table>${rows.map(([name, value]) => `<tr><th scope="row" style="text-align: left; padding-right: 1em">${escapeHtml(name)}</th><td>${escapeHtml(value)}</td></tr>`).join('')}</table>`;
}

/** To an approver: the request, and links to approve or deny it on the approval page. */
export function approvalMessage(request: RequestView, requester: string, link: string): Message {
  const rows = requestFacts(request, requester);
  const subject = `Approve ${requester}'s access to ${request.resourceId} (${request.role})?`;
  const denyLink = `${link}?decision=deny`;
  return {
    subject,
    text: [
      `${requester} asks for access. You are one of the approvers.`,
      '',
      ...rows.map(([name, value]) => `${name}: ${value}`),
      '',
      `Approve: ${link}`,
      `Deny: ${denyLink}`,
      '',
      'The link is yours alone: you sign in before deciding. It works once, until the request lapses.',
    ].join('\n'),
    html: page(
      subject,
      `<p>${escapeHtml(requester)} asks for access. You are one of the approvers.</p>${table(rows)}
<p><a href="${escapeHtml(link)}">Approve</a> &nbsp; <a href="${escapeHtml(denyLink)}">Deny</a></p>
<p>The link is yours alone: you sign in before deciding. It works once, until the request lapses.</p>`,
    ),
  };
}

const OUTCOMES: Readonly<Record<string, string>> = {
  approved: 'was approved',
  denied: 'was denied',
  cancelled: 'was cancelled',
  lapsed: 'lapsed: nobody decided in time',
};

/** To a requester: what became of their request. */
export function outcomeMessage(request: RequestView, requester: string): Message {
  const outcome = OUTCOMES[request.status] ?? request.status;
  const subject = `Your request for ${request.resourceId} (${request.role}) ${outcome}`;
  const comments = request.decisions
    .filter((decision) => decision.comment)
    .map((decision): [string, string] => [`${decision.approverId} (${decision.decision})`, decision.comment]);
  const rows = [...requestFacts(request, requester).slice(1, -1), ...comments];
  return {
    subject,
    text: [subject + '.', '', ...rows.map(([name, value]) => `${name}: ${value}`)].join('\n'),
    html: page(subject, `<p>${escapeHtml(subject)}.</p>${table(rows)}`),
  };
}
