"""IAM policy JSON built in Python, so tests can read every statement back."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

Statement = Mapping[str, Any]


def policy_document(statements: Iterable[Statement]) -> str:
    """A policy document as a JSON string (sorted keys: deterministic output)."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def service_trust(*services: str, conditions: Mapping[str, Any] | None = None) -> str:
    """A trust policy letting only the named AWS services assume the role."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": sorted(services) if len(services) > 1 else services[0]},
        "Action": "sts:AssumeRole",
    }
    if conditions:
        statement["Condition"] = dict(conditions)
    return policy_document([statement])


def deny_insecure_transport(*resources: str) -> Statement:
    """The statement that makes a bucket (or topic, queue) TLS-only."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": list(resources),
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def allow_s3_server_access_logs(bucket_name: str, account_id: str) -> Statement:
    """The statement that lets S3 server access logging of this account write into a log bucket."""
    return {
        "Sid": "S3ServerAccessLogs",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{bucket_name}/*",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
    }
