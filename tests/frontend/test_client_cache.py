"""The API client's frame cache keeps the most recently used frames: a frame read again survives
newer ones; the least recently used one goes first."""

import httpx

from frontend.client import ApiClient


def test_the_frame_cache_evicts_the_least_recently_used_frame():
    calls: list[str] = []

    def api(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        epoch = int(request.url.path.rsplit("/", 1)[1])
        return httpx.Response(200, json={"epoch": epoch, "z": []})  # exact frames: cacheable

    client = ApiClient("http://api.test", transport=httpx.MockTransport(api), frame_cache=2)
    client.boundary_frame(1, 1)
    client.boundary_frame(1, 2)
    client.boundary_frame(1, 1)  # from the cache, and now the most recent
    client.boundary_frame(1, 3)  # the cache is full: epoch 2 goes, not epoch 1
    client.boundary_frame(1, 1)
    client.boundary_frame(1, 2)
    assert [c.rsplit("/", 1)[1] for c in calls] == ["1", "2", "3", "2"]
