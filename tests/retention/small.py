"""A small world for the bordereau's own tests: a draft never submitted (with its upload)
of an organisation whose name starts like a spreadsheet formula, its member's account, and
a message with an attached CV, and an e-mail that left; all on T0, the call's deadline passing then. No PDF is rendered."""

from django.core.files.base import ContentFile

from candidatures.models import Candidature, Message
from core.mail import queue_email
from core.models import EmailStatus, OutgoingEmail
from core.roles import Role
from tests.candidatures.conftest import fill
from tests.evaluation.conftest import close
from tests.factories import OrganisationFactory, UserFactory, dossier_ready_call

ORGANISATION = "=Association Égalité des chances"


def small_world() -> dict:
    call = dossier_ready_call()
    member = UserFactory(roles=[Role.CANDIDAT], first_name="Marie", last_name="Membre")
    organisation = OrganisationFactory(name=ORGANISATION, members=[member])
    dossier = Candidature.objects.create(call=call, organisation=organisation, created_by=member)
    fill(dossier, member)
    message = Message(
        candidature=dossier,
        author=member,
        body="Voici mon CV, Marie Membre.",
        attachment_name="CV Marie Membre.pdf",
    )
    message.attachment.save("cv.pdf", ContentFile(b"%PDF-1.4 CV de Marie Membre"), save=False)
    message.save()
    close(call)
    email = queue_email(
        to=member.email,
        template="account_exists",
        context={"user": member, "login_url": "https://exemple.test/compte/connexion/"},
    )
    OutgoingEmail.objects.filter(pk=email.pk).update(
        status=EmailStatus.SENT, sent_at=email.created_at
    )
    return {"call": call, "member": member, "dossier": dossier, "email": email, "message": message}
