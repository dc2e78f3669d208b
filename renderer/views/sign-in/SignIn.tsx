import { useEffect, useId, useRef, useState } from 'react';
import { KeychainNotice } from '../../components/KeychainNotice.js';
import { useApp, useRuntime } from '../../state/hooks.js';
import { validServiceUrl } from '../settings/SettingsView.js';
import { ProviderButtons, useAuthMethods } from './ProviderButtons.js';

const OTP_PATTERN = /^\d{6}$/;

/**
 * Sign-in: the service, a username and a password; then, when the account has a second factor, the
 * 6-digit code from the authenticator app (the password is kept in memory only for that step).
 */
export function SignIn() {
  const id = useId();
  const runtime = useRuntime();
  const session = useApp((app) => app.session);
  const service = useApp((app) => app.service);
  const [step, setStep] = useState<'password' | 'otp'>('password');
  const [editingService, setEditingService] = useState(service.url === null);
  const [serviceUrl, setServiceUrl] = useState(service.embedded ? '' : (service.url ?? ''));
  const [username, setUsername] = useState(session.user?.username ?? '');
  const [password, setPassword] = useState('');
  const [otp, setOtp] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const otpRef = useRef<HTMLInputElement>(null);
  const methods = useAuthMethods(service.url);
  const [redirecting, setRedirecting] = useState(false);
  // Company sign-in is offered for the service in use, not one being typed in.
  const providers = editingService ? [] : methods.oidc;
  const passwords = methods.password || editingService;
  const serviceProblem =
    editingService && serviceUrl.trim() !== '' && !validServiceUrl(serviceUrl.trim())
      ? 'Enter an http or https URL.'
      : null;

  useEffect(() => {
    if (step === 'otp') otpRef.current?.focus();
  }, [step]);

  const submit = async (): Promise<void> => {
    if (step === 'password' && (username.trim() === '' || password === '')) {
      setProblem('Enter your username and password.');
      return;
    }
    if (step === 'otp' && !OTP_PATTERN.test(otp)) {
      setProblem('Enter the 6 digits from your authenticator app.');
      otpRef.current?.focus();
      return;
    }
    if (serviceProblem !== null) return;
    setBusy(true);
    setProblem(null);
    const result = await runtime.api.signIn({
      username: username.trim(),
      password,
      ...(editingService ? { serviceUrl: serviceUrl.trim() === '' ? null : serviceUrl.trim() } : {}),
      ...(step === 'otp' ? { otp } : {}),
    });
    setBusy(false);
    if (!result.ok) {
      setProblem(result.error.message);
      if (step === 'otp') setOtp('');
      return;
    }
    if (result.value.status === 'otp-required') {
      setStep('otp');
      return;
    }
    setPassword('');
  };

  return (
    <section className="view sign-in" aria-labelledby={`${id}-title`}>
      <div className="sign-in-card">
        <h1 id={`${id}-title`} className="app-title">
          {step === 'otp'
            ? 'Two-step verification'
            : session.status === 'expired'
              ? 'Sign in again'
              : 'Sign in to Timebox'}
        </h1>
        {/* A start that met a locked keychain waits here, signed out: the person must see why. */}
        <KeychainNotice />
        {session.message && step === 'password' ? (
          <p className="notice notice-warning">{session.message}</p>
        ) : null}
        {step === 'password' ? (
          <ProviderButtons
            providers={providers}
            busy={redirecting}
            onStart={() => {
              setRedirecting(true);
              setProblem(null);
            }}
            onDone={(failure) => {
              setRedirecting(false);
              setProblem(failure);
            }}
          />
        ) : null}
        {providers.length > 0 && passwords && step === 'password' ? (
          <p className="divider muted">or with a Timebox password</p>
        ) : null}
        <form
          className="form"
          noValidate
          onSubmit={(event) => {
            event.preventDefault();
            void submit();
          }}
        >
          {step === 'password' ? (
            <>
              {editingService ? (
                <div className="field">
                  <label htmlFor={`${id}-service`} className="field-label">
                    Service URL
                  </label>
                  <input
                    id={`${id}-service`}
                    className="input"
                    type="url"
                    spellCheck={false}
                    placeholder={
                      service.embedded
                        ? 'Leave empty for the built-in demo service'
                        : 'https://timebox.example.com'
                    }
                    value={serviceUrl}
                    aria-invalid={serviceProblem !== null}
                    aria-describedby={serviceProblem ? `${id}-service-error` : undefined}
                    onChange={(event) => {
                      setServiceUrl(event.target.value);
                    }}
                  />
                  {serviceProblem ? (
                    <span id={`${id}-service-error`} className="field-error">
                      {serviceProblem}
                    </span>
                  ) : null}
                </div>
              ) : (
                <p className="service-line">
                  <span className="muted">Service:</span>{' '}
                  {service.embedded ? 'Built-in demo service' : service.url}{' '}
                  <button
                    type="button"
                    className="link-button"
                    onClick={() => {
                      setEditingService(true);
                    }}
                  >
                    Change
                  </button>
                </p>
              )}
              {passwords ? (
                <>
                  <div className="field">
                    <label htmlFor={`${id}-username`} className="field-label">
                      Username
                    </label>
                    <input
                      id={`${id}-username`}
                      className="input"
                      type="text"
                      autoComplete="username"
                      autoCapitalize="none"
                      spellCheck={false}
                      value={username}
                      onChange={(event) => {
                        setUsername(event.target.value);
                      }}
                    />
                  </div>
                  <div className="field">
                    <label htmlFor={`${id}-password`} className="field-label">
                      Password
                    </label>
                    <input
                      id={`${id}-password`}
                      className="input"
                      type="password"
                      autoComplete="current-password"
                      value={password}
                      onChange={(event) => {
                        setPassword(event.target.value);
                      }}
                    />
                  </div>
                </>
              ) : null}
            </>
          ) : (
            <div className="field">
              <label htmlFor={`${id}-otp`} className="field-label">
                6-digit code from your authenticator app
              </label>
              <input
                ref={otpRef}
                id={`${id}-otp`}
                className="input input-otp"
                type="text"
                inputMode="numeric"
                autoComplete="one-time-code"
                maxLength={6}
                value={otp}
                aria-invalid={problem !== null}
                onChange={(event) => {
                  setOtp(event.target.value.replace(/\D/g, '').slice(0, 6));
                }}
              />
            </div>
          )}
          {problem ? (
            <p className="form-error" role="alert">
              {problem}
            </p>
          ) : null}
          <div className="form-actions">
            {step === 'otp' ? (
              <button
                type="button"
                className="button"
                onClick={() => {
                  setStep('password');
                  setOtp('');
                  setProblem(null);
                }}
              >
                Back
              </button>
            ) : null}
            {passwords || step === 'otp' ? (
              <button type="submit" className="button button-primary" disabled={busy || redirecting}>
                {busy ? 'Signing in…' : step === 'otp' ? 'Verify' : 'Sign in'}
              </button>
            ) : null}
          </div>
        </form>
      </div>
    </section>
  );
}
