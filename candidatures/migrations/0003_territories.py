from django.db import migrations

# The EPCIs of the Isère (2024), as reference data administrators can edit.
EPCIS = [
    "Grenoble-Alpes Métropole",
    "Communauté d'agglomération du Pays Voironnais",
    "Communauté d'agglomération Porte de l'Isère (CAPI)",
    "Vienne Condrieu Agglomération",
    "Communauté de communes Le Grésivaudan",
    "Communauté de communes Bièvre Isère",
    "Communauté de communes de Bièvre Est",
    "Communauté de communes Les Balcons du Dauphiné",
    "Communauté de communes Les Vals du Dauphiné",
    "Communauté de communes Collines Isère Nord Communauté",
    "Communauté de communes Entre Bièvre et Rhône",
    "Communauté de communes Lyon Saint-Exupéry en Dauphiné",
    "Saint-Marcellin Vercors Isère Communauté",
    "Communauté de communes du Massif du Vercors",
    "Communauté de communes Cœur de Chartreuse",
    "Communauté de communes de la Matheysine",
    "Communauté de communes du Trièves",
    "Communauté de communes de l'Oisans",
]


def create(apps, schema_editor):
    Territory = apps.get_model("candidatures", "Territory")
    for name in EPCIS:
        Territory.objects.get_or_create(name=name)


def remove(apps, schema_editor):
    apps.get_model("candidatures", "Territory").objects.filter(name__in=EPCIS).delete()


class Migration(migrations.Migration):
    dependencies = [("candidatures", "0002_initial")]

    operations = [migrations.RunPython(create, remove)]
