"""The elimination through a real Celery worker on Redis (see tests/test_celery_worker.py):
launching it in this process only queues the task; the worker deletes the files of the
visa'd bordereau's dossiers from the shared private storage, anonymises, and closes the
bordereau with its trace. What does not depend on the worker's own clock is checked."""

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from candidatures.models import Document, Organisation
from conventions.models import Convention
from evaluation.models import Decision
from retention import services
from retention.models import Bordereau
from retention.queries import dossier_files
from retention.states import BordereauStatus
from tests import test_celery_worker as celery_worker
from tests.retention.conftest import at_noon, years_after

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

# Fixtures bound here, not imported (an argument named like an import trips ruff's F811).
mailbox = celery_worker.mailbox
broker = celery_worker.broker
worker = celery_worker.worker


def test_the_worker_eliminates_a_visad_bordereau(world, admin_user, private_root, worker):
    ids = [world[key].pk for key in ("alpha", "beta", "gamma", "delta", "draft")]
    files = {name for stored in dossier_files(ids).values() for name, _size in stored}
    assert files and all(default_storage.exists(name) for name in files)
    decisions = dict(Decision.objects.values_list("candidature_id", "outcome"))
    amount = world["convention"].amount
    worker.env["PRIVATE_MEDIA_ROOT"] = str(private_root)  # the same private storage
    worker.start()
    with at_noon(years_after(10)):
        bordereau = services.prepare_draft(on=timezone.localdate())
        services.send_to_archives(bordereau, by=admin_user)
        services.record_visa(
            bordereau,
            by=admin_user,
            visa_date=timezone.localdate(),
            reference="AD38-2036-7",
            signatory_name="Hélène Archiviste",
            signatory_title="Directrice des archives départementales",
        )
        services.launch_elimination(bordereau, by=admin_user)  # queued after commit

    def done():
        return Bordereau.objects.get(pk=bordereau.pk).status == BordereauStatus.DONE

    assert celery_worker.wait_until(done, seconds=120), worker.log.read_text()[-3000:]
    assert not any(default_storage.exists(name) for name in files)
    assert not Document.objects.exists()
    assert set(Organisation.objects.values_list("legal_representative_name", flat=True)) == {
        "[éliminé]"
    }
    assert dict(Decision.objects.values_list("candidature_id", "outcome")) == decisions
    assert Convention.objects.get(pk=world["convention"].pk).amount == amount
    bordereau.refresh_from_db()
    assert bordereau.trace["not_selected"]["eliminated"] == 4
    assert bordereau.trace["selected"]["files"] > 0
    assert "retention.eliminate_bordereau" in worker.log.read_text()
    assert "Traceback" not in worker.log.read_text()
