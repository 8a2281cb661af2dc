"""An httpx transport that sends every request to an address the egress guard checked.

The request keeps its URL's host in the `Host` header and as the TLS server name (SNI and
certificate check), while the socket connects to the checked IP. Redirects are followed
by `send_following` one hop at a time, each hop checked again, and headers carrying
secrets are dropped when a redirect leaves the origin.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from agents.act.egress import EgressPolicy
from agents.act.errors import ActError

MAX_REDIRECTS = 5
_MAX_PINS = 4096
_DEFAULT_PORTS = {"http": 80, "https": 443}


class GuardedTransport(httpx.BaseTransport):
    """Resolve + check each request's host, then hand it to httpx with the IP in the URL."""

    def __init__(self, policy: EgressPolicy, inner: httpx.BaseTransport | None = None) -> None:
        self.policy = policy
        self.inner = inner or httpx.HTTPTransport(retries=0)
        self._pins: dict[tuple[str, str], httpx.URL] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in _DEFAULT_PORTS:
            raise ActError(f"Only http and https URLs can be called, not {url.scheme!r}.")
        host = url.host
        port = url.port or _DEFAULT_PORTS[url.scheme]
        ip = self.policy.resolve(host, port)[0]
        extensions = dict(request.extensions)
        if url.scheme == "https":
            extensions.setdefault("sni_hostname", host)
        # a new request object, so httpx resolves redirects against the original URL
        pinned = httpx.Request(
            request.method,
            self._pinned_url(url, str(ip)),
            headers=request.headers,  # includes Host: <original host>
            stream=request.stream,
            extensions=extensions,
        )
        return self.inner.handle_request(pinned)

    def _pinned_url(self, url: httpx.URL, ip: str) -> httpx.URL:
        # httpx re-parses a URL on every copy; the same destination recurs constantly
        key = (str(url), ip)
        pinned = self._pins.get(key)
        if pinned is None:
            if len(self._pins) >= _MAX_PINS:
                self._pins.clear()
            pinned = self._pins[key] = url.copy_with(host=ip)
        return pinned

    def close(self) -> None:
        self.inner.close()


def guarded_client(policy: EgressPolicy, timeout: float, limits: int = 16) -> httpx.Client:
    """An httpx client whose every connection goes through the egress guard."""
    return httpx.Client(
        transport=GuardedTransport(
            policy,
            httpx.HTTPTransport(
                retries=0,
                limits=httpx.Limits(max_connections=limits, max_keepalive_connections=limits),
            ),
        ),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,  # never route through a proxy taken from the environment
    )


def send_following(
    client: httpx.Client, request: httpx.Request, secret_headers: Iterable[str] = ()
) -> httpx.Response:
    """Send `request`, following up to MAX_REDIRECTS redirects; each hop is checked by the
    transport, and `secret_headers` are not sent to another origin."""
    secret = {name.lower() for name in secret_headers}
    origin = request.url.copy_with(path="/", query=None, fragment=None)
    response = client.send(request)
    for _ in range(MAX_REDIRECTS):
        following = response.next_request
        if following is None:
            return response
        response.close()
        if following.url.copy_with(path="/", query=None, fragment=None) != origin:
            for name in list(following.headers):
                if name.lower() in secret:
                    del following.headers[name]
        response = client.send(following)
    if response.next_request is not None:
        response.close()
        raise ActError(f"More than {MAX_REDIRECTS} redirects.")
    return response
