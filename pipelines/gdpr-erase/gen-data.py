#!/usr/bin/env python3
"""usage: gen-data.py DIR

Writes the gdpr-erase fixtures into DIR:

  users.ndjson, orders.ndjson   PostgreSQL tables gdpr_erase.users, .orders
  events.ndjson                 MongoDB collection events (app analytics)
  reviews.ndjson                Elasticsearch index gdpr_erase-reviews
  erase.ndjson                  the erasure requests: {"user_id": N}, 30 users

Deterministic (seeded): the same bytes on every run.
"""

import datetime
import json
import os
import random
import sys

SEED = 20241101
USERS = 500
ORDERS = 2000
EVENTS = 1500
REVIEWS = 1000
ERASE = 30

FIRST = ["Anna", "José", "Zoë", "Łukasz", "Søren", "Chloé", "Mehmet", "Aoife", "Priya", "Wei"]
LAST = ["García", "Müller", "Nowak", "Dubois", "Yılmaz", "O'Brien", "Okafor", "Tanaka"]
STREETS = ["Hauptstraße", "Rue de la Paix", "Main Street", "ul. Floriańska", "Via Roma"]
AGENTS = ["Mozilla/5.0 (X11; Linux x86_64)", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)",
          "okhttp/4.12.0"]
T0 = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


def date(seconds):
    t = T0 + datetime.timedelta(seconds=seconds)
    return {"$date": t.strftime("%Y-%m-%dT%H:%M:%S.000Z")}


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
        first, last = rng.choice(FIRST), rng.choice(LAST)
        users.append({
            "id": i, "email": "%s.%s.%d@Example.org" % (first.lower(), last.lower().replace("'", ""), i),
            "name": "%s %s" % (first, last),
            "phone": "+%d %03d %04d" % (rng.randrange(1, 99), rng.randrange(1000), rng.randrange(10000))
                     if rng.random() < 0.7 else None,
            "created_at": date(rng.randrange(86400 * 100)),
        })
    ips = {u["id"]: ["%d.%d.%d.%d" % (rng.randrange(1, 224), rng.randrange(256), rng.randrange(256),
                                      rng.randrange(1, 255)) for _ in range(rng.randrange(1, 4))]
           for u in users}
    orders = []
    for i in range(1, ORDERS + 1):
        u = rng.choice(users)
        orders.append({
            "id": i, "user_id": u["id"],
            "total": {"$numberDecimal": "%d.%02d" % (rng.randrange(5, 500), rng.randrange(100))},
            "shipping_name": u["name"],
            "shipping_address": "%s %d, %05d" % (rng.choice(STREETS), rng.randrange(1, 200), rng.randrange(100000)),
            "created_at": date(86400 * 100 + i * 300),
        })
    events = []
    for i in range(1, EVENTS + 1):
        u = rng.choice(users)
        events.append({
            "_id": i, "userId": u["id"], "type": rng.choice(["login", "view", "search", "checkout"]),
            "email": u["email"] if rng.random() < 0.3 else None,
            "ip": rng.choice(ips[u["id"]]), "userAgent": rng.choice(AGENTS),
            "at": date(86400 * 100 + i * 60),
        })
    reviews = []
    for i in range(1, REVIEWS + 1):
        u = rng.choice(users)
        reviews.append({
            "_id": "r-%05d" % i, "user_id": u["id"], "author": u["name"], "email": u["email"],
            "product": "SKU-%04d" % rng.randrange(1, 300), "rating": rng.randrange(1, 6),
            "text": rng.choice(["Great.", "Broke after a week.", "Sehr gut!", "Pas mal.", "Meh."]),
            "at": date(86400 * 120 + i * 600),
        })
    erase = [{"user_id": i} for i in sorted(rng.sample(range(1, USERS + 1), ERASE))]
    write("users.ndjson", users)
    write("orders.ndjson", orders)
    write("events.ndjson", events)
    write("reviews.ndjson", reviews)
    write("erase.ndjson", erase)


if __name__ == "__main__":
    main()
