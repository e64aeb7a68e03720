"""Recent depth maps, keyed by the photo's pixels and the model settings that made them.

A page that changes only its detection thresholds asks again for the depth of the same photo with
other boxes; the depth map does not change, so the second answer skips inference. The cache lives
in one worker process, is bounded by count and by bytes (least recently used maps go first), and
is safe to use from the request threads of one worker. ``DEPTH_CACHE_ENTRIES=0`` turns it off.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

import numpy as np
from PIL import Image
from prometheus_client import Counter
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from apis.depth.model import DepthPrediction


class DepthCacheSettings(BaseSettings):
    """How much the depth API keeps (``DEPTH_CACHE_*`` environment variables), per worker."""

    model_config = SettingsConfigDict(env_prefix="DEPTH_CACHE_", extra="ignore")

    entries: int = Field(default=8, ge=0, le=1000, description="Most depth maps kept; 0 turns the cache off.")
    mb: float = Field(
        default=256.0,
        ge=0,
        description="Most memory the kept maps take, in MB (a 12-megapixel photo's map takes 48 MB).",
    )


def photo_key(image: Image.Image) -> str:
    """A digest of the decoded pixels: the same photo in another container or name has the same key."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"{image.mode}:{image.width}x{image.height}:".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


class DepthMapCache:
    """Least-recently-used depth maps, at most ``entries`` of them and ``max_bytes`` in all."""

    def __init__(self, entries: int, max_bytes: int, model_key: Hashable = ()) -> None:
        self.entries = entries
        self.max_bytes = max_bytes
        self.model_key = model_key
        self.hits = 0
        self.misses = 0
        self._maps: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: DepthCacheSettings, model_key: Hashable = ()) -> DepthMapCache:
        return cls(settings.entries, int(settings.mb * 1024 * 1024), model_key)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._maps)

    def predict(
        self,
        image: Image.Image,
        infer: Callable[[], tuple[DepthPrediction, float]],
        lookups: Counter | None = None,
    ) -> tuple[DepthPrediction, float]:
        """The cached depth of ``image``, or ``infer()``'s (then kept); returns ``(prediction, queue_s)``.

        A hit's ``timing_ms`` is only ``cache_hit`` (milliseconds for the key and the lookup; no
        preprocess, no inference); a miss's is the model's own. ``lookups`` (a Prometheus counter
        with a ``result`` label) counts each lookup as ``hit`` or ``miss``.
        """
        started = time.perf_counter()
        key = (self.model_key, photo_key(image)) if self.entries else None
        with self._lock:
            depth = self._maps.get(key) if key is not None else None
            if depth is not None:
                self._maps.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
        if lookups is not None:
            lookups.labels(result="miss" if depth is None else "hit").inc()
        if depth is not None:
            lookup_ms = (time.perf_counter() - started) * 1000
            return DepthPrediction(depth=depth, timing_ms={"cache_hit": lookup_ms}), 0.0
        prediction, waited_s = infer()
        if key is not None:
            self._keep(key, prediction.depth)
        return prediction, waited_s

    def _keep(self, key: tuple, depth: np.ndarray) -> None:
        if depth.nbytes > self.max_bytes:
            return
        depth.flags.writeable = False  # shared by later answers: nothing may change it in place
        with self._lock:
            if key in self._maps:
                return
            self._maps[key] = depth
            self._bytes += depth.nbytes
            while len(self._maps) > self.entries or self._bytes > self.max_bytes:
                _, dropped = self._maps.popitem(last=False)
                self._bytes -= dropped.nbytes
