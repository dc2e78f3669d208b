// A resource server's check of a Timebox credential, both ways (docs/credentials.md):
//   1. the signature, offline, against the service's published keys (jose);
//   2. introspection (RFC 7662), asking the service whether the grant behind it is still active.
// Allow a request only when both say yes.
//
//   TIMEBOX_URL=https://timebox.example.com TIMEBOX_RS_TOKEN=… RESOURCE=reports-api \
//     node docs/examples/resource-server.mjs <token>
// prints {"signature":"valid"|"invalid: …","active":true|false,"allow":true|false}.
import { createRemoteJWKSet, jwtVerify } from 'jose';

const serviceUrl = process.env.TIMEBOX_URL;
const serverToken = process.env.TIMEBOX_RS_TOKEN;
const resource = process.env.RESOURCE;
if (!serviceUrl || !serverToken || !resource) {
  throw new Error('set TIMEBOX_URL, TIMEBOX_RS_TOKEN and RESOURCE');
}

// Fetched once and cached; fetched again when a token names a key it has not seen (after a rotation).
const keys = createRemoteJWKSet(new URL('/.well-known/jwks.json', serviceUrl));

/** The signature, issuer, audience and lifetime: no network once the keys are cached. */
export async function checkSignature(token) {
  try {
    const { payload } = await jwtVerify(token, keys, {
      algorithms: ['EdDSA'],
      issuer: serviceUrl,
      audience: resource,
    });
    return { valid: true, claims: payload };
  } catch (error) {
    return { valid: false, reason: error.code ?? error.message };
  }
}

/** Whether the grant is active now: false within a second of its revocation, relinquish or expiry. */
export async function introspect(token) {
  const response = await fetch(new URL('/v1/credentials/introspect', serviceUrl), {
    method: 'POST',
    headers: {
      authorization: `Bearer ${serverToken}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token }),
    signal: AbortSignal.timeout(2000),
  });
  if (!response.ok) throw new Error(`introspection answered HTTP ${response.status}`);
  const answer = await response.json();
  return answer.active === true && answer.aud === resource ? answer : { active: false };
}

const token = process.argv[2];
if (token) {
  const signature = await checkSignature(token);
  // A token whose signature fails is refused without asking the service.
  const active = signature.valid ? (await introspect(token)).active : false;
  process.stdout.write(
    `${JSON.stringify({
      signature: signature.valid ? 'valid' : `invalid: ${signature.reason}`,
      active,
      allow: signature.valid && active,
    })}\n`,
  );
}
