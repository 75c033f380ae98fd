"""The published figures the demo year is calibrated to, and the guesses around them.

Sources: the CLBch@t annual reports 2023–24 and 2024–25 (digested in
DOMAIN.md). Where a report gives no figure, the value is a plausible guess
and says so. ``docs/import.md`` lists the same choices for readers.

Counts are for one school year at ``--scale 1``. Shares are fractions.
"""

from __future__ import annotations

# --- volume ---------------------------------------------------------------------

HELD_CHATS = 7_626  # 2024–25: chats held (accepted by an operator)
# Guess: the report counts missed chats but does not publish the number.
MISSED_SHARE = 0.07  # of all conversations, i.e. held + missed
CLOSED_SHARE_OF_MISSED = 0.10  # still queued at closing time (end reason "closed")

AUDIENCE_SHARES = {"pupil": 0.809, "parent": 0.191}  # 6,169 / 1,457

# Guess: a relative intensity per month and per hour (more chats in autumn and
# winter, fewer in June and summer; evenings busier than afternoons). The
# calendar then decides which days and hours are open at all.
MONTH_WEIGHTS = {
    9: 0.95,
    10: 1.10,
    11: 1.15,
    12: 1.05,
    1: 1.10,
    2: 1.10,
    3: 1.05,
    4: 0.90,
    5: 1.00,
    6: 0.85,
    7: 0.55,
    8: 0.60,
}
WEEKDAY_WEIGHTS = {0: 1.05, 1: 1.0, 2: 1.0, 3: 0.9, 4: 0.8, 5: 0.6, 6: 0.8}
HOUR_WEIGHTS = {
    **dict.fromkeys(range(0, 14), 0.3),
    14: 0.45,
    15: 0.55,
    16: 0.65,
    17: 0.95,
    18: 1.05,
    19: 1.15,
    20: 0.9,
    **dict.fromkeys(range(21, 24), 0.5),
}

# --- waits and durations (seconds) ------------------------------------------------

MEAN_WAIT_SECONDS = 4 * 60  # 2024–25: mean wait 4 min
WAIT_GAMMA_SHAPE = 1.2  # guess: mostly short waits, a long tail
MAX_WAIT_SECONDS = 45 * 60
MEAN_MISSED_WAIT_SECONDS = 6 * 60  # guess: how long a visitor waits before leaving
# Chat length: log-normal with mean 20 min and 8 % longer than 50 min
# (2024–25: mean 20 min; 2016: 8 % > 50 min): mu = ln 20 - sigma²/2 and
# P(X > 50) = 0.08 give sigma ≈ 1.03.
DURATION_SIGMA = 1.029
MEAN_DURATION_MINUTES = 20.0
MIN_DURATION_SECONDS = 60
MAX_DURATION_SECONDS = 150 * 60

# --- intake ---------------------------------------------------------------------

# 2024–25 pupils' self-reported gender and mean age (14.60). Parents: the
# report gives neither, so demo parents leave age and gender empty.
PUPIL_GENDER_SHARES = {"girl": 0.7726, "boy": 0.2068, "x": 0.0206}
# Guess, shaped to the published mean of 14.60 (this table's mean is 14.60).
PUPIL_AGE_WEIGHTS = {
    10: 2,
    11: 4,
    12: 11,
    13: 14,
    14: 18,
    15: 18,
    16: 15,
    17: 9,
    18: 5,
    19: 3,
    20: 1,
}
PUPIL_INTAKE_SKIPPED_SHARE = 0.02  # guess: pupils who leave age and gender empty

# 2024–25 mentions per source (the first six are published; the rest is a
# guess for social media, poster, flyer and "other"). Sources are assigned
# to exactly this many held chats at scale 1; the other held chats (about
# 10 %) leave the question unanswered. The published counts rule out a larger
# unanswered share: six sources alone account for 6,093 of 7,626 chats.
REFERRAL_COUNTS = {
    "smartschool": 1_932,
    "earlier_visit": 1_606,
    "internet": 1_083,
    "clb_website": 544,
    "awel": 516,
    "school_website": 412,
    "social_media": 250,
    "poster": 50,
    "flyer": 40,
    "other": 400,
}
# Guess: who tends to use which source (relative odds parent : pupil).
# Awel is a youth helpline; parents find the CLB website more often.
REFERRAL_PARENT_ODDS = {
    "smartschool": 1.0,
    "earlier_visit": 0.6,
    "internet": 1.3,
    "clb_website": 4.0,
    "awel": 0.05,
    "school_website": 2.0,
    "social_media": 0.8,
    "poster": 0.5,
    "flyer": 1.0,
    "other": 1.0,
}

# 43 % from a phone or tablet overall; guess: pupils 46.1 %, parents 30 %.
MOBILE_SHARES = {"pupil": 0.4607, "parent": 0.30}

# --- registration -----------------------------------------------------------------

# Prank share 5.30 % overall; guess: nearly all pranks come from "pupils".
PRANK_SHARES = {"pupil": 0.06197, "parent": 0.015}

