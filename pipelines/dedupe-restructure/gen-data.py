#!/usr/bin/env python3
"""usage: gen-data.py DIR

Writes DIR/project_scripts.ndjson: the rows of a screenplay editor's
project_scripts table, where an autosave race left several rows per
(project_id, user_id), and whose jsonb column "content" has two older
shapes:

  v1  {"text": ..., "characters": [...], "scenes": [...],
       "lastModified": <milliseconds since 1970>, "version": 1}
  v2  {"script": ..., "characters": [...], "scenes": [...],
       "lastModified": "<ISO 8601>", "version": 2}

with now and then a member missing (no characters, no scenes, no version).
No two rows of one (project_id, user_id) share an updated_at.

Deterministic (seeded): the same bytes on every run.
"""

import datetime
import json
import os
import random
import sys

SEED = 20240801
PAIRS = 400

NAMES = ["ALICE", "BOB", "CHLOÉ", "DMITRI", "EWA", "FATIMA", "GRETA", "HIRO",
         "INÉS", "JOÃO", "KWAME", "LÉA"]
PLACES = ["KITCHEN", "OFFICE", "CAR", "BEACH", "ROOFTOP", "CAFÉ", "TRAIN", "FOREST"]
LINES = ["Where were you?", "I told you already.", "Não sei.", "It's raining again.",
         "We need to talk about the money.", "Bis morgen!", "Who's there?"]

T0 = datetime.datetime(2024, 3, 1, tzinfo=datetime.timezone.utc)


def ts(seconds, micro):
    t = T0 + datetime.timedelta(seconds=seconds, microseconds=micro)
    return t


def script(rng):
    out = []
    for _ in range(rng.randrange(1, 6)):
        who = rng.choice(NAMES)
        out.append("%s\n%s" % (who, rng.choice(LINES)))
    return "\n\n".join(out)


def content(rng, at):
    ms = int(at.timestamp() * 1000)
    chars = [{"name": n, "description": rng.choice(["lead", "friend", "stranger", ""])}
             for n in rng.sample(NAMES, rng.randrange(0, 4))]
    scenes = [{"heading": "%s. %s - %s" % (rng.choice(["INT", "EXT"]), rng.choice(PLACES),
                                            rng.choice(["DAY", "NIGHT"])), "order": i + 1}
              for i in range(rng.randrange(0, 5))]
    if rng.random() < 0.5:
        c = {"text": script(rng), "characters": chars, "scenes": scenes,
             "lastModified": ms, "version": 1}
    else:
        c = {"script": script(rng), "characters": chars, "scenes": scenes,
             "lastModified": at.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (at.microsecond // 1000),
             "version": 2}
    r = rng.random()
    if r < 0.05:
        del c["characters"]
    elif r < 0.10:
        del c["scenes"]
    elif r < 0.15:
        del c["version"]
    return c


def main():
    rng = random.Random(SEED)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rows = []
    pairs = set()
    while len(pairs) < PAIRS:
        pairs.add((rng.randrange(1, 200), rng.randrange(1, 60)))
    for project_id, user_id in sorted(pairs):
        n = rng.choice([1, 1, 1, 2, 2, 3, 4, 8])
        seconds = sorted(rng.sample(range(86400 * 90), n))
        for s in seconds:
            at = ts(s, rng.randrange(1000000))
            rows.append({"project_id": project_id, "user_id": user_id,
                         "content": content(rng, at),
                         "created_at": {"$date": ts(0, 0).strftime("%Y-%m-%dT%H:%M:%S.%fZ")},
                         "updated_at": {"$date": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}})
    rng.shuffle(rows)   # the table's physical order is not the time order
    with open(os.path.join(out, "project_scripts.ndjson"), "w", encoding="utf-8", newline="\n") as f:
        for i, r in enumerate(rows, 1):
            f.write(json.dumps(dict(id=i, **r), ensure_ascii=False, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
