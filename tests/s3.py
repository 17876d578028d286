"""A real S3-compatible server on this machine for the tests and the bench: moto's server
mode in its own process (a dev dependency), with a client and a private bucket. Used by
tests/candidatures/test_object_storage.py and by the bench's « topology »."""

import contextlib
import subprocess
import sys
import time

from tests.nginx import free_port
from tests.processes import stop


def s3_client(url: str, keys: dict):
    """A boto3 client of the server at ``url`` with the ``S3_*`` keys the platform reads."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=keys["S3_ACCESS_KEY"],
        aws_secret_access_key=keys["S3_SECRET_KEY"],
        region_name=keys["S3_REGION"],
    )


@contextlib.contextmanager
def moto_server(keys: dict, bucket: str, *, port: int | None = None, log=None, timeout=20):
    """moto's S3 server on ``port`` (a free one by default), its output to ``log`` (an
    open file, or nowhere); yields its URL once it answers, ``bucket`` created."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    output = log if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=output,
        stderr=output,
    )
    try:
        client = s3_client(url, keys)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.list_buckets()
                break
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto's server did not start") from None
                time.sleep(0.1)
        client.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": keys["S3_REGION"]}
        )
        yield url
    finally:
        stop(process)
