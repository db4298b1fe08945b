#!/usr/bin/env python3
"""usage: gen-data.py DIR

Writes the local-export fixtures into DIR:

  export-1.ndjson   the first export: one line per user, a raw dump of the
                    app's localStorage, whose values are JSON text: the
                    keys "settings", "lists" (with their items) and
                    "drafts" each hold a string that mig-map's parse_json()
                    reads
  export-2.ndjson   a later export: some of the same users with edits
                    (renamed lists, ticked items, rewritten drafts, changed
                    settings), new entries, and new users
  expected.json     what the import must give, computed here from the data
                    model, independently of mig: the rows per table, the
                    rejects per table, the conflicts of the second import
  changed.ndjson    the entries that the second export changed, with their
                    new values: after the merge import each must be in the
                    tables as it is here
  positions.ndjson  every list item's place in its list's "items" array
                    (from 0), as the list_items rows must hold it

Both exports hold malformed entries, each of which must be rejected with a
reason while the rest of its user's data is imported:

  export-1 line 7   cut short (not JSON): the whole user is rejected
  a user whose "drafts" text is cut short         (parse_json(): drafts)
  a list item without an "id"                    (schema: list_items)
  a draft whose "updatedAt" is "last tuesday"    (date(): drafts)
  a list whose "items" is the string "n/a"       (explode: list_items)
  export-2: a user line without "userId"         (schema: every table)

Deterministic (seeded): the same bytes on every run.
"""

import copy
import datetime
import json
import os
import random
import sys

SEED = 20240701
USERS_1 = 60          # users in the first export
KEEP_2 = 40           # of them, in the second export too
NEW_2 = 10            # new users in the second export

THEMES = ["light", "dark", "system"]
LOCALES = ["en-GB", "de-DE", "fr-FR", "pl-PL", "ja-JP", "pt-BR"]
LIST_TITLES = ["Groceries", "Packing", "Books to read", "Gifts", "Chores",
               "Einkaufsliste", "À faire", "Zakupy", "やること"]
ITEM_TEXTS = ["Milk", "Bread", "Passport", "Charger", "Call mum", "Café au lait",
              "Æbleskiver", "Zahnpasta", "Umbrella ☂", "Tickets", "Socks"]
DRAFT_WORDS = ["draft", "note", "idea", "plan", "letter", "Entwurf", "brouillon"]

T0 = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


def iso(seconds):
    t = T0 + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (seconds * 7 % 1000)


def make_user(rng, n):
    uid = "u-%04d" % n
    settings = {
        "theme": rng.choice(THEMES),
        "locale": rng.choice(LOCALES),
        "fontSize": rng.choice([12, 14, 16, 18]),
        "notifications": {"email": rng.random() < 0.5, "push": rng.random() < 0.5},
    }
    if rng.random() < 0.3:
        settings["lastOpenList"] = None
    lists = []
    for j in range(rng.randrange(1, 5)):
        items = []
        for k in range(rng.randrange(0, 7)):
            items.append({
                "id": "i-%04d-%d-%d" % (n, j, k),
                "text": rng.choice(ITEM_TEXTS),
                "done": rng.random() < 0.3,
                "due": iso(rng.randrange(86400 * 200)) if rng.random() < 0.3 else None,
            })
        lists.append({
            "id": "l-%04d-%d" % (n, j),
            "title": rng.choice(LIST_TITLES),
            "createdAt": iso(rng.randrange(86400 * 100)),
            "archived": rng.random() < 0.1,
            "items": items,
        })
    drafts = []
    for j in range(rng.randrange(0, 4)):
        drafts.append({
            "id": "d-%04d-%d" % (n, j),
            "title": "%s %d" % (rng.choice(DRAFT_WORDS), j),
            "body": " ".join(rng.choice(DRAFT_WORDS) for _ in range(rng.randrange(3, 30))),
            "tags": sorted(set(rng.choice(["work", "home", "urgent", "später"]) for _ in range(rng.randrange(0, 3)))),
            "updatedAt": iso(86400 * 100 + rng.randrange(86400 * 30)),
        })
    return {"userId": uid, "exportedAt": None, "app": "listy", "schemaVersion": 2,
            "settings": settings, "lists": lists, "drafts": drafts}


def edit_user(rng, u, n):
    """The same user a month later: edits and new entries."""
    u = copy.deepcopy(u)
    u["settings"]["theme"] = rng.choice(THEMES)
    if u["lists"]:
        u["lists"][0]["title"] += " (2)"
        for it in u["lists"][0]["items"]:
            it["done"] = True
        u["lists"][0]["items"].append({"id": "i-%04d-new" % n, "text": "Added later",
                                       "done": False, "due": None})
    if rng.random() < 0.5:
        u["lists"].append({"id": "l-%04d-new" % n, "title": "New list", "createdAt": iso(86400 * 140),
                           "archived": False, "items": []})
    for d in u["drafts"]:
        d["title"] = d["title"] + " v2"
        d["updatedAt"] = iso(86400 * 140 + rng.randrange(86400))
    return u


