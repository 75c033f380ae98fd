"""Seed the topic taxonomy and the results of DOMAIN.md (CLBch@t's registration)."""

from django.db import migrations

DOMAINS = [
    ("OLB", "onderwijsloopbaanbegeleiding", ["studiekeuze / schoolloopbaan"]),
    (
        "PSF",
        "psychisch en sociaal functioneren",
        [
            "interactie gezin / gezinsconflicten",
            "relatievaardigheid",
            "zelfmoordgedachten",
            "pesten / cyberpesten",
            "verliefdheid",
            "zelfverwonding",
            "depressie",
            "interactie leerkracht",
            "regelovertredend gedrag",
            "verslaving",
        ],
    ),
    (
        "L&S",
        "leren en studeren",
        ["leer- en studiemethode", "leermoeilijkheden", "motivatie", "concentratieproblemen"],
    ),
    ("PGZ", "preventieve gezondheidszorg", ["seksualiteit", "vaccinatie", "medisch onderzoek"]),
]

RESULTS = [
    ("info_advice", "info en advies"),
    ("support", "(emotionele) ondersteuning"),
    ("referral_clb", "doorverwezen naar CLB"),
    ("referral_school", "doorverwezen naar leerlingenbegeleiding/school"),
    ("referral_network", "doorverwezen naar het netwerk"),
    ("referral_onderwijskiezer", "doorverwezen naar Onderwijskiezer"),
    ("crisis", "crisissituatie"),
    ("broke_off", "sessie (plots) afgebroken"),
]


def seed(apps, schema_editor):
    Domain = apps.get_model("registration", "Domain")
    Topic = apps.get_model("registration", "Topic")
    Result = apps.get_model("registration", "Result")
    for position, (code, name, topics) in enumerate(DOMAINS):
        domain, _ = Domain.objects.get_or_create(
            code=code, defaults={"name": name, "position": position}
        )
        for topic_position, topic in enumerate(topics):
            Topic.objects.get_or_create(
                domain=domain, name=topic, defaults={"position": topic_position}
            )
    for position, (code, name) in enumerate(RESULTS):
        Result.objects.get_or_create(code=code, defaults={"name": name, "position": position})


class Migration(migrations.Migration):
    dependencies = [("registration", "0002_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
