// @vitest-environment happy-dom
import { cleanup, render } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { CredentialState } from '../../preload/contract.js';
import { grant } from '../test-support/fixtures.js';
import { CredentialLine } from './CredentialLine.js';

function lineFor(credential: CredentialState, live: boolean, credentialError: string | null = null) {
  const { container } = render(<CredentialLine grant={grant({ credential, credentialError })} live={live} />);
  const line = container.querySelector('p');
  if (!line) throw new Error('no credential line');
  return line;
}

describe('the credential line', () => {
  afterEach(() => {
    cleanup();
  });

  it.each([
    ['stored', 'Credential in your keychain.'],
    ['fetching', 'Fetching the credential…'],
    ['none', 'No credential stored yet.'],
    ['wiped', 'Credential removed from your keychain.'],
  ] as const)('while the grant is live and its credential is %s, says “%s”', (credential, text) => {
    expect(lineFor(credential, true).textContent).toBe(text);
  });

  it('says why a live grant has no credential, as a status, when storing it failed', () => {
    const line = lineFor('failed', true, 'No system keychain is available.');
    expect(line.textContent).toBe('No system keychain is available.');
    expect(line.getAttribute('role')).toBe('status');
    expect(lineFor('failed', true).textContent).toBe('The credential could not be stored.');
  });

  it.each([
    ['stored', 'Removing the credential from your keychain…'],
    ['fetching', 'Removing the credential from your keychain…'],
    ['wiped', 'Credential removed from your keychain.'],
    ['none', 'No credential was stored in your keychain.'],
    ['failed', 'The credential never reached your keychain.'],
  ] as const)('once the grant has ended and its credential is %s, says “%s”', (credential, text) => {
    expect(lineFor(credential, false, credential === 'failed' ? 'Keychain locked.' : null).textContent).toBe(
      text,
    );
  });

  it('says an ended grant’s credential is still in the keychain, and why, when removing it failed', () => {
    const line = lineFor('kept', false, 'Your keychain is locked.');
    expect(line.textContent).toBe(
      'Its credential is still in your keychain: Your keychain is locked. Timebox deletes it as soon as the keychain lets it.',
    );
    expect(line.getAttribute('role')).toBe('status');
  });

  it('says “removed” only when main wiped the credential', () => {
    const states: CredentialState[] = ['stored', 'fetching', 'failed', 'none', 'wiped', 'kept'];
    for (const live of [true, false]) {
      const removed = states.filter((state) => {
        const said = lineFor(state, live).textContent;
        cleanup();
        return said.includes('removed');
      });
      expect(removed).toEqual(['wiped']);
    }
  });
});
