import hashlib

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def hash_existing_records(apps, schema_editor):
    """Records frozen before their hash was kept get the SHA-256 of their stored file,
    when it is still there."""
    CommitteeRecord = apps.get_model("evaluation", "CommitteeRecord")
    for record in CommitteeRecord.objects.filter(sha256=""):
        try:
            with record.pdf.open("rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
        except (OSError, ValueError):
            continue
        CommitteeRecord.objects.filter(pk=record.pk).update(sha256=digest)


class Migration(migrations.Migration):

    dependencies = [
        ("aap", "0005_reminder_settings_as_rows"),
        ("candidatures", "0005_status_not_editable"),
        ("evaluation", "0003_status_not_editable"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="QuorumRule",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("min_members", models.PositiveSmallIntegerField(default=3, validators=[django.core.validators.MinValueValidator(1)], verbose_name="membres présents au minimum")),
                ("ddets_required", models.BooleanField(default=True, verbose_name="présence de la DDETS requise")),
                ("interested_excluded", models.BooleanField(default=True, verbose_name="un membre lié à un dossier ne compte pas dans le quorum de ce dossier")),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("call", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="quorum_rule", to="aap.call")),
                ("updated_by", models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "verbose_name": "règle de quorum",
                "verbose_name_plural": "règles de quorum",
                "constraints": [models.CheckConstraint(condition=models.Q(("min_members__gte", 1)), name="quorum_at_least_1")],
            },
        ),
        migrations.CreateModel(
            name="CommitteeMeeting",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("starts_at", models.DateTimeField(verbose_name="date et heure de la séance")),
                ("place", models.CharField(max_length=250, verbose_name="lieu")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("call", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="meetings", to="aap.call")),
                ("created_by", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "verbose_name": "séance du comité de sélection",
                "verbose_name_plural": "séances du comité de sélection",
                "ordering": ["call_id", "starts_at", "pk"],
            },
        ),
        migrations.CreateModel(
            name="CommitteeMember",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200, verbose_name="nom et prénom")),
                ("organisation", models.CharField(max_length=200, verbose_name="organisme")),
                ("role", models.CharField(max_length=200, verbose_name="fonction")),
                ("seat", models.CharField(choices=[("chair", "Président(e) de séance"), ("secretary", "Secrétaire de séance"), ("member", "Membre")], default="member", max_length=20, verbose_name="rôle dans la séance")),
                ("is_ddets", models.BooleanField(default=False, verbose_name="représente la DDETS")),
                ("interests", models.CharField(choices=[("none", "Aucun lien d'intérêts"), ("declared", "Lien d'intérêts déclaré")], max_length=20, verbose_name="déclaration d'intérêts")),
                ("interest_nature", models.TextField(blank=True, verbose_name="nature du lien")),
                ("interest_dossiers", models.ManyToManyField(blank=True, related_name="+", to="candidatures.candidature", verbose_name="dossiers concernés")),
                ("meeting", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="members", to="evaluation.committeemeeting")),
                ("user", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="compte sur la plateforme")),
            ],
            options={
                "verbose_name": "membre présent",
                "verbose_name_plural": "membres présents",
                "ordering": ["meeting_id", "pk"],
                "constraints": [
                    models.UniqueConstraint(condition=models.Q(("seat", "member"), _negated=True), fields=("meeting", "seat"), name="one_chair_and_one_secretary_per_meeting"),
                    models.CheckConstraint(condition=models.Q(models.Q(("interests", "none"), ("interest_nature", "")), models.Q(("interests", "declared"), models.Q(("interest_nature", ""), _negated=True)), _connector="OR"), name="declared_interests_have_a_nature"),
                ],
            },
        ),
        migrations.AddField(
            model_name="committeerecord",
            name="meeting",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="records", to="evaluation.committeemeeting", verbose_name="séance"),
        ),
        migrations.AddField(
            model_name="committeerecord",
            name="sha256",
            field=models.CharField(blank=True, editable=False, max_length=64, validators=[django.core.validators.RegexValidator("^[0-9a-f]{64}$")], verbose_name="empreinte SHA-256 du PDF"),
        ),
        migrations.RunPython(hash_existing_records, migrations.RunPython.noop),
    ]
