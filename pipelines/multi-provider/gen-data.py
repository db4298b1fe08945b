#!/usr/bin/env python3
"""usage: gen-data.py DIR

Writes the multi-provider fixtures: DIR/users.ndjson,
DIR/strava_connections.ndjson and DIR/activities.ndjson.

Deterministic (seeded): the same bytes on every run; `make fixtures` runs it.
The shape is that of an app that only knew Strava: one row per connected
athlete with the OAuth tokens and the profile fields Strava's API returns,
and activities that are either imported from Strava (with the athlete's id)
or entered by hand ("manual").  Some tokens hold characters that a careless
conversion would touch (base64 '+', '/', '=', JWT dots, non-ASCII).
"""

import datetime
import json
import os
import random
import string
import sys

SEED = 20240601
USERS = 400
CONNECTED = 300
ACTIVITIES = 2000

FIRST = ["Anna", "José", "Zoë", "Łukasz", "Søren", "Chloé", "Mehmet", "Aoife",
         "Björn", "Ngozi", "Priya", "Jürgen", "Kenji", "María", "Tomás", "Wei"]
LAST = ["García", "Müller", "Nowak", "Dubois", "Yılmaz", "O'Brien", "Okafor",
        "Sharma", "Tanaka", "Smith", "Jensen", "Rossi", "Nguyễn", "Öztürk"]
CITIES = [("Berlin", "Germany"), ("Kraków", "Poland"), ("Paris", "France"),
          ("Dublin", "Ireland"), ("Lagos", "Nigeria"), ("Tokyo", "Japan"),
          ("São Paulo", "Brazil"), ("Zürich", "Switzerland"), (None, None)]
SPORTS = ["Run", "Ride", "Swim", "Hike", "Walk", "VirtualRide", "TrailRun"]

T0 = datetime.datetime(2023, 1, 1, tzinfo=datetime.timezone.utc)


def ts(seconds, micro=0):
    t = T0 + datetime.timedelta(seconds=seconds, microseconds=micro)
    return {"$date": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}


def token(rng, i):
    kind = i % 10
    if kind == 7:   # base64 with padding
        raw = "".join(rng.choice(string.ascii_letters + string.digits + "+/") for _ in range(42))
        return raw + "=="
    if kind == 8:   # a JWT-like token
        part = lambda n: "".join(rng.choice(string.ascii_letters + string.digits + "-_") for _ in range(n))
        return "%s.%s.%s" % (part(20), part(60), part(43))
    if kind == 9 and i % 20 == 9:   # odd but legal bytes
        return "tok ën\\%d\t\"q\"" % i
    return "".join(rng.choice("0123456789abcdef") for _ in range(40))


def main():
    rng = random.Random(SEED)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)

    def write(name, rows):
        with open(os.path.join(out, name), "w", encoding="utf-8", newline="\n") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")

    users = []
    for i in range(1, USERS + 1):
        users.append({
            "id": i,
            "email": "user%d@example.org" % i,
            "name": "%s %s" % (rng.choice(FIRST), rng.choice(LAST)),
            "created_at": ts(rng.randrange(0, 86400 * 200), rng.randrange(1000000)),
        })
    write("users.ndjson", users)

    connected = sorted(rng.sample(range(1, USERS + 1), CONNECTED))
    athletes = rng.sample(range(1000000, 99999999), CONNECTED)
    conns = []
    for n, (uid, athlete) in enumerate(zip(connected, athletes), 1):
        city, country = rng.choice(CITIES)
        created = 86400 * 200 + rng.randrange(0, 86400 * 100)
        conns.append({
            "id": n,
            "user_id": uid,
            "athlete_id": athlete,
            "access_token": token(rng, n),
            "refresh_token": token(rng, n + 3),
            "expires_at": 1735689600 + rng.randrange(0, 86400 * 30),
            "scope": rng.choice(["read,activity:read", "read,activity:read_all",
                                 "read,activity:read_all,profile:read_all"]),
            "firstname": rng.choice(FIRST),
            "lastname": rng.choice(LAST),
            "profile_medium": "https://dgalywyr863hv.cloudfront.net/pictures/athletes/%d/medium.jpg" % athlete,
            "city": city,
            "country": country,
            "sex": rng.choice(["M", "F", None]),
            "premium": rng.random() < 0.3,
            "created_at": ts(created),
            "updated_at": ts(created + rng.randrange(0, 86400 * 60), rng.randrange(1000000)),
        })
    write("strava_connections.ndjson", conns)

    acts = []
    for i in range(1, ACTIVITIES + 1):
        c = rng.choice(conns)
        manual = rng.random() < 0.2
        uid = rng.randrange(1, USERS + 1) if manual else c["user_id"]
        acts.append({
            "id": i,
            "user_id": uid,
            "source": "manual" if manual else "strava",
            "strava_activity_id": None if manual else 9000000000 + i * 7,
            "athlete_id": None if manual else c["athlete_id"],
            "name": "%s #%d" % (rng.choice(SPORTS), i),
            "sport_type": rng.choice(SPORTS),
            "distance_m": {"$numberDecimal": "%d.%d" % (rng.randrange(0, 42195), rng.randrange(10))},
            "moving_time_s": rng.randrange(60, 20000),
            "started_at": ts(86400 * 300 + rng.randrange(0, 86400 * 300)),
        })
    write("activities.ndjson", acts)


if __name__ == "__main__":
    main()
