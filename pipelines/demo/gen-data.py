#!/usr/bin/env python3
"""Writes the demo's users, one NDJSON record per line, to stdout.

Deterministic (seeded): the same bytes on every run and machine.  The
shipped file was made with

    python3 gen-data.py | zstd -19 -q -o data/users.ndjson.zst

(`make data` in this directory does the same).  Typed values are
Extended JSON v2, relaxed: {"$date": ...} with milliseconds and
{"$numberDecimal": ...} with its trailing zeros.  Every record has every
field (absent values are null), so that a table round trip gives back the
same records.
"""

import datetime
import json
import random
import sys

N = 3000
SEED = 20240501

# (display, ascii for the e-mail address)
FIRST = [
    ("Anna", "anna"), ("José", "jose"), ("Zoë", "zoe"), ("Łukasz", "lukasz"),
    ("Søren", "soren"), ("Chloé", "chloe"), ("Mehmet", "mehmet"),
    ("Aoife", "aoife"), ("Björn", "bjorn"), ("François", "francois"),
    ("Ngozi", "ngozi"), ("Priya", "priya"), ("Jürgen", "jurgen"),
    ("Ana", "ana"), ("Dmitri", "dmitri"), ("Kenji", "kenji"),
    ("María", "maria"), ("Olúwaseun", "oluwaseun"), ("Ines", "ines"),
    ("Tomás", "tomas"), ("Emma", "emma"), ("Liam", "liam"), ("Noah", "noah"),
    ("Sofía", "sofia"), ("Håkon", "hakon"), ("Ewa", "ewa"), ("Raj", "raj"),
    ("Hélène", "helene"), ("Çağla", "cagla"), ("Wei", "wei"),
]
LAST = [
    ("García", "garcia"), ("Müller", "muller"), ("Nowak", "nowak"),
    ("Kierkegaard", "kierkegaard"), ("Dubois", "dubois"), ("Yılmaz", "yilmaz"),
    ("O'Brien", "obrien"), ("Lindqvist", "lindqvist"), ("Okafor", "okafor"),
    ("Sharma", "sharma"), ("Schröder", "schroder"), ("Pérez", "perez"),
    ("Ivanov", "ivanov"), ("Tanaka", "tanaka"), ("Smith", "smith"),
    ("Jensen", "jensen"), ("Kowalczyk", "kowalczyk"), ("Álvarez", "alvarez"),
    ("Nguyễn", "nguyen"), ("Rossi", "rossi"), ("Brown", "brown"),
    ("Zhang", "zhang"), ("Haugen", "haugen"), ("Öztürk", "ozturk"),
]
CITIES = [
    ("Berlin", "DE", "10115"), ("München", "DE", "80331"), ("Kraków", "PL", "30-001"),
    ("København", "DK", "1050"), ("Paris", "FR", "75001"), ("İstanbul", "TR", "34000"),
    ("Dublin", "IE", "D01"), ("Lagos", "NG", "100001"), ("Bengaluru", "IN", "560001"),
    ("Madrid", "ES", "28001"), ("Tokyo", "JP", "100-0001"), ("Oslo", "NO", "0150"),
    ("São Paulo", "BR", "01000-000"), ("Zürich", "CH", "8001"), ("London", "GB", "EC1A 1BB"),
]
STREETS = ["Hauptstraße", "Rue de la Paix", "Main Street", "Calle Mayor",
           "ul. Floriańska", "Strøget", "Via Roma", "High Street", "Avenida Paulista"]
TAGS = ["beta", "newsletter", "premium", "trial", "vip", "churn-risk",
        "b2b", "mobile", "referral", "support-priority"]
PLANS = ["free", "basic", "pro", "enterprise"]
DOMAINS = ["example.com", "example.org", "example.net", "mail.example"]

EPOCH = datetime.datetime(2019, 1, 1, tzinfo=datetime.timezone.utc)
SPAN_MS = 6 * 365 * 86400 * 1000


def date(ms):
    t = EPOCH + datetime.timedelta(milliseconds=ms)
    return {"$date": t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)}


def decimal(rng):
    r = rng.random()
    if r < 0.1:
        return {"$numberDecimal": "0.00"}
    cents = rng.randrange(1, 500000)
    if r < 0.4:
        cents -= cents % 100        # whole amounts: "120.00"
    elif r < 0.7:
        cents -= cents % 10         # "120.50"
    if rng.random() < 0.05:
        cents = -cents
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return {"$numberDecimal": "%s%d.%02d" % (sign, cents // 100, cents % 100)}


def user(rng, i):
    first, fa = rng.choice(FIRST)
    last, la = rng.choice(LAST)
    city, country, postcode = rng.choice(CITIES)
    created = rng.randrange(SPAN_MS)
    rec = {
        "id": i,
        "name": "%s %s" % (first, last),
        "email": "%s.%s%d@%s" % (fa, la, i, rng.choice(DOMAINS)),
        "created_at": date(created),
        "last_login": None,
        "balance": decimal(rng),
        "active": rng.random() < 0.8,
        "plan": rng.choice(PLANS),
        "logins": rng.randrange(0, 2000),
        "score": round(rng.uniform(0, 5), 1),
        "address": {
            "street": "%s %d" % (rng.choice(STREETS), rng.randrange(1, 200)),
            "city": city,
            "postcode": postcode,
            "country": country,
        },
        "tags": sorted(rng.sample(TAGS, rng.randrange(0, 4))),
        "phone": None,
    }
    if rng.random() < 0.85:
        rec["last_login"] = date(created + rng.randrange(0, SPAN_MS - created + 1))
    if rng.random() < 0.6:
        rec["phone"] = "+%d %03d %04d" % (rng.randrange(1, 99), rng.randrange(1000),
                                          rng.randrange(10000))
    if rng.random() < 0.03:
        rec["address"] = None
    return rec


def main():
    rng = random.Random(SEED)
    out = sys.stdout
    for i in range(1, N + 1):
        out.write(json.dumps(user(rng, i), ensure_ascii=False, separators=(",", ":")))
        out.write("\n")


if __name__ == "__main__":
    sys.stdout.reconfigure(encoding="utf-8", newline="\n")
    main()
