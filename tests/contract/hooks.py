"""Schemathesis hooks for tests/contract/run.sh: the Bearer token of the run's account.

The fuzzer calls every operation, including those that end the caller's own sessions (it finds
the session id in GET /api/auth/sessions and revokes it) or change the caller's roles. A fixed
token would then turn every later request into a 401 and test nothing, so the token is fetched
again whenever a request comes back 401: first the one run.sh got with curl, then fresh logins.
"""

import json
import os
import urllib.request

import schemathesis


def _login(base_url: str) -> str:
    body = json.dumps(
        {
            "username": os.environ["AUTHD_CONTRACT_USERNAME"],
            "password": os.environ["AUTHD_CONTRACT_PASSWORD"],
        }
    ).encode()
    request = urllib.request.Request(
        base_url.rstrip("/") + "/api/auth/login",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["access_token"]


@schemathesis.auth()  # cached; fetched again after a 401
class AuthdBearer:
    def __init__(self):
        self.first = os.environ.get("AUTHD_CONTRACT_TOKEN")

    def get(self, case, ctx):
        if self.first:
            token, self.first = self.first, None
            return token
        return _login(os.environ["AUTHD_CONTRACT_BASE_URL"])

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
