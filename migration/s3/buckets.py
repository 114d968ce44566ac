"""Where objects live: a bucket reached through one S3 client, with listing and one-line access errors."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import boto3
import botocore.config
import botocore.exceptions

from migration.errors import MigrationError


@dataclass(frozen=True)
class ObjectVersion:
    key: str
    version_id: str | None  # None when versions are not being copied (latest only)
    size: int
    delete_marker: bool = False


@dataclass(frozen=True)
class Bucket:
    name: str
    endpoint_url: str | None = None  # None = AWS
    profile: str | None = None
    region: str | None = None

    @cached_property
    def client(self) -> Any:  # botocore's S3 client (its type is generated at run time)
        session = boto3.session.Session(profile_name=self.profile, region_name=self.region)
        config = botocore.config.Config(max_pool_connections=32, retries={"max_attempts": 8, "mode": "adaptive"})
        return session.client("s3", endpoint_url=self.endpoint_url, config=config)

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

    def listing(self, versions: bool) -> list[ObjectVersion]:
        """Every object (latest only), or every version and delete marker oldest first per key."""
        if not versions:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
            return [ObjectVersion(o["Key"], None, o["Size"]) for page in pages for o in page.get("Contents", [])]
        found: list[tuple[tuple[Any, ...], ObjectVersion]] = []
        for page in self.client.get_paginator("list_object_versions").paginate(Bucket=self.name):
            found += [((v["Key"], v["LastModified"], v["IsLatest"], -len(found) - i), ObjectVersion(v["Key"], v["VersionId"], v["Size"]))
                      for i, v in enumerate(page.get("Versions", []))]
            found += [((m["Key"], m["LastModified"], m["IsLatest"], -len(found) - i), ObjectVersion(m["Key"], m["VersionId"], 0, True))
                      for i, m in enumerate(page.get("DeleteMarkers", []))]
        # S3 lists each key's versions newest first; replay them oldest first so the target's history has the same
        # order (within one timestamp: the latest last, then listing order)
        return [version for _, version in sorted(found, key=lambda f: f[0])]
