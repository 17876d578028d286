"""Uploads on S3-compatible object storage, as several web servers share them: the
platform's own settings (``S3_*``, config/settings.py) against a real S3 server on this
machine (moto's server mode, a separate process), through the views. The bench's
« topology » runs the same storage under a rush (README, « Beyond one machine »)."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.candidatures.conftest import PDF, fill
from tests.s3 import moto_server, s3_client

BASE_DIR = Path(__file__).resolve().parent.parent.parent
BUCKET = "aap-isere-pieces-test"
KEYS = {"S3_ACCESS_KEY": "moto-test", "S3_SECRET_KEY": "moto-test-secret", "S3_REGION": "eu-west-3"}


def production_storage(url: str) -> dict:
    """STORAGES["default"] as config/settings.py builds it from the S3_* variables."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "true",
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": url,
        **KEYS,
    }
    code = "import django, json; django.setup(); from django.conf import settings; "
    code += "print(json.dumps(settings.STORAGES['default']))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def s3_url():
    with moto_server(KEYS, BUCKET) as url:
        yield url


@pytest.fixture
def bucket(settings, s3_url, private_root):
    """The platform's storage is the bucket for this test; the local private folder
    (``private_root``) must stay empty."""
    storage = production_storage(s3_url)
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    settings.STORAGES = {**settings.STORAGES, "default": storage}
    return s3_client(s3_url, KEYS)


def stored_object(client, key: str) -> bytes:
    return client.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def test_an_upload_is_stored_in_the_bucket_read_back_and_downloaded_through_the_app(
    bucket, private_root, client, candidate, dossier, django_capture_on_commit_callbacks
):
    client.force_login(candidate)
    piece = dossier.call.required_documents.get(mandatory=True)

    response = client.post(
        reverse("candidatures:upload", args=[dossier.pk, piece.pk]),
        {"file": SimpleUploadedFile("Dossier de demande.pdf", PDF)},
    )

    assert response.status_code == 302
    document = dossier.documents.get()
    assert document.sha256 == hashlib.sha256(PDF).hexdigest()
    # In the bucket, byte for byte, under the name the row points to; nothing on local disk.
    assert hashlib.sha256(stored_object(bucket, document.file.name)).hexdigest() == document.sha256
    assert not [path for path in private_root.rglob("*") if path.is_file()]
    # The bucket is private: its objects carry no public grant.
    grants = bucket.get_object_acl(Bucket=BUCKET, Key=document.file.name)["Grants"]
    assert not [grant for grant in grants if "URI" in grant["Grantee"]]

    download = client.get(reverse("candidatures:download", args=[dossier.pk, document.pk]))

    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment;")

    # Submitted: the receipt's PDF is rendered for its e-mail and kept in the bucket, then
    # the download serves that very object.
    fill(dossier, candidate, with_file=False)
    with django_capture_on_commit_callbacks(execute=True):
        submitted = client.post(
            reverse("candidatures:submit", args=[dossier.pk]), {"certified": "on"}
        )
    assert submitted.status_code == 200
    receipt = dossier.receipts.get()
    assert receipt.pdf.name.startswith("accuses/")
    kept = stored_object(bucket, receipt.pdf.name)
    assert kept.startswith(b"%PDF")
    pdf = client.get(reverse("candidatures:receipt", args=[dossier.pk, receipt.pk]))
    assert pdf.status_code == 200
    assert pdf.content == kept
    assert not [path for path in private_root.rglob("*") if path.is_file()]
