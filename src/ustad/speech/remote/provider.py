"""One remote OpenAI-compatible provider: a pooled client, retries, a breaker, bounds, counts.

A ``RemoteProvider`` owns one ``httpx.AsyncClient`` for the life of the process (made
when the app starts, closed once when it stops), so calls reuse kept-alive connections
from a bounded pool instead of paying a TCP (and TLS) handshake each. Every call:

* goes through the provider's circuit breaker (``purgatory``): after
  ``breaker_failures`` failed calls in a row it opens and calls fail at once
  (``breaker_open``) for ``breaker_reset_seconds``; then one probe call is let through
  (half-open; others still fail fast) and its result closes or reopens it;
* is tried up to ``1 + retries`` times (every call ustad makes is idempotent: a
  transcription, a speech synthesis or a translation changes nothing on the server, so
  asking twice is safe) when the failure may pass (connection refused or
  reset, timeout, 429, 5xx), with jittered exponential backoff (``tenacity``), each
  attempt bounded by ``timeout_seconds`` end to end, and the call as a whole (every
  attempt and pause) by ``deadline_seconds`` (by default ``timeout_seconds`` + 5 s);
* asks for the answer uncompressed (``Accept-Encoding: identity``) and refuses a
  compressed one (``malformed``), so the bytes counted are the bytes held: a small gzip
  bomb is never inflated;
* reads at most ``max_response_bytes`` of the answer (``too_large`` past it, refused
  by ``Content-Length`` before reading when the server states one);
* parses the answer with the caller's ``parse``: whatever that raises (a ``ValueError``,
  a ``RecursionError`` of a deeply nested answer, anything) is ``malformed``;
* is counted: calls, errors by kind, latency, fallbacks, connections opened and reused
  (from httpcore's trace events), the breaker's state (``ProviderStats``).

Failures raise ``RemoteError`` with a ``kind``; the engines built on a provider turn
every one into "no answer", and the local engine answers instead.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol, TypeVar

import httpx
from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import OpenedState
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from ustad.remote_settings import RemoteProviderSettings

log = logging.getLogger(__name__)

T = TypeVar("T")


class RunBlocking(Protocol):
    """Runs a blocking callable off the event loop (``EngineExecutor.run``)."""

    def __call__(self, fn: Callable[[], T]) -> Awaitable[T]:
        """``fn()``'s result, computed on a worker thread."""
        ...


ErrorKind = Literal[
    "connect",
    "timeout",
    "reset",
    "server",
    "rate_limited",
    "client",
    "malformed",
    "too_large",
    "breaker_open",
    "rejected",
]
"""Why a remote call gave no usable answer: connection refused (``connect``), no answer
in time (``timeout``), connection dropped mid-exchange (``reset``), HTTP 5xx
(``server``), 429 (``rate_limited``), another 4xx (``client``), an answer that is not
what the API promises (``malformed``), one over ``max_response_bytes`` (``too_large``),
the breaker open (``breaker_open``), or an answer that failed ustad's own checks on
its content (``rejected``: a loop, invented text, undecodable audio)."""

RETRYABLE: Final = frozenset({"connect", "timeout", "reset", "server", "rate_limited"})
"""Failures worth another attempt: the same request may well succeed a moment later."""

LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Upper bounds (seconds) of the call latency histogram, as ``ustad_turn_seconds``'s."""

BreakerState = Literal["closed", "open", "half_open"]
_BREAKER_STATES: Final[Mapping[str, BreakerState]] = {
    "closed": "closed",
    "opened": "open",
    "half-opened": "half_open",
}
_ERROR_BODY_BYTES: Final = 2048
"""Bytes of an error answer kept for the log."""


