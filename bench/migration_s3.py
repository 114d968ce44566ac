"""S3 copy benchmark on one moto S3 server: this tool beside `rclone copy`, side by side, then peak memory.

    python bench/migration_s3.py --objects 2000 --object-kb 16 --workers 16 --runs 3 --big-mib 64,1024

Small objects, in interleaved runs (the machine's load moves between runs, so every tool gets every slot):
- server-side: this tool (`CopyObject` with `ChecksumAlgorithm=SHA256`, one request per object) against
  rclone within one remote (server-side `CopyObject`, then a `HEAD` to check the MD5);
- streamed (bytes through this machine): this tool (GET, SHA-256, PUT carrying it) against rclone between
  two remotes on the same endpoint (GET, MD5, PUT).
Each line: objects/s (wall, process start included), and CPU per object of the copying process and of the
moto server (the two share the machine's cores, so CPU per object is what decides objects/s under load).
Then the tool's peak RSS while streaming one object of each `--big-mib` size in 16 MiB parts.
Prints JSON (one object) on stdout and a Markdown table on stderr."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import boto3

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "migration")]

from migration_servers import MotoServer, scratch_root  # noqa: E402

PART = 16 * 1024 * 1024


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(command: list[str], env: dict[str, str], server_pid: int) -> dict:
    """Run one command to completion: wall seconds, its CPU seconds and peak RSS, and the server's CPU seconds."""
    server_before, started = cpu_seconds(server_pid), time.monotonic()
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command[:4]}: {process.stderr.read().decode()[-800:] if process.stderr else ''}")
    return {"seconds": time.monotonic() - started, "cpu": usage.ru_utime + usage.ru_stime,
            "peak_rss_mib": usage.ru_maxrss // 1024, "server_cpu": cpu_seconds(server_pid) - server_before}


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--objects", type=int, default=2000)
    options.add_argument("--object-kb", type=int, default=16)
    options.add_argument("--workers", type=int, default=16)
    options.add_argument("--runs", type=int, default=3)
    options.add_argument("--big-mib", default="64,1024", help="sizes of the single objects streamed for peak memory")
    args = options.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
    server = MotoServer()
    s3 = boto3.client("s3", endpoint_url=server.endpoint)
    root = scratch_root()
    env = {key: value for key, value in os.environ.items() if key != "AWS_CA_BUNDLE"}  # rclone: plain-HTTP loopback
    for remote in ("MOTO", "MOTO2"):  # two remotes on one endpoint: rclone streams between them
        env |= {f"RCLONE_CONFIG_{remote}_{key}": value for key, value in {
            "TYPE": "s3", "PROVIDER": "Other", "ENDPOINT": server.endpoint, "ACCESS_KEY_ID": "bench",
            "SECRET_ACCESS_KEY": "bench", "REGION": "us-east-1"}.items()}
    ours = [sys.executable, "-m", "migration", "s3", "copy"]
    common = ["--source-bucket", "source", "--source-endpoint", server.endpoint, "--target-endpoint", server.endpoint,
              "--workdir", str(root), "--workers", str(args.workers)]
    rclone = ["--transfers", str(args.workers), "--checkers", str(args.workers)]
    tools = {
        "tool, server-side": lambda bucket: [*ours, bucket, "--target-bucket", bucket, *common],
        "rclone, server-side": lambda bucket: ["rclone", "copy", "moto:source", f"moto:{bucket}", *rclone],
        "tool, streamed": lambda bucket: [*ours, bucket, "--target-bucket", bucket, "--target-region", "us-east-1", *common],
        "rclone, streamed": lambda bucket: ["rclone", "copy", "moto:source", f"moto2:{bucket}", *rclone],
    }
    results: dict = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": platform.platform(),
                     "cores": os.cpu_count(), "objects": args.objects, "object_kb": args.object_kb, "workers": args.workers,
                     "load_average_start": os.getloadavg()[0], "small": {name: [] for name in tools}}
    try:
        s3.create_bucket(Bucket="source")
        payload = os.urandom(args.object_kb * 1024)
        for n in range(args.objects):
            s3.put_object(Bucket="source", Key=f"content/{n:05d}.bin", Body=payload[n % 997:] + payload[: n % 997])
        for run in range(args.runs):
            for number, (name, command) in enumerate(tools.items()):
                bucket = f"copy-{run}-{number}"
                s3.create_bucket(Bucket=bucket)
                measured = timed(command(bucket), env, server.process.pid)
                results["small"][name].append({"objects_per_s": args.objects / measured["seconds"],
                                               "client_cpu_ms": 1000 * measured["cpu"] / args.objects,
                                               "server_cpu_ms": 1000 * measured["server_cpu"] / args.objects,
                                               "load_average": os.getloadavg()[0]})
        results["verify_seconds"] = timed([sys.executable, "-m", "migration", "s3", "verify", "v", "--target-bucket", "copy-0-0",
                                           *common], env, server.process.pid)["seconds"]
        results["big"] = []
        for mib in (int(size) for size in args.big_mib.split(",") if size):
            bucket = f"big-{mib}"
            s3.create_bucket(Bucket=bucket)
            upload = s3.create_multipart_upload(Bucket=bucket, Key="video.mp4")
            block, parts = os.urandom(PART), []
            for number in range(1, mib * 1024 * 1024 // PART + 1):
                etag = s3.upload_part(Bucket=bucket, Key="video.mp4", UploadId=upload["UploadId"], PartNumber=number, Body=block)["ETag"]
                parts.append({"PartNumber": number, "ETag": etag})
            s3.complete_multipart_upload(Bucket=bucket, Key="video.mp4", UploadId=upload["UploadId"], MultipartUpload={"Parts": parts})
            s3.create_bucket(Bucket=f"{bucket}-copy")
            measured = timed([*ours, bucket, "--source-bucket", bucket, "--target-bucket", f"{bucket}-copy", "--source-endpoint",
                              server.endpoint, "--target-endpoint", server.endpoint, "--target-region", "us-east-1",
                              "--workdir", str(root), "--workers", "4", "--part-size-mb", str(PART // 2**20)], env, server.process.pid)
            results["big"].append({"mib": mib, "seconds": round(measured["seconds"], 1), "peak_rss_mib": measured["peak_rss_mib"]})
        results["load_average_end"] = os.getloadavg()[0]
    finally:
        server.stop()
    print(json.dumps(results))
    print(table(results), file=sys.stderr)


def table(results: dict) -> str:
    median = lambda runs, field: statistics.median(run[field] for run in runs)  # noqa: E731
    small = results["small"]
    lines = ["| copy | objects/s (median of runs) | each run | client CPU ms/object | moto CPU ms/object |", "|---|---:|---|---:|---:|"]
    for name, runs in small.items():
        each = ", ".join(f"{run['objects_per_s']:.0f}" for run in runs)
        lines.append(f"| {name} | {median(runs, 'objects_per_s'):.0f} | {each} "
                     f"| {median(runs, 'client_cpu_ms'):.2f} | {median(runs, 'server_cpu_ms'):.2f} |")
    for mode in ("server-side", "streamed"):
        ratios = [ours["objects_per_s"] / peer["objects_per_s"] for ours, peer in zip(small[f"tool, {mode}"], small[f"rclone, {mode}"], strict=True)]
        lines.append(f"\n{mode}: tool / rclone objects/s per run {', '.join(f'{ratio:.2f}' for ratio in ratios)}; "
                     f"median {statistics.median(ratios):.2f}")
    if results["big"]:
        lines.append("\n| object | seconds | peak RSS of the copying process (MiB) |\n|---:|---:|---:|")
        lines += [f"| {big['mib']} MiB | {big['seconds']} | {big['peak_rss_mib']} |" for big in results["big"]]
    loads = ", ".join(f"{run['load_average']:.1f}" for runs in small.values() for run in runs)
    lines.append(f"\nload average (1 min): {results['load_average_start']:.1f} at the start, {results['load_average_end']:.1f} "
                 f"at the end, after each run: {loads}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