# Results per audience: the 2023–24 shares (pupils / parents), except "broke
# off", which is 2024–25's. Crisis is not published: a guess, tied to chats
# about suicidal thoughts or self-harm.
RESULT_SHARES = {
    "pupil": {
        "info_advice": 0.4279,
        "support": 0.3411,
        "referral_clb": 0.1508,
        "referral_school": 0.1141,
        "referral_network": 0.0945,
        "referral_onderwijskiezer": 0.0311,
        "crisis": 0.015,
        "broke_off": 0.1739,
    },
    "parent": {
        "info_advice": 0.4335,
        "support": 0.1418,
        "referral_clb": 0.4829,
        "referral_school": 0.1505,
        "referral_network": 0.0495,
        "referral_onderwijskiezer": 0.0633,
        "crisis": 0.003,
        "broke_off": 0.0975,
    },
}
# Odds that a broken-off chat still got another result than "broke off".
BROKE_OFF_OTHER_RESULT_ODDS = 0.3

# Topic mentions per audience in a year: the 2023–24 top ten scaled to
# 2024–25's volume (pupils × 0.89, parents × 1.04), suicidal thoughts as
# published for 2024–25 (355), bullying lower than the year before (the
# report notes a clear fall); the topics outside the top ten are guesses
# below the tenth.
TOPIC_COUNTS = {
    "pupil": {
        ("OLB", "studiekeuze / schoolloopbaan"): 868,
        ("PSF", "interactie gezin / gezinsconflicten"): 634,
        ("PSF", "relatievaardigheid"): 347,
        ("PGZ", "seksualiteit"): 343,
        ("PSF", "zelfmoordgedachten"): 355,
        ("PSF", "pesten / cyberpesten"): 300,
        ("PSF", "verliefdheid"): 326,
        ("PSF", "zelfverwonding"): 288,
        ("PSF", "depressie"): 235,
        ("L&S", "leer- en studiemethode"): 231,
        ("L&S", "motivatie"): 200,
        ("PSF", "interactie leerkracht"): 170,
        ("L&S", "concentratieproblemen"): 150,
        ("L&S", "leermoeilijkheden"): 140,
        ("PSF", "verslaving"): 110,
        ("PSF", "regelovertredend gedrag"): 90,
        ("PGZ", "medisch onderzoek"): 80,
        ("PGZ", "vaccinatie"): 30,
    },
    "parent": {
        ("OLB", "studiekeuze / schoolloopbaan"): 412,
        ("L&S", "leermoeilijkheden"): 151,
        ("PSF", "interactie gezin / gezinsconflicten"): 100,
        ("PSF", "pesten / cyberpesten"): 67,
        ("PSF", "interactie leerkracht"): 47,
        ("L&S", "leer- en studiemethode"): 44,
        ("PGZ", "vaccinatie"): 41,
        ("PGZ", "medisch onderzoek"): 38,
        ("L&S", "motivatie"): 34,
        ("PSF", "regelovertredend gedrag"): 27,
        ("L&S", "concentratieproblemen"): 24,
        ("PSF", "depressie"): 18,
        ("PSF", "verslaving"): 15,
        ("PGZ", "seksualiteit"): 12,
        ("PSF", "relatievaardigheid"): 12,
        ("PSF", "zelfverwonding"): 10,
        ("PSF", "zelfmoordgedachten"): 6,
        ("PSF", "verliefdheid"): 4,
    },
}
# The reports follow these topics year by year; a chat that needs one more
# topic (see synthetic.py) never gets one of them, so their counts stay exact.
TRACKED_TOPICS = frozenset(
    {("PSF", "zelfmoordgedachten"), ("PSF", "zelfverwonding"), ("PSF", "pesten / cyberpesten")}
)

# --- ratings --------------------------------------------------------------------

# About half give no rating, mostly because the chat broke off.
RATED_SHARE = 0.50
BROKE_OFF_RATING_ODDS = 0.1
# Star shares (1 … 5) giving the published means: pupils 4.24, parents 4.62.
RATING_SHARES = {
    "pupil": {1: 0.04, 2: 0.04, 3: 0.10, 4: 0.28, 5: 0.54},
    "parent": {1: 0.02, 2: 0.01, 3: 0.05, 4: 0.17, 5: 0.75},
}

# --- end reasons ------------------------------------------------------------------

# Guess: most chats registered as "broke off" ended as broke_off; the others
# had ended normally before the operator judged the talk unfinished.
END_REASON_SHARES_BROKE_OFF = {"broke_off": 0.85, "visitor_ended": 0.10, "operator_ended": 0.05}
END_REASON_SHARES_OTHER = {"visitor_ended": 0.50, "operator_ended": 0.47, "broke_off": 0.03}

# --- operators --------------------------------------------------------------------

OPERATORS = 180  # 2024–25; ~42 chats each
DISCIPLINE_SHARES = {
    "psycho_pedagogue": 0.48,
    "social_worker": 0.33,
    "nurse": 0.18,
    "doctor": 0.01,
}
OPERATORS_ONLINE = (4, 6)  # at once, with at least one doctor or nurse
SHIFT_HOURS = 3.5  # a longer opening period is split into shifts of about this long
