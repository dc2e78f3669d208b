// @vitest-environment happy-dom
import { act, cleanup, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AppState, Settings } from '../../../preload/contract.js';
import { appState, grant, NOW } from '../../test-support/fixtures.js';
import { renderConnected } from '../../test-support/render.js';
import { SettingsView } from './SettingsView.js';

/** Settings as main would answer them: it saves the patch and pushes the new settings. */
function renderSettings(state: AppState = appState()) {
  const rendered = renderConnected(<SettingsView />, state);
  let saved: Settings = state.settings;
  rendered.main.answer('updateSettings', (patch) => {
    saved = { ...saved, ...patch };
    const next = saved;
    queueMicrotask(() => {
      act(() => {
        rendered.main.push({ kind: 'change', changes: { settings: next } });
      });
    });
    return { ok: true, value: next };
  });
  return rendered;
}

const banner = (runtime: ReturnType<typeof renderSettings>['runtime']) => runtime.store.getState().banner;

describe('settings', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
  });
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it('takes only an http or https service URL, and warns what changing it does', async () => {
    const { user, main, runtime } = renderSettings();
    const url = screen.getByRole('textbox', { name: 'Service URL' });
    const save = screen.getByRole<HTMLButtonElement>('button', { name: 'Save' });
    expect(url.getAttribute('aria-describedby')).not.toBeNull();
    expect(screen.getByText('Now: http://127.0.0.1:8080')).toBeTruthy();
    expect(save.disabled).toBe(true); // nothing changed yet

    for (const bad of ['timebox.example.com', 'ftp://files.example.com', 'javascript:alert(1)']) {
      await user.clear(url);
      await user.type(url, `${bad}{Enter}`);
      expect(url.getAttribute('aria-invalid')).toBe('true');
      expect(screen.getByText('Enter an http or https URL.')).toBeTruthy();
      expect(save.disabled).toBe(true);
    }
    expect(main.callsOf('updateSettings')).toEqual([]);

    await user.clear(url);
    await user.type(url, '  https://timebox.example.com  ');
    expect(url.getAttribute('aria-invalid')).toBe('false');
    expect(screen.getByText('Changing the service signs you out and removes your credentials.')).toBeTruthy();
    await user.click(save);
    expect(main.callsOf('updateSettings')).toEqual([{ serviceUrl: 'https://timebox.example.com' }]);
    expect(banner(runtime)?.text).toBe('Service set to https://timebox.example.com.');

    await user.clear(url);
    await user.click(save);
    expect(main.callsOf('updateSettings').at(-1)).toEqual({ serviceUrl: null });
    expect(banner(runtime)?.text).toBe('Using the built-in demo service.');
  });

  it('turns reminder leads on and off at once, at most five of them', async () => {
    const { user, main, runtime } = renderSettings();
    const lead = (name: string) => screen.getByRole<HTMLInputElement>('checkbox', { name });
    expect(
      screen
        .getAllByRole<HTMLInputElement>('checkbox')
        .map((box) => [box.labels?.[0]?.textContent, box.checked]),
    ).toEqual([
      ['30 min', false],
      ['10 min', true],
      ['5 min', false],
      ['1 min', true],
      ['30 s', false],
    ]);
    await user.click(lead('30 s'));
    expect(lead('30 s').checked).toBe(true);
    expect(main.callsOf('updateSettings')).toEqual([{ reminderLeadsSeconds: [600, 60, 30] }]);
    expect(banner(runtime)?.text).toBe('Reminder 30 s before.');
    await user.click(lead('10 min'));
    expect(main.callsOf('updateSettings').at(-1)).toEqual({ reminderLeadsSeconds: [60, 30] });
    expect(banner(runtime)?.text).toBe('No reminder 10 min before.');

    cleanup();
    const full = renderSettings(
      appState({
        settings: { ...appState().settings, reminderLeadsSeconds: [1800, 600, 300, 60, 45] },
      }),
    );
    expect(lead('45 s').checked).toBe(true); // a lead from the settings file shows too
    expect(lead('30 s').disabled).toBe(true);
    await full.user.click(lead('30 s'));
    expect(full.main.callsOf('updateSettings')).toEqual([]);
  });

  it('undoes a switch main refused, and says why', async () => {
    const { user, main, runtime } = renderConnected(<SettingsView />, appState());
    main.answer('updateSettings', () => ({
      ok: false,
      error: { code: 'settings_unwritable', message: 'Timebox could not save its settings.' },
    }));
    const lead = screen.getByRole<HTMLInputElement>('checkbox', { name: '5 min' });
    await user.click(lead);
    expect(lead.checked).toBe(false);
    expect(banner(runtime)).toMatchObject({ tone: 'error', text: 'Timebox could not save its settings.' });
  });

  it('switches do-not-disturb and launch at login', async () => {
    const { user, main, runtime } = renderSettings();
    const quiet = screen.getByRole<HTMLInputElement>('switch', { name: /Do not disturb/ });
    await user.click(quiet);
    expect(quiet.checked).toBe(true);
    expect(main.callsOf('updateSettings')).toEqual([{ doNotDisturb: true }]);
    expect(banner(runtime)?.text).toBe('Do not disturb is on.');
    await user.click(quiet);
    expect(main.callsOf('updateSettings').at(-1)).toEqual({ doNotDisturb: false });
    expect(banner(runtime)?.text).toBe('Do not disturb is off.');

    const atLogin = screen.getByRole<HTMLInputElement>('switch', { name: /Launch at login/ });
    await user.click(atLogin);
    expect(main.callsOf('updateSettings').at(-1)).toEqual({ launchAtLogin: true });
    expect(banner(runtime)?.text).toBe('Timebox starts when you log in.');
  });

  it('signs out only after a confirmation that says what happens to active credentials', async () => {
    const { user, main } = renderSettings(appState({ grants: [grant()] }));
    const signOut = screen.getByRole('button', { name: 'Sign out…' });
    await user.click(signOut);
    const confirm = screen.getByRole('dialog', { name: 'Sign out of Timebox?' });
    expect(confirm.textContent).toContain(
      'Your 1 active credential is removed from the keychain now; the grants themselves run on until they expire.',
    );
    expect(document.activeElement).toBe(within(confirm).getByRole('button', { name: 'Cancel' }));
    await user.click(within(confirm).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(main.callsOf('signOut')).toEqual([]);
    expect(document.activeElement).toBe(signOut);

    await user.click(signOut);
    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(main.callsOf('signOut')).toEqual([{}]);
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('has no account section while signed out', () => {
    renderSettings(appState({ session: { status: 'signed-out', user: null, message: null } }));
    expect(screen.queryByRole('heading', { name: 'Account' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Sign out…' })).toBeNull();
  });
});
