"""Synthesised replies on disk, addressed by content, shared by every worker process.

The memory caches die with the process; this store keeps each encoded reply as a
file named by the SHA-256 of its bytes, so a restarted (or newly added) worker
starts warm and a reply has a URL that never changes meaning (it can be cached
forever by browsers and CDNs).

Layout under ``root``::

    ab/<sha256>.<ext>     the audio; ``ab`` = the digest's first two hex digits, so no
                          directory grows past a few thousand entries
    keys/cd/<keyhash>     one small text file per reply key: ``<sha256>.<ext>``

A reply key (what ``SpeechService`` caches a reply under: voices, texts, format,
bitrate, speed) is not the content digest: the digest is only known after
synthesis, and a voice that is not bit-for-bit deterministic can give the same key
different bytes. The key file is the index from one to the other. It is a plain
file rather than a symlink so the store works on any filesystem (network mounts,
volumes synced to object storage) and so a pointer is validated as text instead of
being followed blindly.

Every write goes to a temporary file in the destination directory and is renamed
into place, so readers in any process see either nothing or a complete file, and
two processes writing the same file at once both succeed. Reads verify the digest:
a damaged file is a miss (and is removed), never served under an immutable URL.

All file I/O runs on the store's own small I/O pool (built in the lifespan), never
on the event loop and never on the engine threads: a reply already on disk must not
wait behind a Whisper call that holds every engine thread for seconds.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final, get_args

from ustad.runtime.executor import EngineExecutor
from ustad.settings import AudioFormat, AudioStoreSettings
from ustad.stat_fields import counter, gauge

log = logging.getLogger(__name__)

FORMATS: Final[tuple[AudioFormat, ...]] = get_args(AudioFormat)
"""Formats the store holds; each one is also the file extension."""

_DIGEST_RE: Final = re.compile(r"^[0-9a-f]{64}$")
_REF_RE: Final = re.compile(r"^([0-9a-f]{64})\.(mp3|opus|wav)$")
_TEMP_PREFIX: Final = ".tmp-"
_STALE_TEMP_SECONDS: Final = 3600.0
"""A temporary file this old was left by a process that died mid-write."""
_EVICT_TO: Final = 0.9
"""Eviction goes down to this share of the bound, so it runs once per ~10 % of
the bound written rather than on every write past it."""


def is_digest(value: str) -> bool:
    """True for a lowercase hex SHA-256 (the only names the store will open)."""
    return _DIGEST_RE.fullmatch(value) is not None


@dataclass(frozen=True)
class StoredAudio:
    """An encoded reply and its content address."""

    data: bytes
    digest: str
    """SHA-256 of ``data`` (lowercase hex)."""
    format: AudioFormat
    on_disk: bool = False
    """True once the bytes are in the disk store, i.e. servable by digest."""

    @classmethod
    def of(cls, data: bytes, fmt: AudioFormat) -> StoredAudio:
        """Wrap encoded bytes (hashes them: call it off the event loop for big data)."""
        return cls(data, hashlib.sha256(data).hexdigest(), fmt)

    @property
    def filename(self) -> str:
        """``<digest>.<ext>``."""
        return f"{self.digest}.{self.format}"


@dataclass(frozen=True)
class AudioStoreStats:
    """Counters of one process's view of the store (the ``ustad_audio_store_*`` series)."""

    hits: int = field(metadata=counter("Reply lookups answered from the disk store."))
    misses: int = field(metadata=counter("Reply lookups the disk store could not answer."))
    writes: int = field(metadata=counter("Audio files written to the disk store."))
    evictions: int = field(metadata=counter("Audio files deleted to stay within the bound."))
    files: int = field(metadata=gauge("Audio files in the store, as this worker counts them."))
    """Audio files at the last directory scan plus this process's writes since."""
    bytes: int = field(metadata=gauge("Bytes of audio in the store, as this worker counts them."))
    """Their total size (same caveat: other processes' recent writes are not seen)."""
    max_bytes: int | None


