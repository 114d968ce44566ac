"""Compare two buckets: missing, extra and altered objects (or versions), by SHA-256 of the bytes (R11.2).

By default every object's bytes are hashed here (S3's stored checksums are trusted only with quick=True, and
only when both sides hold a full-object SHA-256), so a server that stored a wrong checksum cannot hide a change."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import groupby

from migration.s3.buckets import Bucket, ObjectVersion
from migration.s3.copy import b64


@dataclass
class BucketComparison:
    checked: int = 0
    bytes: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.altered)


def compare_buckets(source: Bucket, target: Bucket, *, versions: bool = False, quick: bool = False, workers: int = 8) -> BucketComparison:
    source.check_access("source")
    target.check_access("target")
    mine, theirs = _named(source.listing(versions)), _named(target.listing(versions))
    result = BucketComparison(missing=sorted(mine.keys() - theirs.keys()), extra=sorted(theirs.keys() - mine.keys()))
    common = sorted(mine.keys() & theirs.keys())

    def differs(name: str) -> bool:
        a, b = mine[name], theirs[name]
        if a.delete_marker or b.delete_marker:
            return a.delete_marker != b.delete_marker
        return a.size != b.size or _sha256(source, a, quick) != _sha256(target, b, quick)

    with ThreadPoolExecutor(max(1, workers)) as pool:
        result.altered = [name for name, changed in zip(common, pool.map(differs, common), strict=False) if changed]
    result.checked, result.bytes = len(common), sum(mine[n].size for n in common)
    return result


def _named(listing: list[ObjectVersion]) -> dict[str, ObjectVersion]:
    """Objects by key; with versions, 'key#n' for the n-th version (oldest first), since version ids differ by bucket."""
    if not listing or listing[0].version_id is None:
        return {v.key: v for v in listing}
    return {f"{key}#{n}": v for key, history in groupby(listing, key=lambda v: v.key) for n, v in enumerate(history, 1)}


def _sha256(bucket: Bucket, version: ObjectVersion, quick: bool) -> str:
    extra = {"VersionId": version.version_id} if version.version_id else {}
    if quick:
        stored = bucket.client.head_object(Bucket=bucket.name, Key=version.key, ChecksumMode="ENABLED", **extra).get("ChecksumSHA256")
        if stored and "-" not in stored:
            return stored
    digest = hashlib.sha256()
    body = bucket.client.get_object(Bucket=bucket.name, Key=version.key, **extra)["Body"]
    for chunk in body.iter_chunks(1024 * 1024):
        digest.update(chunk)
    return b64(digest.digest())
