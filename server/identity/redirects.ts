/**
 * Where a sign-in may send the person's browser back to: a native client's loopback listener,
 * `http://127.0.0.1:<port>/<path>` or `http://[::1]:<port>/<path>` (RFC 8252 §7.3). `localhost` is refused
 * (RFC 8252 §8.3: it may resolve elsewhere), as is any other host: an open redirect would hand the code to
 * whoever named it. Answers the URL, or null when it is not one of these.
 */
export function loopbackRedirect(value: string | undefined): URL | null {
  if (value === undefined || value.length > 2000) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  const loopback = url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  const plain = url.username === '' && url.password === '' && url.hash === '';
  return url.protocol === 'http:' && loopback && url.port !== '' && plain ? url : null;
}

/** `redirect` with the parameters added: the answer to the native client, code or error. */
export function withParameters(redirect: string, parameters: Readonly<Record<string, string>>): string {
  const url = new URL(redirect);
  for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value);
  return url.toString();
}
