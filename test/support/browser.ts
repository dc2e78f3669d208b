/** Where a navigation ended: a page, or a redirect to an address the test asked to stop at. */
export type Landing =
  | { readonly kind: 'page'; readonly url: string; readonly status: number; readonly html: string }
  | { readonly kind: 'redirect'; readonly location: string };

const MAX_REDIRECTS = 20;

/**
 * A person's browser, as far as a sign-in needs one: it keeps cookies (by name, per host), follows
 * redirects itself so the test can stop at the loopback redirect a native client would receive, and posts
 * forms. Plain fetch underneath.
 */
export class Browser {
  private readonly cookies = new Map<string, Map<string, string>>();

  /** Goes to `url`, following redirects until a page, or until one whose location `stopAt` accepts. */
  async open(url: string, stopAt: (location: string) => boolean, init: RequestInit = {}): Promise<Landing> {
    let next = url;
    let request = init;
    for (let hop = 0; hop < MAX_REDIRECTS; hop++) {
      const response = await fetch(next, {
        ...request,
        redirect: 'manual',
        headers: {
          ...(request.headers as Record<string, string> | undefined),
          cookie: this.cookieHeader(next),
        },
      });
      this.remember(next, response.headers.getSetCookie());
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location !== null) {
        const target = new URL(location, next).toString();
        await response.body?.cancel();
        if (stopAt(target)) return { kind: 'redirect', location: target };
        next = target;
        request = {};
        continue;
      }
      return { kind: 'page', url: next, status: response.status, html: await response.text() };
    }
    throw new Error(`more than ${MAX_REDIRECTS} redirects from ${url}`);
  }

  /** Posts the page's form with `fields`, as the person pressing its button. */
  submit(
    page: Landing,
    fields: Record<string, string>,
    stopAt: (location: string) => boolean,
  ): Promise<Landing> {
    if (page.kind !== 'page') throw new Error('no page to submit a form on');
    const action = /<form[^>]*action="([^"]+)"/.exec(page.html)?.[1];
    if (action === undefined) throw new Error(`no form on ${page.url}: ${page.html.slice(0, 200)}`);
    return this.open(new URL(action, page.url).toString(), stopAt, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }

  private cookieHeader(url: string): string {
    const jar = this.cookies.get(new URL(url).host);
    return jar ? [...jar].map(([name, value]) => `${name}=${value}`).join('; ') : '';
  }

  private remember(url: string, setCookies: readonly string[]): void {
    const host = new URL(url).host;
    const jar = this.cookies.get(host) ?? new Map<string, string>();
    this.cookies.set(host, jar);
    for (const header of setCookies) {
      const [pair = '', ...attributes] = header.split(';');
      const separator = pair.indexOf('=');
      const name = pair.slice(0, separator).trim();
      const expired = attributes.some((attribute) =>
        /^\s*(max-age=0|expires=thu, 01 jan 1970)/i.test(attribute),
      );
      if (expired) jar.delete(name);
      else jar.set(name, pair.slice(separator + 1).trim());
    }
  }
}
