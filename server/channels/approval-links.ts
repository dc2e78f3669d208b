import { createHmac, timingSafeEqual } from 'node:crypto';

/** What an approval link stands for: one approver deciding one request, until the request lapses. */
export interface ApprovalLink {
  /** The delivery that carried it: a link is used once, and its delivery's id says which one it is. */
  readonly id: string;
  readonly requestId: string;
  readonly approverId: string;
  /** The request's lapse, in ms: the link lapses with it. */
  readonly expiresAt: number;
}

const LINK_FIELDS = ['id', 'requestId', 'approverId', 'expiresAt'] as const;

/**
 * Signs and reads approval links and the approval page's CSRF tokens, with the email channel's link key
 * (HMAC-SHA256). A link names its approver: only they, signed in, can decide through it.
 */
export class ApprovalLinks {
  constructor(private readonly key: string) {}

  sign(link: ApprovalLink): string {
    const body = Buffer.from(JSON.stringify(LINK_FIELDS.map((field) => link[field]))).toString('base64url');
    return `${body}.${this.mac(`link:${body}`)}`;
  }

  /** The link a token stands for; null for anything this service did not sign. Expiry is the caller's. */
  read(token: string): ApprovalLink | null {
    const [body, mac, ...rest] = token.split('.');
    if (body === undefined || mac === undefined || rest.length > 0) return null;
    if (!this.matches(mac, this.mac(`link:${body}`))) return null;
    try {
      const value: unknown = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      if (!Array.isArray(value) || value.length !== LINK_FIELDS.length) return null;
      const [id, requestId, approverId, expiresAt] = value as unknown[];
      if (typeof id !== 'string' || typeof requestId !== 'string' || typeof approverId !== 'string')
        return null;
      if (typeof expiresAt !== 'number') return null;
      return { id, requestId, approverId, expiresAt };
    } catch {
      return null;
    }
  }

  /** The form's CSRF token: bound to the signed-in session and to the link. */
  csrf(sessionToken: string, link: ApprovalLink): string {
    return this.mac(`csrf:${link.id}:${sessionToken}`);
  }

  checkCsrf(given: string, sessionToken: string, link: ApprovalLink): boolean {
    return this.matches(given, this.csrf(sessionToken, link));
  }

  private mac(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64url');
  }

  private matches(given: string, expected: string): boolean {
    const a = Buffer.from(given);
    const b = Buffer.from(expected);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}
