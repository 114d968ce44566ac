"""A function's code as a zip built at synth time, byte-identical on every synth.

Entries are sorted and carry a fixed timestamp and mode, so the archive (and
with it `source_code_hash` and the asset path) changes only when the code does.
Caches and package markers are left out: the directory's files sit at the zip root.
"""

from __future__ import annotations

import base64
import hashlib
import io
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from cdktf import AssetType, TerraformAsset
from constructs import Construct

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
_SKIPPED = ("__pycache__", "__init__.py")


def build_zip(source: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            relative = path.relative_to(source)
            if any(part in _SKIPPED for part in relative.parts) or path.suffix == ".pyc":
                continue
            entry = zipfile.ZipInfo(relative.as_posix(), date_time=_FIXED_TIME)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, path.read_bytes())
    return buffer.getvalue()


@dataclass(frozen=True)
class LambdaPackage:
    """`filename` (the zip, relative to the stack's directory) and `source_code_hash` for aws_lambda_function."""

    filename: str
    source_code_hash: str


def lambda_package(scope: Construct, id: str, source: Path) -> LambdaPackage:
    content = build_zip(source)
    digest = hashlib.sha256(content).digest()
    # cdktf copies the file into cdktf.out at synth; until then it waits in a content-addressed temporary path.
    staging = Path(tempfile.gettempdir()) / "directfanz-lambda-packages" / digest.hex() / f"{source.name}.zip"
    staging.parent.mkdir(parents=True, exist_ok=True)
    staging.write_bytes(content)
    asset = TerraformAsset(scope, id, path=str(staging), type=AssetType.FILE)
    return LambdaPackage(filename=asset.path, source_code_hash=base64.b64encode(digest).decode())
