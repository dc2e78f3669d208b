import { describe, expect, it } from 'vitest';
import { activated, ended, requestChanged, type NoticeContext } from '../../main/core/notice-text.js';
import { catalog, grantState, requestView } from './fixtures.js';

const context: NoticeContext = { catalog, clockOffsetMs: 0, displayName: (userId) => userId };
const until = (expiresAt: string) =>
  new Date(Date.parse(expiresAt)).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

describe('what the activation notice says about the credential', () => {
  it('says it is in the keychain only when it was stored', () => {
    const grant = grantState({ credential: 'stored' });
    expect(activated(context, grant)).toMatchObject({
      kind: 'activated',
      key: `activated:${grant.id}`,
      title: 'Access granted: Production database (orders) · read',
      body: `Until ${until(grant.expiresAt)}. The credential is in your keychain.`,
    });
  });

  it('says why it is not, when there is no keychain or the fetch failed', () => {
    const noKeychain = grantState({
      credential: 'failed',
      credentialError: 'No system keychain is available (no D-Bus). Unlock or start one.',
    });
    expect(activated(context, noKeychain).body).toBe(
      `Until ${until(noKeychain.expiresAt)}. Its credential is not in your keychain: No system keychain is available (no D-Bus). Unlock or start one.`,
    );
    const failed = grantState({ credential: 'failed', credentialError: null });
    expect(activated(context, failed).body).toBe(
      `Until ${until(failed.expiresAt)}. Its credential is not in your keychain: it could not be fetched.`,
    );
  });

  it.each(['none', 'fetching', 'wiped'] as const)('claims nothing about a credential that is %s', (state) => {
    const grant = grantState({ credential: state });
    expect(activated(context, grant).body).toBe(`Until ${until(grant.expiresAt)}.`);
  });
});

describe('what the ended notice says about the credential', () => {
  const grant = grantState({ status: 'revoked', endReason: 'revoked' });

  it('says it was removed when it was', () => {
    expect(ended(context, grant, { outcome: 'removed' })).toMatchObject({
      kind: 'ended',
      key: `ended:${grant.id}`,
      body: 'An administrator revoked it. Its credential was removed from your keychain.',
    });
  });

  it('says nothing of a removal when nothing was stored', () => {
    expect(ended(context, grant, { outcome: 'none' })).toMatchObject({
      kind: 'ended',
      body: 'An administrator revoked it.',
    });
  });

  it('says the removal failed, why, and what happens next; under its own kind, with the same key', () => {
    const notice = ended(
      context,
      { ...grant, endReason: 'expired' },
      {
        outcome: 'failed',
        message: 'The login keyring is locked.',
      },
    );
    expect(notice).toMatchObject({
      kind: 'credential-kept',
      key: `ended:${grant.id}`,
      title: 'Access ended: Production database (orders) · read',
      body: `It expired at ${until(grant.expiresAt)}. Its credential could not be removed from your keychain: The login keyring is locked. Timebox removes it as soon as the keychain lets it (it checks every few seconds, and at every start).`,
    });
    expect(notice.body).not.toContain('was removed');
  });
});

describe('what the lapse notice says', () => {
  const extension = requestView({ kind: 'extension', status: 'lapsed', extendsGrantId: 'grt_1' });

  it('says an extension lapsed because its grant ended first, not that nobody decided in time', () => {
    const revoked = grantState({ id: 'grt_1', status: 'revoked', endReason: 'revoked' });
    expect(requestChanged(context, extension, revoked)?.body).toBe(
      'An administrator revoked its grant first, so the extension lapsed with it.',
    );
    const relinquished = grantState({ id: 'grt_1', status: 'revoked', endReason: 'relinquished' });
    expect(requestChanged(context, extension, relinquished)?.body).toBe(
      'You relinquished its grant first, so the extension lapsed with it.',
    );
  });

  it('says what the service recorded, even when the grant it extends is no longer known (a resync missed it)', () => {
    const recorded = requestView({ ...extension, lapseCause: 'grant_relinquished' });
    expect(requestChanged(context, recorded, undefined)?.body).toBe(
      'You relinquished its grant first, so the extension lapsed with it.',
    );
    const timedOut = requestView({ ...extension, lapseCause: 'timeout' });
    expect(
      requestChanged(context, timedOut, grantState({ id: 'grt_1', status: 'revoked', endReason: 'revoked' }))
        ?.body,
    ).toBe('Nobody decided in time; ask again if you still need it.');
  });

  it('says nobody decided in time when that is why', () => {
    const active = grantState({ id: 'grt_1' });
    expect(requestChanged(context, extension, active)?.body).toBe(
      'Nobody decided in time; ask again if you still need it.',
    );
    expect(requestChanged(context, requestView({ status: 'lapsed' }), undefined)?.body).toBe(
      'Nobody decided in time; ask again if you still need it.',
    );
  });
});