class RemoteError(Exception):
    """A remote call that gave no usable answer; ``kind`` says why (``ErrorKind``)."""

    def __init__(self, kind: ErrorKind, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind: ErrorKind = kind
        self.detail = detail

    @property
    def retryable(self) -> bool:
        """Whether another attempt may succeed (``RETRYABLE``)."""
        return self.kind in RETRYABLE


@dataclass(frozen=True)
class Answer:
    """A successful HTTP answer, read whole (at most ``max_response_bytes``)."""

    status: int
    content_type: str
    content: bytes


@dataclass(frozen=True)
class ProviderStats:
    """A snapshot of one provider's counters (counts since start; seconds)."""

    name: str
    """``stt``, ``tts`` or ``translation``."""
    calls: int
    """Calls asked of the provider (each may make several attempts)."""
    attempts: int
    """HTTP requests started (first tries and retries)."""
    errors: Mapping[str, int]
    """Failed calls by ``ErrorKind`` (``rejected``: answers ustad's checks refused)."""
    fallbacks: int
    """Calls a local engine answered instead (after any failure or rejection)."""
    breaker_state: BreakerState
    breaker_opened: int
    """Times the breaker opened (a failed probe reopening it counts)."""
    connections_opened: int
    """New TCP connections the pooled client made."""
    connections_reused: int
    """Requests sent on a kept-alive connection (requests sent minus connections made)."""
    latency_buckets: tuple[int, ...]
    """Calls that reached the network, cumulative per ``LATENCY_BUCKETS`` bound."""
    latency_count: int
    latency_sum: float
    """Seconds, summed over ``latency_count`` calls."""


class RemoteProvider:
    """One configured provider (``settings.base_url`` must be set, else ``ValueError``).

    ``name`` labels its metrics and breaker; ``transport`` replaces the network (tests:
    ``httpx.MockTransport``). Call ``aclose()`` once, at shutdown.
    """

    def __init__(
        self,
        name: str,
        settings: RemoteProviderSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not settings.base_url:
            raise ValueError(f"remote provider {name!r} has no base_url")
        self.name = name
        self.settings = settings
        # Identity: a compressed answer would be inflated before its bytes are counted.
        headers = {"User-Agent": "ustad", "Accept-Encoding": "identity"}
        if settings.api_key is not None:
            headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
        self.client = httpx.AsyncClient(
            base_url=settings.base_url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(
                settings.timeout_seconds, connect=settings.connect_timeout_seconds
            ),
            limits=httpx.Limits(
                max_connections=settings.max_connections,
                max_keepalive_connections=settings.max_keepalive_connections,
                keepalive_expiry=settings.keepalive_seconds,
            ),
            transport=transport,
            follow_redirects=False,
            # Proxy variables of the environment are not read: the URL is the route.
            trust_env=False,
        )
        self._breakers = AsyncCircuitBreakerFactory(
            default_threshold=settings.breaker_failures, default_ttl=settings.breaker_reset_seconds
        )
        self._breakers.add_listener(self._breaker_event)
        self._probing = False
        self._calls = 0
        self._attempts = 0
        self._errors: Counter[str] = Counter()
        self._fallbacks = 0
        self._breaker_state: BreakerState = "closed"
        self._breaker_opened = 0
        self._opened = 0
        self._sent = 0
        self._latency = [0] * len(LATENCY_BUCKETS)
        self._latency_count = 0
        self._latency_sum = 0.0

    @property
    def model(self) -> str:
        """The ``model`` to name in requests."""
        return self.settings.model

    async def post(
        self,
        path: str,
        parse: Callable[[Answer], T],
        *,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> T:
        """POST to ``path`` (relative to ``base_url``) and ``parse`` the answer.

        ``parse`` runs inside the breaker on the event loop: it must be quick and raise
        ``RemoteError("malformed", ...)`` for an answer it cannot use; any other
        exception it raises is ``malformed`` too. Either counts as a failure of the
        provider. The whole call, retries included, takes at most ``deadline_seconds``
        (then ``timeout``). Raises ``RemoteError``.
        """
        self._calls += 1
        started = time.perf_counter()
        reached = True
        try:
            return await self._guarded(lambda: self._deadlined(path, parse, json, data, files))
        except RemoteError as error:
            reached = error.kind != "breaker_open"
            self._errors[error.kind] += 1
            # While the breaker is open every call fails at once: one warning said so.
            level = logging.DEBUG if error.kind == "breaker_open" else logging.INFO
            log.log(level, "remote %s %s failed: %s", self.name, path, error)
            raise
        finally:
            if reached:
                self._observe(time.perf_counter() - started)

    def rejected(self, reason: str) -> None:
        """Count an answer ustad's own checks refused (``rejected``; not a breaker failure)."""
        self._errors["rejected"] += 1
        log.info("remote %s answer rejected: %s", self.name, reason)

    def fell_back(self) -> None:
        """Count a call a local engine answered instead."""
        self._fallbacks += 1

    async def _guarded(self, call: Callable[[], Awaitable[T]]) -> T:
        """``call()`` through the breaker, one probe at a time while it is not closed."""
        breaker = await self._breakers.get_breaker(self.name)
        probing = breaker.context.state != "closed"
        if probing and self._probing:
            raise RemoteError("breaker_open", "a probe call is in progress")
        self._probing = self._probing or probing
        try:
            async with breaker:
                return await call()
        except OpenedState as error:
            raise RemoteError("breaker_open", str(error)) from error
        except (httpx.HTTPError, ValueError, RecursionError) as error:  # unexpected shapes
            raise RemoteError("malformed", str(error)[:200] or type(error).__name__) from error
        finally:
            if probing:
                self._probing = False

    async def _deadlined(
        self,
        path: str,
        parse: Callable[[Answer], T],
        json: Any,
        data: Mapping[str, Any] | None,
        files: Mapping[str, tuple[str, bytes, str]] | None,
    ) -> T:
        """``_retried`` within ``deadline_seconds`` (``RemoteError("timeout")`` past it)."""
        deadline = self.settings.deadline
        try:
            async with asyncio.timeout(deadline):
                return await self._retried(path, parse, json, data, files)
        except TimeoutError as error:
            raise RemoteError("timeout", f"no usable answer within {deadline:g} s") from error

    async def _retried(
        self,
        path: str,
        parse: Callable[[Answer], T],
        json: Any,
        data: Mapping[str, Any] | None,
        files: Mapping[str, tuple[str, bytes, str]] | None,
    ) -> T:
        settings = self.settings
        retrying = AsyncRetrying(
            stop=stop_after_attempt(1 + settings.retries),
            wait=wait_random_exponential(
                multiplier=settings.backoff_seconds, max=settings.backoff_max_seconds
            ),
            retry=retry_if_exception(lambda e: isinstance(e, RemoteError) and e.retryable),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                answer = await self._attempt(path, json, data, files)
        try:
            return parse(answer)
        except RemoteError:
            raise
        except Exception as error:  # nothing a provider sends may be a 500
            detail = f"{type(error).__name__}: {str(error)[:200]}"
            raise RemoteError("malformed", detail) from error

    async def _attempt(
        self,
        path: str,
        json: Any,
        data: Mapping[str, Any] | None,
        files: Mapping[str, tuple[str, bytes, str]] | None,
    ) -> Answer:
        """One HTTP request, bounded in time and in the bytes read."""
        self._attempts += 1
        try:
            async with asyncio.timeout(self.settings.timeout_seconds):
                return await self._exchange(path, json, data, files)
        except TimeoutError as error:
            raise RemoteError(
                "timeout", f"no answer within {self.settings.timeout_seconds:g} s"
            ) from error
        except httpx.TimeoutException as error:
            raise RemoteError("timeout", type(error).__name__) from error
        except httpx.ConnectError as error:
            raise RemoteError("connect", str(error)[:200] or type(error).__name__) from error
        except (httpx.TransportError, httpx.StreamError) as error:
            raise RemoteError("reset", str(error)[:200] or type(error).__name__) from error

    async def _exchange(
        self,
        path: str,
        json: Any,
        data: Mapping[str, Any] | None,
        files: Mapping[str, tuple[str, bytes, str]] | None,
    ) -> Answer:
        async with self.client.stream(
            "POST",
            path.lstrip("/"),
            json=json,
            data=data,
            files=files,
            extensions={"trace": self._trace},
        ) as response:
            status = response.status_code
            encoding = response.headers.get("content-encoding", "identity").strip().lower()
            if encoding not in ("", "identity"):
                raise RemoteError("malformed", f"a {encoding!r} answer (identity was asked)")
            if status >= 400:
                body = await read_bounded(response, _ERROR_BODY_BYTES, truncate=True)
                kind: ErrorKind = (
                    "rate_limited" if status == 429 else "server" if status >= 500 else "client"
                )
                detail = body.decode("utf-8", "replace")[:300]
                raise RemoteError(kind, f"HTTP {status}: {detail}")
            content = await read_bounded(response, self.settings.max_response_bytes)
            return Answer(status, response.headers.get("content-type", ""), content)

    async def _trace(self, event: str, info: Mapping[str, Any]) -> None:
        """httpcore's trace events: a TCP connect is a new connection; every request's
        headers sent is a request on one (new or kept alive)."""
        if event == "connection.connect_tcp.complete":
            self._opened += 1
        elif event.endswith("send_request_headers.started"):
            self._sent += 1

    def _breaker_event(self, name: str, kind: str, event: Any) -> None:
        """purgatory's hook: follow the breaker's state (for metrics and the log)."""
        if kind != "state_changed":
            return
        state = _BREAKER_STATES.get(str(getattr(event, "state", "")), "closed")
        if state == "open":
            self._breaker_opened += 1
            log.warning("remote %s circuit breaker open: local engines answer", self.name)
        elif state == "closed" and self._breaker_state != "closed":
            log.info("remote %s circuit breaker closed again", self.name)
        self._breaker_state = state

    def _observe(self, seconds: float) -> None:
        index = bisect.bisect_left(LATENCY_BUCKETS, seconds)
        for i in range(index, len(self._latency)):
            self._latency[i] += 1
        self._latency_count += 1
        self._latency_sum += seconds

    def stats(self) -> ProviderStats:
        """Counters since start and the breaker's state now."""
        return ProviderStats(
            name=self.name,
            calls=self._calls,
            attempts=self._attempts,
            errors=dict(sorted(self._errors.items())),
            fallbacks=self._fallbacks,
            breaker_state=self._breaker_state,
            breaker_opened=self._breaker_opened,
            connections_opened=self._opened,
            connections_reused=max(0, self._sent - self._opened),
            latency_buckets=tuple(self._latency),
            latency_count=self._latency_count,
            latency_sum=self._latency_sum,
        )

    async def aclose(self) -> None:
        """Close the pooled client and its connections (once, at shutdown)."""
        await self.client.aclose()


async def read_bounded(response: httpx.Response, limit: int, *, truncate: bool = False) -> bytes:
    """The body of a streamed ``response``, at most ``limit`` bytes.

    Raises ``RemoteError("too_large")`` when the stated ``Content-Length`` or the bytes
    that arrive exceed ``limit`` (the rest is never read); with ``truncate`` the first
    ``limit`` bytes are returned instead (error bodies, for the log).
    """
    stated = response.headers.get("content-length", "")
    if not truncate and stated.isdigit() and int(stated) > limit:
        raise RemoteError("too_large", f"answer of {stated} bytes (limit {limit})")
    chunks: list[bytes] = []
    size = 0
    # The caller refused any Content-Encoding: these are the bytes that arrived.
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            if truncate:
                return b"".join(chunks)[:limit]
            raise RemoteError("too_large", f"answer over {limit} bytes")
    return b"".join(chunks)
