import type { Policy } from '../../server/index.js';
import { demoOrganisation } from './service.js';

export const EMAILS: Readonly<Record<string, string>> = {
  alice: 'alice@example.test',
  bob: 'bob@example.test',
  carol: 'carol@example.test',
};

/** The demo organisation with mail addresses for alice, bob and carol, and the email channel on `smtpUrl`. */
export async function withEmail(smtpUrl: string): Promise<Policy> {
  const policy = await demoOrganisation();
  return {
    ...policy,
    users: new Map(
      [...policy.users].map(([id, user]) => {
        const email = EMAILS[id];
        return [id, email === undefined ? user : { ...user, email }];
      }),
    ),
    channels: {
      webhooks: [],
      email: {
        smtpUrl,
        smtpPassword: null,
        from: 'Timebox <timebox@example.test>',
        linkSecret: 'a-link-key-for-tests-only-0123456789abcdef',
      },
      retryForSeconds: 3600,
      timeoutSeconds: 5,
    },
  };
}