def rows(u):
    """The rows one valid user gives: {table: {key: row}}."""
    uid = u["userId"]
    out = {"user_settings": {}, "lists": {}, "list_items": {}, "drafts": {}}
    for k, v in u["settings"].items():
        out["user_settings"][(uid, k)] = {"user_id": uid, "key": k, "value": v}
    for l in u["lists"]:
        out["lists"][(uid, l["id"])] = {"user_id": uid, "list_id": l["id"], "title": l["title"]}
        if isinstance(l["items"], list):
            for pos, it in enumerate(l["items"]):
                if "id" in it:
                    out["list_items"][(uid, l["id"], it["id"])] = {
                        "user_id": uid, "list_id": l["id"], "item_id": it["id"], "done": it["done"],
                        "position": pos}
    if "drafts" not in u.get("cut", ()):
        for d in u["drafts"]:
            if d["updatedAt"] != "last tuesday":
                out["drafts"][(uid, d["id"])] = {"user_id": uid, "draft_id": d["id"], "title": d["title"]}
    return out


def main():
    rng = random.Random(SEED)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)

    users1 = [make_user(rng, n) for n in range(1, USERS_1 + 1)]
    for u in users1:
        u["exportedAt"] = "2024-05-01T08:00:00.000Z"
    # malformed entries of the first export
    users1[2]["lists"][0]["items"].append({"text": "no id", "done": False, "due": None})
    users1[4]["drafts"].append({"id": "d-0005-x", "title": "bad date", "body": "", "tags": [],
                                "updatedAt": "last tuesday"})
    users1[10]["lists"].append({"id": "l-0011-x", "title": "Broken", "createdAt": iso(5),
                                "archived": False, "items": "n/a"})
    cut = 6   # line 7 is cut short
    users1[20]["cut"] = ["drafts"]   # its "drafts" text is cut short

    kept = sorted(rng.sample(range(USERS_1), KEEP_2))
    users2 = [edit_user(rng, users1[i], i + 1) for i in kept if i != cut]
    users2 += [make_user(rng, n) for n in range(USERS_1 + 1, USERS_1 + NEW_2 + 1)]
    for u in users2:
        u["exportedAt"] = "2024-06-01T08:00:00.000Z"
        # the bad entries of export 1 are fixed in export 2
        u.pop("cut", None)
        for l in u["lists"]:
            if l["items"] == "n/a":
                l["items"] = []
            l["items"] = [it for it in l["items"] if "id" in it]
        u["drafts"] = [d for d in u["drafts"] if d["updatedAt"] != "last tuesday"]
    nouser = make_user(rng, 999)
    del nouser["userId"]
    nouser["exportedAt"] = "2024-06-01T08:00:00.000Z"
    users2.insert(5, nouser)

    def text(v):
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"))

    def dump(u):
        # localStorage holds strings: each value is the JSON text the app
        # stored (a text in "cut" lost its second half)
        line = {k: v for k, v in u.items() if k != "cut"}
        for k in ("settings", "lists", "drafts"):
            line[k] = text(u[k])
            if k in u.get("cut", ()):
                line[k] = line[k][:len(line[k]) // 2]
        return text(line)

    with open(os.path.join(out, "export-1.ndjson"), "w", encoding="utf-8", newline="\n") as f:
        for i, u in enumerate(users1):
            line = dump(u)
            if i == cut:
                line = line[:len(line) // 2]
            f.write(line + "\n")
    with open(os.path.join(out, "export-2.ndjson"), "w", encoding="utf-8", newline="\n") as f:
        for u in users2:
            f.write(dump(u) + "\n")

    # What the import must give.
    tables = ["user_settings", "lists", "list_items", "drafts"]
    first = {t: {} for t in tables}
    for i, u in enumerate(users1):
        if i != cut:
            for t, r in rows(u).items():
                first[t].update(r)
    second = {t: {} for t in tables}
    for u in users2:
        if "userId" in u:
            for t, r in rows(u).items():
                second[t].update(r)
    final = {t: {**first[t], **second[t]} for t in tables}
    expected = {
        "rows": {t: len(final[t]) for t in tables},
        "first_import": {t: len(first[t]) for t in tables},
        "second_new": {t: len(set(second[t]) - set(first[t])) for t in tables},
        "second_conflicts": {t: len(set(second[t]) & set(first[t])) for t in tables},
        # rejects of each import's pipeline into each table
        "rejects_1": {"user_settings": 1, "lists": 1, "list_items": 3, "drafts": 3},
        "rejects_2": {"user_settings": 1, "lists": 1, "list_items": 1, "drafts": 1},
    }
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
        f.write("\n")
    # the entries that export 2 changed: list titles, ticked items, drafts
    with open(os.path.join(out, "changed.ndjson"), "w", encoding="utf-8", newline="\n") as f:
        for t, fields in (("lists", ("title",)), ("list_items", ("done",)), ("drafts", ("title",))):
            for key in sorted(set(second[t]) & set(first[t])):
                a, b = first[t][key], second[t][key]
                if any(a[x] != b[x] for x in fields):
                    text = "/".join(b[x] if isinstance(b[x], str) else json.dumps(b[x]) for x in fields)
                    f.write(json.dumps({"table": t, "check": "/".join(key) + "=" + text},
                                       ensure_ascii=False) + "\n")

    # where each list item stands in its list, in the final tables
    with open(os.path.join(out, "positions.ndjson"), "w", encoding="utf-8", newline="\n") as f:
        for key in sorted(final["list_items"]):
            f.write(json.dumps({"check": "/".join(key) + "=%d" % final["list_items"][key]["position"]},
                               ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
