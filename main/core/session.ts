import { z } from 'zod';
import type { InvokeArgs, SignInOutcome, UserView } from '../../preload/contract.js';
import { userView } from '../../api/schemas.js';
import { messageOf, parseJson, type CoreContext } from './core-context.js';
import { ServiceError } from '../../api/errors.js';
import { nativeSignIn } from '../../api/native-sign-in.js';
import { UserError } from '../../api/errors.js';
import { SESSION_ACCOUNT } from './keychain-accounts.js';

/** The session as the keychain keeps it between runs (never anywhere else). */
const storedSessionSchema = z.object({
  serviceUrl: z.string(),
  token: z.string().min(1),
  user: userView,
});
interface StoredSession {
  readonly serviceUrl: string;
  readonly token: string;
  readonly user: UserView;
}

/** What the session needs from the rest of the core. */
export interface SessionHooks {
  /** Follow the service live (stream and resyncs) for a session that just began. */
  follow(): void;
  /** Stop following it. */
  unfollow(): void;
  /** Sign-out: every credential goes, whatever the service answered. */
  wipeEverything(): Promise<void>;
}

const KEEP_CREDENTIALS = 'Sign in again; your active grants keep their credentials until they end.';

/** Why the service stopped taking the token, in the user's words. */
function endedMessage(code: string | null): string {
  switch (code) {
    case 'token_revoked':
      return `You were signed out of Timebox elsewhere (this session was ended from another place, or by an administrator). ${KEEP_CREDENTIALS}`;
    case 'token_expired':
      return `Your Timebox session has expired. ${KEEP_CREDENTIALS}`;
    case 'token_idle':
      return `You were signed out of Timebox after a long time without using it. ${KEEP_CREDENTIALS}`;
    default:
      return `Your session has ended (it expired or was signed out). ${KEEP_CREDENTIALS}`;
  }
}

/** The signed-in session: sign-in (with a second factor), resuming the saved one, sign-out, and its end. */
export class Session {
  private current: StoredSession | null = null;

  constructor(
    private readonly core: CoreContext,
    private readonly hooks: SessionHooks,
  ) {}

  get token(): string | null {
    return this.current?.token ?? null;
  }

  get user(): UserView | null {
    return this.current?.user ?? null;
  }

  /** At start-up: the session saved by the last run, when it belongs to the service in use. */
  async resume(): Promise<void> {
    const saved = await this.core.deps.keychain.get(SESSION_ACCOUNT);
    if (saved === null) return;
    const session = storedSessionSchema.safeParse(parseJson(saved));
    if (!session.success) {
      this.core.deps.log.warn(
        { issues: session.error.issues.length },
        'the saved session could not be read; signing in again is needed',
      );
      await this.forget();
      return;
    }
    if (session.data.serviceUrl !== this.core.store.state.service.url) return;
    this.current = session.data;
    this.core.store.update({ session: { status: 'signed-in', user: session.data.user, message: null } });
    this.hooks.follow();
  }

  async signIn(args: InvokeArgs<'signIn'>, serviceUrl: string): Promise<SignInOutcome> {
    return this.begin(serviceUrl, () => this.core.client.login(args.username, args.password, args.otp));
  }

  /** Single sign-on in the system browser, through the provider `provider` of the service. */
  async signInWithProvider(
    provider: string,
    serviceUrl: string,
    maxAgeSeconds?: number,
  ): Promise<SignInOutcome> {
    const { openBrowser } = this.core.deps;
    if (!openBrowser) throw new UserError('no_browser', 'Timebox cannot open a browser here to sign you in.');
    return this.begin(serviceUrl, () =>
      nativeSignIn({
        serviceUrl,
        provider,
        openBrowser,
        fetch: this.core.deps.fetch,
        ...(maxAgeSeconds === undefined ? {} : { maxAgeSeconds }),
      }),
    );
  }

  /**
   * A role asked for a fresher or stronger sign-in (401 step_up_required): signs in again at the provider
   * with `max_age`, so it asks for the person's factors again. False when the error is no such request or
   * names no provider (a password session steps up on the sign-in screen instead).
   */
  async stepUp(error: unknown, serviceUrl: string): Promise<boolean> {
    if (!(error instanceof ServiceError) || error.code !== 'step_up_required') return false;
    const provider = error.details?.provider;
    if (typeof provider !== 'string') return false;
    const maxAge = error.details?.maxAgeSeconds;
    await this.signInWithProvider(provider, serviceUrl, typeof maxAge === 'number' ? maxAge : 0);
    return true;
  }

  /** Starts the session `signIn` answers with, and follows the service with it. */
  private async begin(
    serviceUrl: string,
    signIn: () => Promise<{ token: string; user: UserView }>,
  ): Promise<SignInOutcome> {
    this.core.store.update({ session: { status: 'signing-in', user: null, message: null } });
    try {
      const answer = await signIn();
      const session: StoredSession = { serviceUrl, token: answer.token, user: answer.user };
      this.current = session;
      // Kept in memory only when there is no keychain: the token is never written anywhere else.
      if (this.core.store.state.keychain.available)
        await this.core.deps.keychain.set(SESSION_ACCOUNT, JSON.stringify(session));
      this.core.store.update({ session: { status: 'signed-in', user: answer.user, message: null } });
      this.hooks.follow();
      return { status: 'signed-in', user: answer.user };
    } catch (error) {
      const otpRequired = error instanceof ServiceError && error.code === 'otp_required';
      this.core.store.update({
        session: { status: 'signed-out', user: null, message: otpRequired ? null : messageOf(error) },
      });
      if (otpRequired) return { status: 'otp-required' };
      throw error;
    }
  }

  /** Ends the session on the service (when it answers) and wipes every credential, whatever it answers. */
  async signOut(): Promise<void> {
    this.hooks.unfollow();
    if (this.current) {
      await this.core.client.logout().catch((error: unknown) => {
        this.core.deps.log.warn(
          { code: error instanceof ServiceError ? error.code : 'unknown' },
          'logout did not reach the service',
        );
      });
    }
    this.current = null;
    await this.forget();
    await this.hooks.wipeEverything();
    this.core.store.update({
      session: { status: 'signed-out', user: null, message: null },
      connection: { status: 'idle', retryAt: null, message: null },
      catalog: [],
      grants: [],
      requests: [],
      approvals: [],
    });
  }

  /** The service stopped taking the token (`code` says why, when known): say so once, ask to sign in. */
  async ended(code: string | null): Promise<void> {
    // Once per session: every later call refused for want of a token is the same news, not another notice
    // (and a call made while signed out must not turn "signed out" into "expired").
    if (!this.current) return;
    this.hooks.unfollow();
    this.current = null;
    await this.forget();
    const message = endedMessage(code);
    this.core.store.update({
      session: { status: 'expired', user: this.core.store.state.session.user, message },
      connection: { status: 'idle', retryAt: null, message: null },
    });
    this.core.notify({
      key: `session-ended:${this.core.deps.clock.now()}`,
      kind: 'session-ended',
      title: 'Sign in to Timebox again',
      body: message,
      target: { view: 'sign-in' },
    });
  }

  private async forget(): Promise<void> {
    await this.core.deps.keychain.delete(SESSION_ACCOUNT).catch(() => false);
  }
}
