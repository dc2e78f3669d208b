import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  readonly to: string;
  readonly subject: string;
  readonly messageId: string;
  /** The whole message, quoted-printable decoded: both parts. */
  readonly decoded: string;
  readonly raw: string;
}

/** Undoes quoted-printable soft line breaks and escapes (nodemailer's encoding of long ASCII lines). */
const decodeQuotedPrintable = (text: string): string =>
  text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

const header = (raw: string, name: string): string => {
  const match = new RegExp(`^${name}: (.*(?:\\r\\n[ \\t].*)*)`, 'mi').exec(raw);
  return (match?.[1] ?? '').replace(/\r\n[ \t]/g, ' ');
};

/** A real SMTP server (smtp-server) on a free port, keeping every mail it is given. */
export class Mailbox {
  readonly mails: ReceivedMail[] = [];

  private constructor(
    private readonly server: SMTPServer,
    readonly url: string,
  ) {}

  static async start(): Promise<Mailbox> {
    let mailbox: Mailbox | null = null;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          for (const recipient of session.envelope.rcptTo) {
            mailbox?.mails.push({
              to: recipient.address,
              subject: header(raw, 'Subject'),
              messageId: header(raw, 'Message-ID'),
              decoded: decodeQuotedPrintable(raw),
              raw,
            });
          }
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.server.address() as AddressInfo;
    mailbox = new Mailbox(server, `smtp://127.0.0.1:${port}`);
    return mailbox;
  }

  to(address: string): ReceivedMail[] {
    return this.mails.filter((mail) => mail.to === address);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }
}

/** The approval link in a mail (the Approve one: the Deny one adds ?decision=deny). */
export function approvalLinkIn(mail: ReceivedMail): string {
  const match = /(https?:\/\/[^\s"<>]+\/approve\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(mail.decoded);
  if (!match?.[1]) throw new Error(`no approval link in the mail:\n${mail.decoded}`);
  return match[1];
}
