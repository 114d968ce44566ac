"""Where objects live: a bucket reached through one S3 client, with listing and one-line access errors."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any
from xml.etree import ElementTree

import boto3
import botocore.config
import botocore.exceptions

from migration.errors import MigrationError
from migration.s3.direct import DirectRequests


@dataclass(frozen=True)
class ObjectVersion:
    key: str
    version_id: str | None  # None when versions are not being copied (latest only)
    size: int
    delete_marker: bool = False
    # The additional checksums S3 holds for it, as the listing reports them (e.g. ("SHA256",)): whether a stored
    # SHA-256 exists to compare with, known without a request per object.
    checksum_algorithms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bucket:
    name: str
    endpoint_url: str | None = None  # None = AWS
    profile: str | None = None
    region: str | None = None

    @property
    def client(self) -> Any:  # botocore's S3 client (its type is generated at run time)
        return _client(self.endpoint_url, self.profile, self.region)

    @property
    def direct(self) -> DirectRequests:
        return _direct(self.endpoint_url, self.profile, self.region, self.name)

    def reachable_with(self, other: Bucket) -> bool:
        """One client can read `other` and write here: S3 can copy server-side, no bytes through this machine."""
        return (self.endpoint_url, self.profile, self.region) == (other.endpoint_url, other.profile, other.region)

    def check_access(self, role: str) -> None:
        try:
            self.client.head_bucket(Bucket=self.name)
            self.client.list_objects_v2(Bucket=self.name, MaxKeys=1)
        except botocore.exceptions.ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("404", "NoSuchBucket"):
                raise MigrationError(f"{role} bucket {self.name} does not exist") from None
            if code in ("403", "AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                raise MigrationError(f"no permission on {role} bucket {self.name} ({code})") from None
            raise MigrationError(f"{role} bucket {self.name}: {code} {error}") from None
        except botocore.exceptions.EndpointConnectionError:
            raise MigrationError(f"cannot reach S3 endpoint {self.endpoint_url or 'AWS'} for {role} bucket {self.name}") from None

    def is_empty(self) -> bool:
        """No object, version or delete marker at all (one request)."""
        listed = self.client.list_object_versions(Bucket=self.name, MaxKeys=1)
        return not (listed.get("Versions") or listed.get("DeleteMarkers"))

    def listing(self, versions: bool) -> list[ObjectVersion]:
        """Every object (latest only), or every version and delete marker oldest first per key."""
        if not versions:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
            return [ObjectVersion(o["Key"], None, o["Size"], checksum_algorithms=tuple(o.get("ChecksumAlgorithm", ())))
                    for page in pages for o in page.get("Contents", [])]
        found: list[tuple[tuple[Any, ...], ObjectVersion]] = []
        for page in self.client.get_paginator("list_object_versions").paginate(Bucket=self.name):
            position = {entry: len(found) + n for n, entry in enumerate(page.get(LISTING_ORDER, []))}
            for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                marker = "Size" not in item
                version = ObjectVersion(item["Key"], item["VersionId"], item.get("Size", 0), marker,
                                        tuple(item.get("ChecksumAlgorithm", ())))
                found.append(((item["Key"], item["LastModified"], item["IsLatest"], -position[(item["Key"], item["VersionId"])]), version))
        # Replayed oldest first per key so the target's history has the same order. LastModified has one-second
        # resolution; within a second, S3's own listing order (newest first) decides.
        return [version for _, version in sorted(found, key=lambda f: f[0])]


@cache
def _client(endpoint_url: str | None, profile: str | None, region: str | None) -> Any:
    """One client (and one connection pool) per endpoint, profile and region, shared by the worker threads.

    Timestamps are kept as S3's text (ISO 8601 in listings, which sorts in time order): parsing each into a
    datetime costs more than the request that listed it, and nothing here computes with them."""
    session = boto3.session.Session(profile_name=profile, region_name=region)
    session._session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=str)
    config = botocore.config.Config(max_pool_connections=64, retries={"max_attempts": 8, "mode": "adaptive"})
    client = session.client("s3", endpoint_url=endpoint_url, config=config)
    client.meta.events.register("before-parse.s3.ListObjectVersions", _listing_order)
    return client


@cache
def _direct(endpoint_url: str | None, profile: str | None, region: str | None, bucket: str) -> DirectRequests:
    return DirectRequests(_client(endpoint_url, profile, region), bucket)


LISTING_ORDER = "ListingOrder"  # added to each ListObjectVersions page: (key, version id) in the response's order


def _listing_order(response_dict: dict, customized_response_dict: dict, **_: Any) -> None:
    """S3 lists a key's versions and delete markers interleaved, newest first; botocore's parse splits them into
    two lists and loses that order, so it is read from the XML before parsing."""
    if response_dict.get("status_code") != 200 or not response_dict.get("body"):
        return
    customized_response_dict[LISTING_ORDER] = [
        (element.findtext("{*}Key"), element.findtext("{*}VersionId"))
        for element in ElementTree.fromstring(response_dict["body"])
        if element.tag.rpartition("}")[2] in ("Version", "DeleteMarker")
    ]
