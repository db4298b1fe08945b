#!/usr/bin/env python3
"""usage: gen-data.py DIR

Writes the user-stats fixtures into DIR: users.ndjson, projects.ndjson and
contributions.ndjson (a crowdfunding app's MongoDB collections), and
expected.ndjson: each user's stats as the migration must compute them,
worked out here with Python's decimal module, independently of mig:

  count               the user's contributions
  total               the sum of their amounts, rounded to cents
  successfulProjects  distinct projects backed whose status is "successful"
  average             total / count, rounded half away from zero to cents
  impactScore         successfulProjects * 10 + total / 100 rounded half away
                      from zero to an integer

One line per user: {"check": "<_id>|count|total|successfulProjects|average|impactScore"},
numbers written as JSON writes them.  Users without contributions have
zeros (0, 0.0, 0, 0.0, 0).

Deterministic (seeded): the same bytes on every run.
"""

import datetime
import json
import os
import random
import sys
from decimal import Decimal, ROUND_HALF_UP

SEED = 20240901
USERS = 300
PROJECTS = 80
CONTRIBUTIONS = 2500

T0 = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


def oid(rng, seconds):
    return {"$oid": "%08x%016x" % (int(T0.timestamp()) + seconds, rng.getrandbits(64))}


def date(seconds):
    t = T0 + datetime.timedelta(seconds=seconds)
    return {"$date": t.strftime("%Y-%m-%dT%H:%M:%S.000Z")}


def num(d):
    """A Decimal with at most 2 places as the JSON number mig writes: the
    shortest text of the double, ".0" for a whole one."""
    return json.dumps(float(d))


def half_up(x, places):
    return Decimal(repr(x)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def main():
    rng = random.Random(SEED)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)

    def write(name, rows):
        with open(os.path.join(out, name), "w", encoding="utf-8", newline="\n") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")

    users = [{"_id": oid(rng, i), "name": "user %d" % i, "email": "user%d@example.org" % i,
              "joinedAt": date(i * 3600)} for i in range(USERS)]
    projects = [{"_id": oid(rng, 10**6 + i), "title": "Project %d" % i,
                 "status": rng.choice(["successful", "successful", "failed", "active"]),
                 "goal": rng.randrange(1000, 50000),
                 "creatorId": rng.choice(users)["_id"]} for i in range(PROJECTS)]
    contributions = []
    backers = rng.sample(users, int(USERS * 0.8))   # a fifth never contributed
    for i in range(CONTRIBUTIONS):
        u = rng.choice(backers)
        p = rng.choice(projects)
        cents = rng.choice([500, 1000, 2500, 5000, 10000]) + rng.choice([0, 0, 50, 99, rng.randrange(1, 100)])
        contributions.append({"_id": oid(rng, 2 * 10**6 + i), "userId": u["_id"], "projectId": p["_id"],
                              "amount": float(Decimal(cents) / 100),
                              "createdAt": date(86400 * 30 + i * 600)})
    write("users.ndjson", users)
    write("projects.ndjson", projects)
    write("contributions.ndjson", contributions)

    status = {p["_id"]["$oid"]: p["status"] for p in projects}
    expected = []
    for u in users:
        mine = [c for c in contributions if c["userId"] == u["_id"]]
        count = len(mine)
        total = sum((Decimal(repr(c["amount"])) for c in mine), Decimal(0))
        succ = len({c["projectId"]["$oid"] for c in mine if status[c["projectId"]["$oid"]] == "successful"})
        if count:
            average = half_up(float(total) / count, 2)
        else:
            average = Decimal(0)
        impact = succ * 10 + int(half_up(float(total) / 100, 0))
        expected.append({"check": "|".join([u["_id"]["$oid"], str(count), num(total), str(succ),
                                            num(average), str(impact)])})
    write("expected.ndjson", expected)


if __name__ == "__main__":
    main()
