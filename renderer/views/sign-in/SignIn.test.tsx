// @vitest-environment happy-dom
import { cleanup, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { appState } from '../../test-support/fixtures.js';
import { renderConnected } from '../../test-support/render.js';
import { SignIn } from './SignIn.js';

const signedOut = appState({ session: { status: 'signed-out', user: null, message: null } });
const ALICE = { id: 'alice', username: 'alice', displayName: 'Alice Kim', groups: [], isAdmin: false };

describe('sign-in', () => {
  afterEach(() => {
    cleanup();
  });

  it('asks for the code from the authenticator app when the account has one', async () => {
    const { user, main } = renderConnected(<SignIn />, signedOut);
    main.answer('signIn', (args) =>
      args.otp === undefined
        ? { ok: true, value: { status: 'otp-required' } }
        : { ok: true, value: { status: 'signed-in', user: ALICE } },
    );
    await user.type(screen.getByLabelText('Username'), 'alice');
    await user.type(screen.getByLabelText('Password'), 'demo');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(screen.getByRole('heading', { name: 'Two-step verification' })).toBeTruthy();
    const code = screen.getByLabelText('6-digit code from your authenticator app');
    expect(document.activeElement).toBe(code);
    await user.type(code, '12a34 56');
    expect((code as HTMLInputElement).value).toBe('123456');
    await user.click(screen.getByRole('button', { name: 'Verify' }));
    expect(main.callsOf('signIn')).toEqual([
      { username: 'alice', password: 'demo' },
      { username: 'alice', password: 'demo', otp: '123456' },
    ]);
  });

  it('does not send a short code, and shows a wrong one', async () => {
    const { user, main } = renderConnected(<SignIn />, signedOut);
    main.answer('signIn', (args) =>
      args.otp === undefined
        ? { ok: true, value: { status: 'otp-required' } }
        : {
            ok: false,
            error: { code: 'invalid_otp', message: 'That code is not valid; wait for the next one.' },
          },
    );
    await user.type(screen.getByLabelText('Username'), 'alice');
    await user.type(screen.getByLabelText('Password'), 'demo');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    const code = screen.getByLabelText('6-digit code from your authenticator app');
    await user.type(code, '123');
    await user.click(screen.getByRole('button', { name: 'Verify' }));
    expect(screen.getByRole('alert').textContent).toBe('Enter the 6 digits from your authenticator app.');
    expect(main.callsOf('signIn')).toHaveLength(1);
    await user.type(code, '456');
    await user.click(screen.getByRole('button', { name: 'Verify' }));
    expect(screen.getByRole('alert').textContent).toBe('That code is not valid; wait for the next one.');
    expect((code as HTMLInputElement).value).toBe('');
    // Back to the password step.
    await user.click(screen.getByRole('button', { name: 'Back' }));
    expect(screen.getByLabelText('Password')).toBeTruthy();
  });

  it('shows a refused password and asks for what is missing', async () => {
    const { user, main } = renderConnected(<SignIn />, signedOut);
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(screen.getByRole('alert').textContent).toBe('Enter your username and password.');
    expect(main.callsOf('signIn')).toEqual([]);
    main.answer('signIn', () => ({
      ok: false,
      error: { code: 'invalid_credentials', message: 'Wrong username or password.' },
    }));
    await user.type(screen.getByLabelText('Username'), 'alice');
    await user.type(screen.getByLabelText('Password'), 'nope');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(screen.getByRole('alert').textContent).toBe('Wrong username or password.');
  });

  it('says why after a session ended, and can change the service', async () => {
    const { user, main } = renderConnected(
      <SignIn />,
      appState({ session: { status: 'expired', user: ALICE, message: 'Your session has ended.' } }),
    );
    main.answer('signIn', () => ({ ok: true, value: { status: 'signed-in', user: ALICE } }));
    expect(screen.getByRole('heading', { name: 'Sign in again' })).toBeTruthy();
    expect(screen.getByText('Your session has ended.')).toBeTruthy();
    expect(screen.getByLabelText<HTMLInputElement>('Username').value).toBe('alice');
    await user.click(screen.getByRole('button', { name: 'Change' }));
    const url = screen.getByLabelText('Service URL');
    await user.clear(url);
    await user.type(url, 'ftp://nope');
    expect(url.getAttribute('aria-invalid')).toBe('true');
    await user.clear(url);
    await user.type(url, 'https://timebox.example.com');
    await user.type(screen.getByLabelText('Password'), 'demo');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(main.callsOf('signIn')).toEqual([
      { username: 'alice', password: 'demo', serviceUrl: 'https://timebox.example.com' },
    ]);
  });

  it('says the keychain is locked, and offers to unlock it, before anyone signs in', () => {
    renderConnected(
      <SignIn />,
      appState({
        session: { status: 'signed-out', user: null, message: null },
        keychain: { available: false, locked: true, message: 'Your keychain is locked. Unlock it.' },
      }),
    );
    expect(screen.getByText('Keychain locked.')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Unlock keychain' })).toBeTruthy();
  });

  it('offers one button per identity provider, and says why a sign-in there failed', async () => {
    const { user, main } = renderConnected(<SignIn />, signedOut, {
      answers: (fake) => {
        fake.answer('authMethods', () => ({
          ok: true,
          value: {
            password: true,
            oidc: [
              { id: 'acme', name: 'Acme SSO' },
              { id: 'google', name: 'Google' },
            ],
          },
        }));
      },
    });
    const acme = await screen.findByRole('button', { name: 'Sign in with Acme SSO' });
    expect(screen.getByRole('button', { name: 'Sign in with Google' })).toBeTruthy();
    expect(screen.getByText('or with a Timebox password')).toBeTruthy();
    expect(screen.getByLabelText('Password')).toBeTruthy();
    main.answer('signInWithProvider', () => ({
      ok: false,
      error: { code: 'access_denied', message: 'You are not assigned to Timebox.' },
    }));
    await user.click(acme);
    expect(main.callsOf('signInWithProvider')).toEqual([{ provider: 'acme' }]);
    expect((await screen.findByRole('alert')).textContent).toBe('You are not assigned to Timebox.');
    expect(acme.hasAttribute('disabled')).toBe(false);
  });

  it('offers only the providers when the service turned passwords off', async () => {
    renderConnected(<SignIn />, signedOut, {
      answers: (fake) => {
        fake.answer('authMethods', () => ({
          ok: true,
          value: { password: false, oidc: [{ id: 'acme', name: 'Acme SSO' }] },
        }));
      },
    });
    await screen.findByRole('button', { name: 'Sign in with Acme SSO' });
    expect(screen.queryByLabelText('Password')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Sign in' })).toBeNull();
  });
});
