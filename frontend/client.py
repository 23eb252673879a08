"""A small synchronous client of the iwlab REST API (`/api/v1`); the dashboard's only data source."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from cachetools import LRUCache, TTLCache

T = TypeVar("T")
# The member a pooled request acts for: the Flask request (and its session) stays on the thread that
# took it, so `submit`/`map` carry its token to the pool's threads. Unset: ask token_of_request.
_AS_MEMBER: contextvars.ContextVar[str | None] = contextvars.ContextVar("as_member")


class ApiError(Exception):
    """The API answered with an error status (or could not be reached: status 0)."""

    def __init__(self, status: int, message: str, detail: Any = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail  # FastAPI's `detail` (a list of {loc, msg, ...} on 422)


class ApiClient:
    """Thin wrapper: one method per endpoint, JSON in and out.

    Boundary frames are immutable once recorded, so they are kept in a small LRU cache: scrubbing
    the epoch slider back and forth does not refetch them.
    """

    def __init__(
        self,
        api_url: str,
        timeout: float = 10.0,
        frame_cache: int = 512,
        transport: httpx.BaseTransport | None = None,
        token: str | None = None,
        token_of_request: Callable[[], str | None] | None = None,
        side_by_side: int = 8,
    ):
        self.api_url = api_url.rstrip("/")
        self.base = f"{self.api_url}/api/v1"
        # a lab server requires a token: a fixed one (one account for everyone), or the signed-in
        # user's, looked up per request (frontend/auth.py)
        self._token_of_request = token_of_request
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.base, timeout=timeout, transport=transport, headers=headers)
        # least recently used out first; not thread-safe by themselves, hence the lock
        self._frames: LRUCache[tuple[int, int], dict] = LRUCache(maxsize=frame_cache)
        self._grids: LRUCache[int, dict] = LRUCache(maxsize=frame_cache)
        # the run parameters' schema changes only with the API's version: read it every few minutes
        self._schema: TTLCache[str, dict] = TTLCache(maxsize=1, ttl=300)
        self._lock = threading.Lock()
        # requests one page needs at once go out side by side, up to this many
        self._pool = ThreadPoolExecutor(side_by_side, thread_name_prefix="api")

    # -- plumbing
    def _member(self) -> dict[str, Any]:
        """The signed-in member's token for this request (none: the client's own, if any)."""
        token = _AS_MEMBER.get(None) or (self._token_of_request() if self._token_of_request else None)
        return {"headers": {"Authorization": f"Bearer {token}"}} if token else {}

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        """`fn(*args, **kwargs)` on the client's pool, its API calls made as the current member."""
        token = _AS_MEMBER.get(None) or (self._token_of_request() if self._token_of_request else None)
        return self._pool.submit(_as_member, token, fn, *args, **kwargs)

    def map(self, fn: Callable[..., T], *iterables: Iterable[Any]) -> Iterator[T]:
        """`map(fn, ...)` side by side on the client's pool, as the current member (results in order)."""
        return (f.result() for f in [self.submit(fn, *args) for args in zip(*iterables)])

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        kwargs |= self._member()
        try:
            resp = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as err:
            raise ApiError(0, f"cannot reach the API at {self.api_url} ({type(err).__name__})") from err
        _raise_for(resp)
        return resp.json() if resp.content else None  # 204: no body

    def export(self, path: str) -> tuple[bytes, dict[str, str]]:
        """A download as bytes and headers (exports are CSV or JSON, not always a JSON body)."""
        try:
            resp = self._http.get(path, timeout=120, **self._member())  # as the member, like every other call
        except httpx.HTTPError as err:
            raise ApiError(0, f"cannot reach the API at {self.api_url} ({type(err).__name__})") from err
        _raise_for(resp)
        return resp.content, dict(resp.headers)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._http.close()

    # -- endpoints
    def health(self) -> dict:
        return self._request("GET", "/health")

    def me(self) -> dict:
        return self._request("GET", "/me")

    def catalog(self) -> dict:
        return self._request("GET", "/catalog")

    def run_schema(self) -> dict:
        """The catalog's run schema (with its form metadata), cached for a few minutes."""
        with self._lock:
            cached = self._schema.get("run")
        if cached is None:
            cached = self.catalog()["run"]
            with self._lock:
                self._schema["run"] = cached
        return cached

    def presets(self) -> list[dict]:
        return self._request("GET", "/presets")

    def list_experiments(
        self, limit: int = 50, offset: int = 0, sort: str | None = None, tags: list[str] | None = None
    ) -> dict:
        params = _params(limit=limit, offset=offset, sort=sort, tag=",".join(tags) if tags else None)
        return self._request("GET", "/experiments", params=params)

    def set_tags(self, experiment_id: int, tags: list[str]) -> dict:
        return self._request("PUT", f"/experiments/{experiment_id}/tags", json={"tags": tags})

    def create_experiment(self, spec: dict) -> dict:
        return self._request("POST", "/experiments", json=spec)

    def experiment(self, experiment_id: int) -> dict:
        return self._request("GET", f"/experiments/{experiment_id}")

    def runs(self, experiment_id: int) -> list[dict]:
        return self._request("GET", f"/experiments/{experiment_id}/runs")

    def experiment_metrics(
        self, experiment_id: int, split: str | None = None, metric: str | None = None, max_points: int | None = None
    ) -> list[dict]:
        return self._request(
            "GET",
            f"/experiments/{experiment_id}/metrics",
            params=_params(split=split, metric=metric, max_points=max_points),
        )

    def verdict(self, experiment_id: int) -> dict:
        return self._request("GET", f"/experiments/{experiment_id}/verdict")

    def cancel_experiment(self, experiment_id: int) -> dict:
        return self._request("POST", f"/experiments/{experiment_id}/cancel")

    def workers(self, limit: int = 50, offset: int = 0) -> dict:
        return self._request("GET", "/workers", params={"limit": limit, "offset": offset})

    def drain_worker(self, name: str) -> dict:
        return self._request("POST", f"/workers/{quote(name, safe='')}/drain")

    def run(self, run_id: int) -> dict:
        return self._request("GET", f"/runs/{run_id}")

    def datasets(self) -> list[dict]:
        return self._request("GET", "/datasets")

    def upload_dataset(self, name: str, data: bytes, label_column: str | None = None) -> dict:
        return self._request(
            "POST", "/datasets", params=_params(name=name, label_column=label_column), content=data, timeout=120
        )

    def delete_dataset(self, dataset_id: int) -> None:
        self._request("DELETE", f"/datasets/{dataset_id}")

    def run_history(self, run_id: int) -> list[dict]:
        return self._request("GET", f"/runs/{run_id}/history")

    def run_metrics(
        self, run_id: int, split: str | None = None, metric: str | None = None, max_points: int | None = None
    ) -> list[dict]:
        return self._request(
            "GET", f"/runs/{run_id}/metrics", params=_params(split=split, metric=metric, max_points=max_points)
        )

    def cancel_run(self, run_id: int) -> dict:
        return self._request("POST", f"/runs/{run_id}/cancel")

    def retry_run(self, run_id: int) -> dict:
        return self._request("POST", f"/runs/{run_id}/retry")

    def boundary(self, run_id: int, final: bool = False) -> dict:
        """Grid axes, training points and the epochs with a recorded frame (404 before the run starts).

        Pass `final=True` once the run has finished: its frame list no longer changes and is cached.
        """
        with self._lock:
            if run_id in self._grids:
                return self._grids[run_id]
        info = self._request("GET", f"/runs/{run_id}/boundary")
        if final:
            with self._lock:
                self._grids[run_id] = info
        return info

    def boundary_frame(self, run_id: int, epoch: int) -> dict:
        """P(positive) on the grid at the latest recorded frame <= `epoch`."""
        key = (run_id, epoch)
        with self._lock:
            if key in self._frames:
                return self._frames[key]
        frame = self._request("GET", f"/runs/{run_id}/boundary/{epoch}")
        if frame.get("epoch") == epoch:  # an exact frame never changes; a fallback one might
            with self._lock:
                self._frames[key] = frame
        return frame


def _raise_for(resp: httpx.Response) -> None:
    if resp.status_code < 400:
        return
    try:
        detail = resp.json().get("detail")
    except ValueError:
        detail = resp.text[:300]
    message = detail if isinstance(detail, str) else f"HTTP {resp.status_code}"
    raise ApiError(resp.status_code, message, detail)


def _params(**values: Any) -> dict[str, Any]:
    """Query parameters without the unset ones."""
    return {k: v for k, v in values.items() if v is not None}


def _as_member(token: str | None, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    reset = _AS_MEMBER.set(token)
    try:
        return fn(*args, **kwargs)
    finally:
        _AS_MEMBER.reset(reset)
