// @vitest-environment happy-dom
import { cleanup, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { appState } from '../test-support/fixtures.js';
import { renderConnected } from '../test-support/render.js';
import { KeychainNotice } from './KeychainNotice.js';

const locked = appState({
  keychain: { available: false, locked: true, message: 'Your keychain is locked. Unlock it.' },
});

describe('the keychain note’s Unlock keychain button', () => {
  afterEach(() => {
    cleanup();
  });

  it('asks main to unlock, waits for the person, and says when it did not unlock', async () => {
    const { user, main, runtime } = renderConnected(<KeychainNotice />, locked);
    main.answer('unlockKeychain', () => ({
      ok: true,
      value: { outcome: 'dismissed', message: 'The unlock prompt was dismissed.' },
    }));

    await user.click(screen.getByRole('button', { name: 'Unlock keychain' }));
    expect(main.callsOf('unlockKeychain')).toEqual([{}]);
    expect(screen.getByText('The unlock prompt was dismissed.')).toBeTruthy();
    expect(runtime.store.getState().banner).toBeNull();
    expect(screen.getByRole<HTMLButtonElement>('button', { name: 'Unlock keychain' }).disabled).toBe(false);
  });

  it('tells that it unlocked', async () => {
    const { user, main, runtime } = renderConnected(<KeychainNotice />, locked);
    main.answer('unlockKeychain', () => ({
      ok: true,
      value: { outcome: 'unlocked', message: 'Your keychain is unlocked.' },
    }));
    await user.click(screen.getByRole('button', { name: 'Unlock keychain' }));
    expect(runtime.store.getState().banner).toMatchObject({
      tone: 'success',
      text: 'Your keychain is unlocked.',
    });
  });

  it('says when main refused, without offering to repeat the prompt blindly', async () => {
    const { user, main, runtime } = renderConnected(<KeychainNotice />, locked);
    main.answer('unlockKeychain', () => ({
      ok: false,
      error: { code: 'internal_error', message: 'Something went wrong inside Timebox.' },
    }));
    await user.click(screen.getByRole('button', { name: 'Unlock keychain' }));
    expect(runtime.store.getState().banner).toMatchObject({
      tone: 'error',
      text: 'Something went wrong inside Timebox.',
    });
    expect(runtime.store.getState().banner?.action).toBeUndefined();
  });

  it('is offered only while the keychain is locked, not when it is gone', () => {
    renderConnected(
      <KeychainNotice />,
      appState({
        keychain: { available: false, locked: false, message: 'No system keychain is available.' },
      }),
    );
    expect(screen.getByText('Keychain unavailable.')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Unlock keychain' })).toBeNull();
  });
});
