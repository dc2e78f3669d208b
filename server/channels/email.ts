import nodemailer, { type Transporter } from 'nodemailer';
import type { RequestView } from '../../api/schemas.js';
import type { Announcement } from '../domain/announcements.js';
import type { EmailSettings, Policy } from '../policy/types.js';
import type { ApprovalLinks } from './approval-links.js';
import type { Addressed, Channel, Delivery } from './channel.js';
import { approvalMessage, outcomeMessage } from './email-messages.js';

/** What an email delivery holds: the request as it was. Its target is a user id; the address is read at send. */
interface EmailPayload {
  readonly kind: 'approval' | 'outcome';
  readonly request: RequestView;
}

const isEmailPayload = (value: unknown): value is EmailPayload =>
  typeof value === 'object' &&
  value !== null &&
  'kind' in value &&
  (value.kind === 'approval' || value.kind === 'outcome') &&
  'request' in value;

/**
 * Mail through an SMTP server (nodemailer): approvers newly asked get the request with Approve and Deny
 * links to the service's approval page (`/approve/<link>`, signed, one approver's, once, until the request
 * lapses); requesters get their request's outcome. People without an `email` in the policy get nothing.
 */
export class EmailChannel implements Channel {
  readonly name = 'email';
  private readonly transport: Transporter;
  private readonly from: string;

  constructor(
    private readonly policy: Policy,
    settings: EmailSettings,
    private readonly links: ApprovalLinks,
    /** The URL people reach the service at, for the links. */
    private readonly publicUrl: () => string,
    timeoutMs: number,
  ) {
    const url = new URL(settings.smtpUrl);
    this.transport = nodemailer.createTransport({
      host: url.hostname,
      port: url.port === '' ? (url.protocol === 'smtps:' ? 465 : 587) : Number(url.port),
      secure: url.protocol === 'smtps:',
      ...(url.username === ''
        ? {}
        : { auth: { user: decodeURIComponent(url.username), pass: settings.smtpPassword ?? '' } }),
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
    });
    this.from = settings.from;
  }

  address(announcement: Announcement): Addressed[] {
    switch (announcement.type) {
      case 'approval.needed':
        return announcement.approvers
          .filter((approverId) => this.policy.users.get(approverId)?.email !== undefined)
          .map((approverId) => ({
            target: approverId,
            eventType: announcement.type,
            payload: { kind: 'approval', request: announcement.data } satisfies EmailPayload,
          }));
      case 'request.approved':
      case 'request.denied':
      case 'request.cancelled':
      case 'request.lapsed': {
        const request = announcement.data;
        if (this.policy.users.get(request.requesterId)?.email === undefined) return [];
        return [
          {
            target: request.requesterId,
            eventType: announcement.type,
            payload: { kind: 'outcome', request } satisfies EmailPayload,
          },
        ];
      }
      default:
        return [];
    }
  }

  // A mail in flight at a stop is left to its timeouts: nodemailer takes no signal.
  async send(delivery: Delivery): Promise<void> {
    const to = this.policy.users.get(delivery.target)?.email;
    if (to === undefined)
      throw new Error(`user "${delivery.target}" has no email address in the policy any more`);
    if (!isEmailPayload(delivery.payload)) throw new Error('the delivery is not an email');
    const { request } = delivery.payload;
    const requester = this.policy.users.get(request.requesterId)?.displayName ?? request.requesterId;
    const message =
      delivery.payload.kind === 'approval'
        ? approvalMessage(request, requester, this.linkFor(delivery, request))
        : outcomeMessage(request, requester);
    try {
      await this.transport.sendMail({
        from: this.from,
        to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        // The same id on every attempt: a mail server or client that sees it twice can tell.
        messageId: `<${delivery.id}@timebox>`,
      });
    } catch (error) {
      const code = error instanceof Error && 'code' in error ? String(error.code) : null;
      throw new Error(`the mail server did not take it${code ? ` (${code})` : ''}`, { cause: error });
    }
  }

  private linkFor(delivery: Delivery, request: RequestView): string {
    const token = this.links.sign({
      id: delivery.id,
      requestId: request.id,
      approverId: delivery.target,
      expiresAt: Date.parse(request.expiresAt),
    });
    return `${this.publicUrl()}/approve/${token}`;
  }

  close(): void {
    this.transport.close();
  }
}
