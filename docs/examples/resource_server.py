"""A resource server's check of a Timebox credential, both ways (docs/credentials.md):
  1. the signature, offline, against the service's published keys (PyJWT, with cryptography for EdDSA);
  2. introspection (RFC 7662), asking the service whether the grant behind it is still active.
Allow a request only when both say yes.

  TIMEBOX_URL=https://timebox.example.com TIMEBOX_RS_TOKEN=... RESOURCE=reports-api \\
    python3 docs/examples/resource_server.py <token>
prints {"signature": "valid"|"invalid: ...", "active": true|false, "allow": true|false}.
"""
import json
import os
import sys
import urllib.parse
import urllib.request

import jwt

SERVICE_URL = os.environ["TIMEBOX_URL"]
SERVER_TOKEN = os.environ["TIMEBOX_RS_TOKEN"]
RESOURCE = os.environ["RESOURCE"]

# Fetched once and cached; fetched again when a token names a key it has not seen (after a rotation).
KEYS = jwt.PyJWKClient(SERVICE_URL + "/.well-known/jwks.json")


def check_signature(token):
    """The signature, issuer, audience and lifetime: no network once the keys are cached."""
    try:
        key = KEYS.get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key.key, algorithms=["EdDSA"], issuer=SERVICE_URL, audience=RESOURCE)
        return True, claims
    except (jwt.PyJWTError, ValueError) as error:
        return False, type(error).__name__


def introspect(token):
    """Whether the grant is active now: false within a second of its revocation, relinquish or expiry."""
    request = urllib.request.Request(
        SERVICE_URL + "/v1/credentials/introspect",
        data=urllib.parse.urlencode({"token": token}).encode(),
        headers={
            "authorization": "Bearer " + SERVER_TOKEN,
            "content-type": "application/x-www-form-urlencoded",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=2) as response:
        answer = json.load(response)
    return answer if answer.get("active") is True and answer.get("aud") == RESOURCE else {"active": False}


if __name__ == "__main__":
    token = sys.argv[1]
    valid, detail = check_signature(token)
    # A token whose signature fails is refused without asking the service.
    active = introspect(token)["active"] if valid else False
    print(json.dumps({
        "signature": "valid" if valid else "invalid: " + detail,
        "active": active,
        "allow": valid and active,
    }))
