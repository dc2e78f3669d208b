import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FetchedCredential } from './credential-environment.js';

/**
 * The current credential for the command `timebox exec` runs, over loopback HTTP, for commands that
 * outlive a short-lived token: `GET $TIMEBOX_CREDENTIAL_URL` answers `{grantId, kind, expiresAt, token}`
 * with the renewed token (the pattern of the AWS container credentials endpoint). The URL's path is 32
 * random bytes and exists only in the command's environment; nothing is written to disk.
 */
export interface CredentialEndpoint {
  readonly url: string;
  close(): Promise<void>;
}

export async function serveCredential(current: () => FetchedCredential): Promise<CredentialEndpoint> {
  const path = `/${randomBytes(32).toString('base64url')}`;
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== path) {
      response.writeHead(404).end();
      return;
    }
    const credential = current();
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    response.end(
      JSON.stringify({
        grantId: credential.grantId,
        kind: credential.kind,
        expiresAt: credential.expiresAt,
        ...credential.secret,
      }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  // The command keeps this process alive, not the endpoint.
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
