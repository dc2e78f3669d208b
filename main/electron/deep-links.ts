import { resolve } from 'node:path';
import type { NavigationTarget } from '../../preload/contract.js';
import { parseDeepLink } from '../core/deep-links.js';
import type { CoreLogger } from '../core/timebox.js';

const DEEP_LINK_SCHEME = 'timebox';

/** The part of Electron's app the deep links use. */
export interface DeepLinkApp {
  on(event: 'open-url', listener: (event: { preventDefault(): void }, url: string) => void): unknown;
  on(event: 'second-instance', listener: (event: unknown, argv: string[]) => void): unknown;
  setAsDefaultProtocolClient(protocol: string, path?: string, args?: string[]): boolean;
}

export interface DeepLinkTargets {
  /** A valid link: show its view. */
  readonly navigate: (target: NavigationTarget) => void;
  /** The app was started again without a link: bring it forward. */
  readonly activate: () => void;
}

type Arrival = { readonly kind: 'link'; readonly link: string } | { readonly kind: 'activate' };

/**
 * timebox:// links, from wherever the OS delivers them: 'open-url' on macOS (which may fire before the app
 * is ready, so it is listened for from the start), the command line of the first instance, and the
 * command line a second instance hands over ('second-instance') on Windows and Linux. Each link is read
 * strictly (parseDeepLink); a refused one is logged with its reason and never navigates. What arrives
 * before the app can show anything waits for `deliverTo`.
 */
export class DeepLinkInbox {
  private targets: DeepLinkTargets | null = null;
  private waiting: Arrival[] = [];

  constructor(private readonly log: CoreLogger) {}

  /**
   * Registers Timebox for timebox:// and listens. `argv` is this process's command line. A development
   * run (`electron .`) registers Electron with our app's path, as Electron's guide says
   * (https://www.electronjs.org/docs/latest/tutorial/launch-app-from-url-in-another-app).
   */
  listen(
    app: DeepLinkApp,
    process: { readonly argv: readonly string[]; readonly defaultApp: boolean; readonly execPath: string },
  ): void {
    const appPath = process.argv[1];
    if (process.defaultApp && appPath !== undefined)
      app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME, process.execPath, [resolve(appPath)]);
    else app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME);
    app.on('open-url', (event, url) => {
      event.preventDefault();
      this.arrive({ kind: 'link', link: url });
    });
    app.on('second-instance', (_event, argv) => {
      const links = linksIn(argv);
      if (links.length === 0) this.arrive({ kind: 'activate' });
      for (const link of links) this.arrive({ kind: 'link', link });
    });
    for (const link of linksIn(process.argv)) this.arrive({ kind: 'link', link });
  }

  /** From now on links go to `targets`; those that came earlier go now, in order. */
  deliverTo(targets: DeepLinkTargets): void {
    this.targets = targets;
    const waiting = this.waiting;
    this.waiting = [];
    for (const arrival of waiting) this.deliver(targets, arrival);
  }

  private arrive(arrival: Arrival): void {
    if (this.targets) this.deliver(this.targets, arrival);
    else this.waiting.push(arrival);
  }

  private deliver(targets: DeepLinkTargets, arrival: Arrival): void {
    if (arrival.kind === 'activate') {
      targets.activate();
      return;
    }
    const parsed = parseDeepLink(arrival.link);
    if (!parsed.ok) {
      // The reason, not the link: a refused link may carry credentials or anything else.
      this.log.warn({ reason: parsed.reason, length: arrival.link.length }, 'refused a timebox:// link');
      return;
    }
    targets.navigate(parsed.target);
  }
}

/** The command-line arguments that are timebox:// links (the OS adds its own arguments around them). */
function linksIn(argv: readonly string[]): string[] {
  return argv.filter((argument) => argument.toLowerCase().startsWith(`${DEEP_LINK_SCHEME}:`));
}