class AudioStore:
    """Content-addressed reply audio under ``root``, with a reply-key index.

    ``io`` runs every blocking file operation; give it threads of its own (not the
    engine executor's). ``max_bytes`` bounds the audio kept (``None`` = no bound); past it the least
    recently used files (by modification time, which a read refreshes) are deleted.
    The bound is approximate when several processes share the directory: each one
    counts its own writes between scans.
    """

    def __init__(self, root: Path, max_bytes: int | None = None, *, io: EngineExecutor) -> None:
        if max_bytes is not None and max_bytes <= 0:
            raise ValueError("max_bytes must be positive (or None for no bound)")
        self.root = root
        self.max_bytes = max_bytes
        self.io = io
        """The pool the file operations run on (its stats show disk queueing)."""
        self._hits = 0
        self._misses = 0
        self._writes = 0
        self._evictions = 0
        self._files = 0
        self._bytes = 0
        self._scanned = False
        self._evicting = False

    # --- paths ------------------------------------------------------------------

    def audio_path(self, digest: str, fmt: AudioFormat) -> Path:
        """Where the audio with this digest lives (``digest`` must be valid)."""
        if not is_digest(digest) or fmt not in FORMATS:
            raise ValueError(f"not a stored audio name: {digest!r}.{fmt!r}")
        return self.root / digest[:2] / f"{digest}.{fmt}"

    def _key_path(self, key: str) -> Path:
        # Hashing makes any key a safe fixed-length file name.
        hashed = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.root / "keys" / hashed[:2] / hashed

    # --- async API (each call is one trip to the I/O pool) ------------------------

    async def get(self, key: str) -> StoredAudio | None:
        """The audio stored under a reply key, or ``None`` (missing or damaged)."""
        found = await self.io.run(lambda: self._get_blocking(key))
        if found is None:
            self._misses += 1
        else:
            self._hits += 1
        return found

    async def contains(self, key: str) -> bool:
        """Whether a reply key points at audio on disk (not verified: no read)."""
        return await self.io.run(lambda: self._contains_blocking(key))

    async def put(self, key: str, audio: StoredAudio) -> StoredAudio:
        """Store ``audio`` under ``key``; returns it marked ``on_disk``.

        Raises ``OSError`` when the disk refuses (the caller decides how loud that is).
        Audio larger than the whole bound is not stored (returned unmarked).
        """
        if self.max_bytes is not None and len(audio.data) > self.max_bytes:
            return audio
        if not self._scanned:
            await self.refresh()
        added = await self.io.run(lambda: self._put_blocking(key, audio))
        self._writes += 1
        if added:
            self._files += 1
            self._bytes += len(audio.data)
        if self.max_bytes is not None and self._bytes > self.max_bytes and not self._evicting:
            await self._evict()
        return replace(audio, on_disk=True)

    async def read(self, digest: str, fmt: AudioFormat) -> bytes | None:
        """The verified bytes of stored audio, or ``None`` (for serving by digest)."""
        path = self.audio_path(digest, fmt)
        data = await self.io.run(lambda: self._read_verified(path, digest))
        if data is None:
            self._misses += 1
        else:
            self._hits += 1
        return data

    async def exists(self, digest: str, fmt: AudioFormat) -> bool:
        """Whether the audio file is present (a cheap stat, no verification)."""
        path = self.audio_path(digest, fmt)
        return await self.io.run(path.is_file)

    async def refresh(self) -> AudioStoreStats:
        """Rescan the directory for the file count and size (also clears stale temp files)."""
        files, size = await self.io.run(self._scan_blocking)
        self._files, self._bytes, self._scanned = files, size, True
        return self.stats()

    def stats(self) -> AudioStoreStats:
        """Counters since start."""
        return AudioStoreStats(
            hits=self._hits,
            misses=self._misses,
            writes=self._writes,
            evictions=self._evictions,
            files=self._files,
            bytes=self._bytes,
            max_bytes=self.max_bytes,
        )

    async def _evict(self) -> None:
        assert self.max_bytes is not None
        self._evicting = True
        target = int(self.max_bytes * _EVICT_TO)
        try:
            files, size, evicted = await self.io.run(
                lambda: self._evict_blocking(self.max_bytes or 0, target)
            )
        except OSError:
            log.exception("audio store eviction failed in %s", self.root)
            return
        finally:
            self._evicting = False
        self._files, self._bytes = files, size
        self._evictions += evicted
        if evicted:
            log.info("audio store evicted %d files; %d files, %d bytes left", evicted, files, size)

    # --- blocking helpers (run on I/O pool threads only) --------------------------

    def _get_blocking(self, key: str) -> StoredAudio | None:
        key_path = self._key_path(key)
        ref = self._read_ref(key_path)
        if ref is None:
            return None
        digest, fmt = ref
        path = self.audio_path(digest, fmt)
        data = self._read_verified(path, digest)
        if data is None:
            # The audio was evicted or damaged: drop the dangling pointer too.
            _unlink_quietly(key_path)
            return None
        _touch(key_path)
        return StoredAudio(data, digest, fmt, on_disk=True)

    def _contains_blocking(self, key: str) -> bool:
        ref = self._read_ref(self._key_path(key))
        return ref is not None and self.audio_path(*ref).is_file()

    def _read_ref(self, key_path: Path) -> tuple[str, AudioFormat] | None:
        try:
            text = key_path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            log.warning("audio store: unreadable key file %s: %s", key_path, error)
            return None
        match = _REF_RE.fullmatch(text)
        if match is None:
            log.warning("audio store: malformed key file %s removed", key_path)
            _unlink_quietly(key_path)
            return None
        fmt = next(f for f in FORMATS if f == match.group(2))
        return match.group(1), fmt

    def _read_verified(self, path: Path, digest: str) -> bytes | None:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            log.warning("audio store: cannot read %s: %s", path, error)
            return None
        if hashlib.sha256(data).hexdigest() != digest:
            log.warning("audio store: %s does not match its digest; removed", path)
            _unlink_quietly(path)
            return None
        # Reading counts as use for the LRU bound; atime is unreliable (noatime mounts).
        _touch(path)
        return data

    def _put_blocking(self, key: str, audio: StoredAudio) -> bool:
        """Write the audio (if new) and then the key; True if the audio file is new."""
        path = self.audio_path(audio.digest, audio.format)
        added = False
        if path.is_file():
            _touch(path)
        else:
            _write_atomically(path, audio.data)
            added = True
        # The pointer is written after the audio, so a key never precedes its audio.
        _write_atomically(self._key_path(key), f"{audio.filename}\n".encode("ascii"))
        return added

    def _audio_files(self) -> list[tuple[float, int, Path]]:
        """``(mtime, size, path)`` of every audio file; removes stale temp files."""
        found: list[tuple[float, int, Path]] = []
        if not self.root.is_dir():
            return found
        now = time.time()
        for shard in self.root.iterdir():
            if len(shard.name) != 2 or not shard.is_dir():
                continue  # "keys" and anything foreign
            for entry in os.scandir(shard):
                try:
                    info = entry.stat()
                except FileNotFoundError:
                    continue  # evicted by another process meanwhile
                if entry.name.startswith(_TEMP_PREFIX):
                    if now - info.st_mtime > _STALE_TEMP_SECONDS:
                        _unlink_quietly(Path(entry.path))
                    continue
                if _REF_RE.fullmatch(entry.name) and entry.is_file():
                    found.append((info.st_mtime, info.st_size, Path(entry.path)))
        return found

    def _scan_blocking(self) -> tuple[int, int]:
        files = self._audio_files()
        return len(files), sum(size for _, size, _ in files)

    def _evict_blocking(self, bound: int, target: int) -> tuple[int, int, int]:
        """Delete the least recently used audio down to ``target`` bytes."""
        files = sorted(self._audio_files())
        total = sum(size for _, size, _ in files)
        if total <= bound:
            return len(files), total, 0  # another process already made room
        evicted = 0
        for _, size, path in files:
            if total <= target:
                break
            _unlink_quietly(path)
            total -= size
            evicted += 1
        self._drop_dangling_keys()
        return len(files) - evicted, total, evicted

    def _drop_dangling_keys(self) -> None:
        keys = self.root / "keys"
        if not keys.is_dir():
            return
        for shard in keys.iterdir():
            if not shard.is_dir():
                continue
            for entry in os.scandir(shard):
                if entry.name.startswith(_TEMP_PREFIX):
                    continue
                key_path = Path(entry.path)
                ref = self._read_ref(key_path)
                if ref is not None and not self.audio_path(*ref).is_file():
                    _unlink_quietly(key_path)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write via a temp file in the same directory and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            # mkstemp makes 0600 files; a web server or sidecar serving the
            # directory directly must be able to read them.
            os.fchmod(handle.fileno(), 0o644)
        # No fsync: this is a cache, and a file damaged by a crash fails its
        # digest check on read and is simply synthesised again.
        os.replace(temp, path)
    except BaseException:
        _unlink_quietly(Path(temp))
        raise


def _touch(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.utime(path)


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def store_from_settings(settings: AudioStoreSettings, io: EngineExecutor) -> AudioStore | None:
    """The configured store on the I/O pool ``io``, or ``None`` when it is disabled
    (replies stay in memory only)."""
    if not settings.enabled:
        return None
    return AudioStore(settings.dir, settings.max_bytes or None, io=io)
