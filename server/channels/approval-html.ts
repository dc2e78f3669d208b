import type { RequestView } from '../../api/schemas.js';
import { escapeHtml, requestFacts } from './request-facts.js';

/** The approval page's HTML: server-rendered, no script, one form per step. */

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1b1d21; }
main { max-width: 34rem; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: 8px;
  box-shadow: 0 1px 3px rgba(0,0,0,.15); }
h1 { font-size: 1.4rem; margin-top: 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .4rem 1rem; }
dt { font-weight: 600; } dd { margin: 0; overflow-wrap: anywhere; }
label { display: block; font-weight: 600; margin: 1rem 0 .3rem; }
input, textarea { width: 100%; box-sizing: border-box; font: inherit; padding: .5rem; border: 1px solid #6b7280;
  border-radius: 4px; }
.actions { display: flex; gap: .75rem; margin-top: 1.25rem; }
button { font: inherit; font-weight: 600; padding: .6rem 1.4rem; border-radius: 4px; border: 1px solid transparent;
  cursor: pointer; }
.approve { background: #0b6b2f; color: #fff; } .deny { background: #fff; color: #9b1c1c; border-color: #9b1c1c; }
.primary { background: #1d4ed8; color: #fff; }
.notice { padding: .75rem 1rem; border-radius: 4px; background: #fef3c7; color: #78350f; }
.done { background: #dcfce7; color: #14532d; }
`;

export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Timebox</title><style>${STYLE}</style></head>
<body><main><h1>${escapeHtml(title)}</h1>
${body}
</main></body></html>`;
}

export function requestDetails(request: RequestView, requester: string): string {
  const rows = requestFacts(request, requester);
  return `<dl>${rows.map(([name, value]) => `<dt>${escapeHtml(name)}</dt><dd>${escapeHtml(value)}</dd>`).join('')}</dl>`;
}

export function signInPage(
  action: string,
  approver: { id: string; displayName: string },
  withOtp: boolean,
  problem: string | null,
): string {
  return htmlPage(
    'Sign in to decide',
    `${problem ? `<p class="notice" role="alert">${escapeHtml(problem)}</p>` : ''}
<p>This link was sent to ${escapeHtml(approver.displayName)}. Sign in as them to see the request.</p>
<form method="post" action="${escapeHtml(action)}">
<label for="username">Username</label>
<input id="username" name="username" value="${escapeHtml(approver.id)}" readonly autocomplete="username">
<label for="password">Password</label>
<input id="password" name="password" type="password" required autocomplete="current-password">
${withOtp ? '<label for="otp">Code from your authenticator app</label><input id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code" required>' : ''}
<div class="actions"><button class="primary" type="submit">Sign in</button></div>
</form>`,
  );
}

export function decisionPage(
  action: string,
  request: RequestView,
  requester: string,
  csrf: string,
  preferred: 'approve' | 'deny',
): string {
  return htmlPage(
    'Decide on this request',
    `${requestDetails(request, requester)}
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<label for="comment">Comment${preferred === 'deny' ? ' (say why you deny it)' : ' (optional)'}</label>
<textarea id="comment" name="comment" rows="3" maxlength="500"></textarea>
<div class="actions">
<button class="approve" type="submit" name="decision" value="approve">Approve</button>
<button class="deny" type="submit" name="decision" value="deny">Deny</button>
</div>
</form>`,
  );
}

export function messagePage(title: string, message: string, done = false): string {
  return htmlPage(
    title,
    `<p class="${done ? 'notice done' : 'notice'}" role="status">${escapeHtml(message)}</p>`,
  );
}
