import { useId, useState } from 'react';
import type { InvokeArgs, Settings } from '../../../preload/contract.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { useApp, useRuntime, useServiceNow } from '../../state/hooks.js';
import { runCommand } from '../../state/runtime.js';
import { liveGrants } from '../../state/selectors.js';
import { formatDuration } from '../../time/format.js';

/** Reminder lead times offered; whatever the settings hold besides shows too. */
const LEAD_CHOICES_SECONDS = [30 * 60, 10 * 60, 5 * 60, 60, 30];
const MAX_LEADS = 5;

export function validServiceUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/** Settings: the account, the service, reminders, do-not-disturb and launch at login. Each applies at once. */
export function SettingsView() {
  const id = useId();
  const runtime = useRuntime();
  const app = useApp((state) => state);
  const serviceNow = useServiceNow();
  const [serviceUrl, setServiceUrl] = useState(app.settings.serviceUrl ?? '');
  const [signingOut, setSigningOut] = useState(false);
  // A switch flips at once; main's state replaces the guess when it arrives (or the error undoes it).
  const [pending, setPending] = useState<Partial<Settings>>({});
  const [settingsSeen, setSettingsSeen] = useState(app.settings);
  if (app.settings !== settingsSeen) {
    setSettingsSeen(app.settings);
    setPending({});
  }
  const settings: Settings = { ...app.settings, ...pending };
  const leads = [...new Set([...LEAD_CHOICES_SECONDS, ...settings.reminderLeadsSeconds])].sort(
    (a, b) => b - a,
  );
  const urlChanged = serviceUrl.trim() !== (settings.serviceUrl ?? '');
  const urlProblem =
    serviceUrl.trim() !== '' && !validServiceUrl(serviceUrl.trim()) ? 'Enter an http or https URL.' : null;
  const activeCount = liveGrants(app.grants, serviceNow).length;
  const signedIn = app.session.status === 'signed-in';

  const update = (patch: InvokeArgs<'updateSettings'>, success: string): void => {
    setPending((current) => ({ ...current, ...patch }));
    void runCommand(runtime, () => runtime.api.updateSettings(patch), { success: () => success }).then(
      (saved) => {
        if (saved === null) setPending({});
      },
    );
  };

  return (
    <section className="view settings" aria-labelledby="settings-heading">
      <header className="view-header">
        <h1 id="settings-heading">Settings</h1>
      </header>

      {signedIn ? (
        <section className="settings-group" aria-labelledby={`${id}-account`}>
          <h2 id={`${id}-account`} className="section-label">
            Account
          </h2>
          <div className="settings-row">
            <p>
              Signed in as <strong>{app.session.user?.displayName}</strong>{' '}
              <span className="muted">({app.session.user?.username})</span>
            </p>
            <button
              type="button"
              className="button"
              onClick={() => {
                setSigningOut(true);
              }}
            >
              Sign out…
            </button>
          </div>
        </section>
      ) : null}

      <section className="settings-group" aria-labelledby={`${id}-service`}>
        <h2 id={`${id}-service`} className="section-label">
          Service
        </h2>
        <form
          className="field"
          noValidate
          onSubmit={(event) => {
            event.preventDefault();
            if (urlProblem !== null || !urlChanged) return;
            update(
              { serviceUrl: serviceUrl.trim() === '' ? null : serviceUrl.trim() },
              serviceUrl.trim() === ''
                ? 'Using the built-in demo service.'
                : `Service set to ${serviceUrl.trim()}.`,
            );
          }}
        >
          <label htmlFor={`${id}-url`} className="field-label">
            Service URL
          </label>
          <div className="input-row">
            <input
              id={`${id}-url`}
              className="input"
              type="url"
              inputMode="url"
              spellCheck={false}
              placeholder={app.service.embedded ? 'Built-in demo service' : 'https://timebox.example.com'}
              value={serviceUrl}
              aria-invalid={urlProblem !== null}
              aria-describedby={`${id}-url-hint`}
              onChange={(event) => {
                setServiceUrl(event.target.value);
              }}
            />
            <button type="submit" className="button" disabled={!urlChanged || urlProblem !== null}>
              Save
            </button>
          </div>
          <span id={`${id}-url-hint`} className={urlProblem ? 'field-error' : 'field-hint'}>
            {urlProblem ??
              (signedIn && urlChanged
                ? 'Changing the service signs you out and removes your credentials.'
                : `Now: ${app.service.url ?? 'none'}${app.service.embedded ? ' (built in)' : ''}`)}
          </span>
        </form>
      </section>

      <section className="settings-group" aria-labelledby={`${id}-reminders`}>
        <h2 id={`${id}-reminders`} className="section-label">
          Reminders
        </h2>
        <fieldset className="settings-row">
          <legend className="field-hint">Remind me before access ends:</legend>
          <div className="presets">
            {leads.map((lead) => {
              const on = settings.reminderLeadsSeconds.includes(lead);
              return (
                <label key={lead} className={`chip chip-check${on ? ' chip-on' : ''}`}>
                  <input
                    type="checkbox"
                    checked={on}
                    disabled={!on && settings.reminderLeadsSeconds.length >= MAX_LEADS}
                    onChange={() => {
                      update(
                        {
                          reminderLeadsSeconds: on
                            ? settings.reminderLeadsSeconds.filter((candidate) => candidate !== lead)
                            : [...settings.reminderLeadsSeconds, lead],
                        },
                        on
                          ? `No reminder ${formatDuration(lead)} before.`
                          : `Reminder ${formatDuration(lead)} before.`,
                      );
                    }}
                  />
                  {formatDuration(lead)}
                </label>
              );
            })}
          </div>
        </fieldset>
        <label className="switch-row">
          <input
            type="checkbox"
            role="switch"
            checked={settings.doNotDisturb}
            onChange={(event) => {
              update(
                { doNotDisturb: event.target.checked },
                event.target.checked ? 'Do not disturb is on.' : 'Do not disturb is off.',
              );
            }}
          />
          <span>
            Do not disturb
            <span className="field-hint">Hold desktop notifications; the tray still counts down.</span>
          </span>
        </label>
      </section>

      <section className="settings-group" aria-labelledby={`${id}-system`}>
        <h2 id={`${id}-system`} className="section-label">
          System
        </h2>
        <label className="switch-row">
          <input
            type="checkbox"
            role="switch"
            checked={settings.launchAtLogin}
            onChange={(event) => {
              update(
                { launchAtLogin: event.target.checked },
                event.target.checked
                  ? 'Timebox starts when you log in.'
                  : 'Timebox no longer starts at login.',
              );
            }}
          />
          <span>
            Launch at login
            <span className="field-hint">Start Timebox in the tray when you log in.</span>
          </span>
        </label>
      </section>

      {signingOut ? (
        <ConfirmDialog
          title="Sign out of Timebox?"
          confirmLabel="Sign out"
          onConfirm={() => runCommand(runtime, () => runtime.api.signOut({}), { retry: false })}
          onClose={() => {
            setSigningOut(false);
          }}
        >
          {activeCount > 0
            ? `Your ${activeCount} active ${activeCount === 1 ? 'credential is' : 'credentials are'} removed from the keychain now; the grants themselves run on until they expire.`
            : 'You can sign in again at any time.'}
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
