"""S3 copy benchmark against one moto S3 server: this tool (streamed and server-side) beside `rclone copy`,
then peak memory (max RSS) of the tool while copying one 2 GB object.

    python bench/migration_s3.py --objects 400 --object-kb 256 --big-gb 2
Prints one JSON object."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import boto3

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "migration")]

from migration_servers import MotoServer, scratch_root  # noqa: E402

PART = 16 * 1024 * 1024


def migrate(*args: str) -> tuple[float, int]:
    """Run `python -m migration …`; returns (seconds, peak RSS in MiB) of that process alone."""
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "migration", *args], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(process.stderr.read().decode())
    return time.monotonic() - started, usage.ru_maxrss // 1024


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--objects", type=int, default=400)
    options.add_argument("--object-kb", type=int, default=256)
    options.add_argument("--big-gb", type=float, default=2)
    args = options.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
    server = MotoServer()
    s3 = boto3.client("s3", endpoint_url=server.endpoint)
    root = scratch_root()
    results: dict = {"objects": args.objects, "object_kb": args.object_kb}
    try:
        for bucket in ("source", "tool-streamed", "tool-server-side", "rclone", "big", "big-copy"):
            s3.create_bucket(Bucket=bucket)
        payload = os.urandom(args.object_kb * 1024)
        for n in range(args.objects):
            s3.put_object(Bucket="source", Key=f"content/{n:05d}.bin", Body=payload[n % 997:] + payload[: n % 997])
        megabytes = args.objects * args.object_kb / 1024
        common = ["--source-bucket", "source", "--source-endpoint", server.endpoint, "--target-endpoint", server.endpoint,
                  "--workdir", str(root), "--workers", "8"]
        for mode, extra in (("streamed", ["--target-region", "us-east-1"]), ("server-side", [])):
            seconds, _ = migrate("s3", "copy", mode, "--target-bucket", f"tool-{mode}", *common, *extra)
            results[f"tool_{mode}"] = {"seconds": round(seconds, 1), "objects_per_s": round(args.objects / seconds, 1),
                                       "mb_per_s": round(megabytes / seconds, 1)}
        seconds, _ = migrate("s3", "verify", "streamed", "--target-bucket", "tool-streamed", *common)
        results["tool_verify_seconds"] = round(seconds, 1)

        # AWS_CA_BUNDLE (if the shell sets one) makes rclone refuse its plain-HTTP transport; the endpoint is loopback HTTP.
        rclone_env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"} | {f"RCLONE_CONFIG_MOTO_{k}": v for k, v in {
            "TYPE": "s3", "PROVIDER": "Other", "ENDPOINT": server.endpoint, "ACCESS_KEY_ID": "bench",
            "SECRET_ACCESS_KEY": "bench", "REGION": "us-east-1"}.items()}
        started = time.monotonic()
        copied = subprocess.run(["rclone", "copy", "moto:source", "moto:rclone", "--transfers", "8", "--checkers", "8"], env=rclone_env,
                                capture_output=True, text=True)
        if copied.returncode != 0:
            raise RuntimeError(f"rclone: {copied.stderr[-500:]}")
        seconds = time.monotonic() - started
        results["rclone"] = {"seconds": round(seconds, 1), "objects_per_s": round(args.objects / seconds, 1),
                             "mb_per_s": round(megabytes / seconds, 1)}

        size = int(args.big_gb * 1024**3)
        upload = s3.create_multipart_upload(Bucket="big", Key="video.mp4")
        block, parts = os.urandom(PART), []
        for number in range(1, size // PART + 1):
            etag = s3.upload_part(Bucket="big", Key="video.mp4", UploadId=upload["UploadId"], PartNumber=number, Body=block)["ETag"]
            parts.append({"PartNumber": number, "ETag": etag})
        s3.complete_multipart_upload(Bucket="big", Key="video.mp4", UploadId=upload["UploadId"], MultipartUpload={"Parts": parts})
        seconds, peak = migrate("s3", "copy", "big", "--source-bucket", "big", "--target-bucket", "big-copy", "--source-endpoint",
                                server.endpoint, "--target-endpoint", server.endpoint, "--target-region", "us-east-1",
                                "--workdir", str(root), "--workers", "4", "--part-size-mb", "16")
        results["big_object"] = {"bytes": size, "seconds": round(seconds, 1), "peak_rss_mib": peak, "part_size_mib": 16}
    finally:
        server.stop()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
