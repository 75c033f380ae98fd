"""Seed the social map (*sociale kaart*) from DOMAIN.md and the annual reports
in shared/seeds: the online tools the CLB sector recommends, with the CLB
domains and age ranges of the 2023–24 overview, and the helplines a visitor
can turn to (Zelfmoordlijn 1813, Awel 102, Tele-Onthaal 106, Nu praat ik
erover). Coordinators edit the list afterwards; existing names are kept."""

from django.db import migrations
from django.utils import timezone

# (name, url, kind, phone, domains, theme, audience, age_min, age_max,
#  offer_while_waiting, position, description)
ENTRIES = [
    (
        "Zelfmoordlijn 1813",
        "https://www.zelfmoord1813.be",
        "helpline",
        "1813",
        ["PSF"],
        "zelfmoordgedachten",
        "all",
        None,
        None,
        True,
        1,
        "Denk je aan zelfmoord, of maak je je zorgen om iemand? Bel gratis en anoniem 1813 "
        "of chat op zelfmoord1813.be, dag en nacht.",
    ),
    (
        "Awel",
        "https://www.awel.be",
        "helpline",
        "102",
        ["PSF"],
        "alles wat je bezighoudt",
        "pupil",
        None,
        None,
        True,
        2,
        "Voor kinderen en jongeren met een vraag, een probleem of een verhaal. Bel gratis en "
        "anoniem 102, of chat en mail via awel.be.",
    ),
    (
        "Tele-Onthaal",
        "https://www.tele-onthaal.be",
        "helpline",
        "106",
        ["PSF"],
        "een luisterend oor",
        "all",
        None,
        None,
        True,
        3,
        "Iemand om mee te praten, dag en nacht. Bel gratis en anoniem 106 of chat via "
        "tele-onthaal.be.",
    ),
    (
        "Nu praat ik erover",
        "https://www.nupraatikerover.be",
        "helpline",
        "",
        ["PSF"],
        "seksueel geweld",
        "all",
        None,
        None,
        True,
        4,
        "Anoniem chatten over seksueel geweld of grensoverschrijdend gedrag, wat je zelf "
        "meemaakte of wat je zag.",
    ),
    (
        "Tools van de Zelfmoordlijn",
        "https://www.zelfmoord1813.be",
        "tool",
        "",
        ["PSF"],
        "mentaal welzijn",
        "pupil",
        12,
        None,
        True,
        10,
        "Zelfhulp van de Zelfmoordlijn: oefeningen en tips om met moeilijke gedachten en "
        "gevoelens om te gaan.",
    ),
    (
        "NokNok",
        "https://www.noknok.be",
        "tool",
        "",
        ["PSF", "PGZ"],
        "mentaal welzijn",
        "pupil",
        12,
        16,
        True,
        20,
        "Tips, verhalen en oefeningen voor jongeren om zich beter in hun vel te voelen en "
        "veerkrachtiger te worden.",
    ),
    (
        "Geluksdriehoek",
        "https://www.geluksdriehoek.be",
        "tool",
        "",
        ["PSF", "PGZ"],
        "mentaal welzijn",
        "all",
        16,
        None,
        True,
        30,
        "Aan de slag met je mentale gezondheid: ontdek wat je zelf kan doen om je beter te "
        "voelen.",
    ),
    (
        "Conflicthelden",
        "https://www.conflicthelden.be",
        "tool",
        "",
        ["PSF"],
        "conflicten en pesten",
        "pupil",
        12,
        None,
        True,
        40,
        "Meer inzicht in conflicten met vrienden, klasgenoten of thuis, en hoe je ze kan "
        "aanpakken.",
    ),
    (
        "Onderwijskiezer",
        "https://www.onderwijskiezer.be",
        "tool",
        "",
        ["OLB", "L&S", "PSF"],
        "studiekeuze",
        "all",
        None,
        None,
        True,
        50,
        "Volledige en onafhankelijke informatie over studierichtingen, scholen en "
        "studiekeuze.",
    ),
    (
        "MoodSpace LifeCraft",
        "https://www.moodspace.be",
        "tool",
        "",
        ["PSF", "PGZ"],
        "mentaal welzijn",
        "pupil",
        12,
        None,
        True,
        60,
        "Online programma van MoodSpace om na te denken over wat je belangrijk vindt en je "
        "doelen.",
    ),
    (
        "MoodSpace Gezonde Levensstijl",
        "https://www.moodspace.be",
        "tool",
        "",
        ["PSF", "PGZ"],
        "gezonde levensstijl",
        "pupil",
        12,
        None,
        True,
        61,
        "Online programma van MoodSpace over slaap, beweging, voeding en ontspanning.",
    ),
    (
        "MoodSpace Stress & Angst",
        "https://www.moodspace.be",
        "tool",
        "",
        ["PSF", "L&S"],
        "stress en angst",
        "pupil",
        12,
        None,
        True,
        62,
        "Online programma van MoodSpace om beter om te gaan met stress, piekeren en angst.",
    ),
    (
        "m-Path",
        "https://m-path.io",
        "tool",
        "",
        ["PGZ", "PSF", "L&S", "OLB"],
        "begeleiding op afstand",
        "all",
        None,
        None,
        False,
        70,
        "App om tussen gesprekken door vragenlijsten en oefeningen te doen, samen met je "
        "CLB-medewerker (blended begeleiding).",
    ),
]


def seed(apps, schema_editor):
    Entry = apps.get_model("toolkit", "SocialMapEntry")
    Domain = apps.get_model("registration", "Domain")
    domains = {d.code: d for d in Domain.objects.all()}
    now = timezone.now()
    for (
        name,
        url,
        kind,
        phone,
        codes,
        theme,
        audience,
        age_min,
        age_max,
        offer,
        position,
        description,
    ) in ENTRIES:
        entry, created = Entry.objects.get_or_create(
            name=name,
            defaults={
                "url": url,
                "kind": kind,
                "phone": phone,
                "theme": theme,
                "audience": audience,
                "age_min": age_min,
                "age_max": age_max,
                "offer_while_waiting": offer,
                "position": position,
                "description": description,
                "created_at": now,
                "updated_at": now,
            },
        )
        if created:
            entry.domains.set([domains[c] for c in codes if c in domains])


class Migration(migrations.Migration):
    dependencies = [("toolkit", "0001_initial"), ("registration", "0003_seed_taxonomy")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
