"""The depth-map cache through the API: the same photo again skips inference and answers the same."""

from __future__ import annotations

import re

import pytest
from PIL import ImageOps

from apis.depth.cache import DepthMapCache
from tests.depth.helpers import detection, predict
from tests.support.images import encode, gradient


@pytest.fixture()
def fresh_cache(depth_service, monkeypatch):
    """An empty cache for this test (the app is shared by the session), and a count of model calls."""

    def install(entries: int = 8, max_bytes: int = 64 * 1024 * 1024) -> tuple[DepthMapCache, list[int]]:
        cache = DepthMapCache(entries, max_bytes, depth_service.depth_cache.model_key)
        monkeypatch.setattr(depth_service, "depth_cache", cache)
        calls: list[int] = []
        real_predict = depth_service.estimator.predict

        def counted(image):
            calls.append(image.width)
            return real_predict(image)

        monkeypatch.setattr(depth_service.estimator, "predict", counted)
        return cache, calls

    return install


def photo(width: int, height: int, fmt: str = "PNG") -> bytes:
    return encode(gradient(width, height), fmt)


def metric(client, result: str) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    found = re.search(rf'^result_cache_lookups_total{{result="{result}"}} (\S+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_the_same_photo_again_skips_inference_and_gives_the_same_numbers(client, fresh_cache):
    _cache, calls = fresh_cache()
    data = photo(320, 240)
    hits_before, misses_before = metric(client, "hit"), metric(client, "miss")

    first = predict(client, data, detections=[detection(10, 10, 120, 200)]).get_json()
    other_boxes = [detection(10, 10, 120, 200), detection(200, 20, 310, 230, "car", 0.5)]
    second = predict(client, data, "renamed.png", detections=other_boxes).get_json()

    assert calls == [320]  # one model call for two requests
    assert "inference" in first["timing_ms"] and "cache_hit" not in first["timing_ms"]
    assert "cache_hit" in second["timing_ms"]
    assert not {"inference", "preprocess"} & set(second["timing_ms"]) and second["timing_ms"]["queue"] == 0
    assert second["depth_stats"] == first["depth_stats"]
    assert second["depth_at_objects"][0]["depth_median"] == first["depth_at_objects"][0]["depth_median"]
    assert len(second["depth_at_objects"]) == 2
    assert second["images"]["depth_colored"] == first["images"]["depth_colored"]
    assert metric(client, "hit") == hits_before + 1
    assert metric(client, "miss") == misses_before + 1


def test_other_bytes_or_pixels_run_the_model(client, fresh_cache):
    _cache, calls = fresh_cache()
    predict(client, photo(320, 240))
    predict(client, photo(320, 240, "JPEG"))  # same picture, other (lossy) pixels
    predict(client, photo(240, 320))
    assert calls == [320, 320, 240]


def test_the_same_pixels_in_another_format_are_a_hit(client, fresh_cache):
    _cache, calls = fresh_cache()
    predict(client, photo(200, 100, "PNG"))
    second = predict(client, photo(200, 100, "BMP")).get_json()
    assert calls == [200] and "cache_hit" in second["timing_ms"]


def test_the_memory_and_count_bounds_hold_and_the_oldest_map_goes_first(client, fresh_cache):
    one_map = 300 * 200 * 4  # float32 depth at the photo's size
    cache, calls = fresh_cache(entries=8, max_bytes=2 * one_map + 10)
    picture = gradient(300, 200)
    photos = [encode(p, "PNG") for p in (picture, ImageOps.mirror(picture), ImageOps.invert(picture))]
    for data in photos:
        predict(client, data)
    assert len(cache) == 2 and cache.size_bytes <= cache.max_bytes
    predict(client, photos[2])  # still kept
    predict(client, photos[0])  # dropped when the third came
    assert len(calls) == 4

    cache, calls = fresh_cache(entries=1)
    predict(client, photos[0])
    predict(client, photos[1])
    predict(client, photos[0])
    assert len(cache) == 1 and len(calls) == 3


def test_a_map_larger_than_the_whole_budget_is_not_kept(client, fresh_cache):
    cache, calls = fresh_cache(max_bytes=1000)
    predict(client, photo(100, 100))
    predict(client, photo(100, 100))
    assert len(cache) == 0 and cache.size_bytes == 0 and len(calls) == 2


def test_zero_entries_turns_it_off(client, fresh_cache):
    cache, calls = fresh_cache(entries=0)
    predict(client, photo(100, 100))
    second = predict(client, photo(100, 100)).get_json()
    assert len(calls) == 2 and "inference" in second["timing_ms"] and len(cache) == 0
