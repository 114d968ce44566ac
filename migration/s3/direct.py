"""Signed S3 requests for the copy's one-request-per-object path, without botocore's per-call machinery.

A botocore call spends about 1.6 ms of CPU on this machine (endpoint rules, events, validation, parsing);
signing a request and sending it through the same client's HTTP session (its pool, TLS settings, proxies)
spends about 0.8 ms. On small objects that CPU is the copy's cost (bench/RESULTS.md). Only a clean success
is read here; anything else (an error status, an error body in a 200 — CopyObject may answer so —, an
exception) returns None and the caller repeats the request through botocore, which retries and reports
errors as usual."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit
from xml.etree import ElementTree

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest


@dataclass(frozen=True)
class Reply:
    headers: dict[str, str]  # lower-case names
    body: bytes


class DirectRequests:
    def __init__(self, client: Any, bucket: str):
        self._client = client
        # The bucket's URL as botocore resolves it (virtual-hosted on AWS, path-style on a custom endpoint).
        presigned = urlsplit(client.generate_presigned_url("head_object", Params={"Bucket": bucket, "Key": "k"}))
        self._base = f"{presigned.scheme}://{presigned.netloc}{presigned.path[:-1]}"
        self._credentials = client._request_signer._credentials  # botocore's refreshing credentials
        self._region = client.meta.region_name
        self._disabled = threading.Event()  # set after a transport failure: botocore alone from then on

    def send(self, method: str, key: str, headers: dict[str, str], body: bytes = b"", query: str = "") -> Reply | None:
        if self._disabled.is_set():
            return None
        url = self._base + quote(key, safe="/~") + (f"?{query}" if query else "")
        request = AWSRequest(method=method, url=url, headers=headers, data=body)
        S3SigV4Auth(self._credentials.get_frozen_credentials(), "s3", self._region).add_auth(request)
        try:
            response = self._client._endpoint.http_session.send(request.prepare())
        except Exception:
            self._disabled.set()
            return None
        if response.status_code != 200:
            return None
        return Reply({name.lower(): value for name, value in response.headers.items()}, response.content)


def copy_source(bucket: str, key: str, version_id: str | None) -> str:
    return quote(f"/{bucket}/{key}", safe="/~") + (f"?versionId={quote(version_id, safe='')}" if version_id else "")


def element_text(body: bytes, root: str, child: str) -> tuple[bool, str | None]:
    """(the body is a `root` element, the text of its `child`): an error body is not a success."""
    try:
        document = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return False, None
    return document.tag.rpartition("}")[2] == root, document.findtext(f"{{*}}{child}")
