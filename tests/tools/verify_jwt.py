"""Verifies an authd access token the way an independent service would: with PyJWT and the key
from authd's JWK Set (or, for HS256, the shared secret).

Reads one JSON object on standard input:
    {"token": "...", "jwks": {...} | null, "secret": "..." | null, "issuer": "...", "audience": "..."}
Prints the verified claims as JSON and exits 0, or prints the reason and exits 1.
"""

import json
import sys

import jwt


def main() -> int:
    request = json.load(sys.stdin)
    token = request["token"]
    header = jwt.get_unverified_header(token)
    algorithm = header["alg"]
    if algorithm == "HS256":
        key = request["secret"]
    else:
        matching = [k for k in request["jwks"]["keys"] if k.get("kid") == header.get("kid")]
        if len(matching) != 1:
            print(f"no single published key with kid {header.get('kid')!r}")
            return 1
        key = jwt.PyJWK(matching[0]).key
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=request["audience"],
            issuer=request["issuer"],
            options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError as error:
        print(f"{type(error).__name__}: {error}")
        return 1
    print(json.dumps(claims))
    return 0


if __name__ == "__main__":
    sys.exit(main())
