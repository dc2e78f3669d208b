import type { Policy } from '../policy/types.js';
import { ApprovalLinks } from './approval-links.js';
import type { Channel } from './channel.js';
import { EmailChannel } from './email.js';
import { ChannelOutbox } from './outbox.js';
import { WebhookChannel } from './webhooks.js';

/** The channels the policy configures, the outbox that addresses them, and the approval links' signer. */
export interface ChannelSetup {
  readonly channels: readonly Channel[];
  readonly outbox: ChannelOutbox;
  /** Null without the email channel: then there is no approval page either. */
  readonly approvalLinks: ApprovalLinks | null;
  readonly retryForMs: number;
  /** Lets go of the channels' connections (the SMTP pool). */
  readonly close: () => void;
}

/** Builds what the policy's `channels` section asks for; `publicUrl` starts the approval links. */
export function createChannels(policy: Policy, publicUrl: () => string): ChannelSetup {
  const settings = policy.channels ?? {
    webhooks: [],
    email: null,
    retryForSeconds: 86_400,
    timeoutSeconds: 10,
  };
  const timeoutMs = settings.timeoutSeconds * 1000;
  const retryForMs = settings.retryForSeconds * 1000;
  const approvalLinks = settings.email ? new ApprovalLinks(settings.email.linkSecret) : null;
  const email =
    settings.email && approvalLinks
      ? new EmailChannel(policy, settings.email, approvalLinks, publicUrl, timeoutMs)
      : null;
  const channels: Channel[] = [new WebhookChannel(settings.webhooks, timeoutMs), ...(email ? [email] : [])];
  return {
    channels,
    outbox: new ChannelOutbox(channels, retryForMs),
    approvalLinks,
    retryForMs,
    close: () => {
      email?.close();
    },
  };
}
