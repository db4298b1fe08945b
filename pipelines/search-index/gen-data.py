#!/usr/bin/env python3
"""usage: gen-data.py DIR

Writes DIR/products.ndjson: a shop's product catalogue, the rows of the
PostgreSQL table search_index.products.  Deterministic (seeded).
"""

import datetime
import json
import os
import random
import sys

SEED = 20241001
N = 1500

CATEGORIES = ["Books & Media", "Garden", "Kitchen", "Outdoor", "Toys", "Électronique"]
ADJ = ["Compact", "Deluxe", "Eco", "Smart", "Classic", "Ultra", "Mini", "Große", "Petite"]
NOUN = ["Kettle", "Tent", "Lamp", "Drill", "Novel", "Puzzle", "Grill", "Backpack",
        "Headphones", "Café Press", "Schaufel", "Livre"]
TAGS = ["new", "sale", "bestseller", "eco", "gift", "limited", "refurbished"]
WORDS = ["durable", "lightweight", "waterproof", "hand-made", "recycled", "fast",
         "quiet", "für draußen", "à emporter", "portable"]

T0 = datetime.datetime(2024, 6, 1, tzinfo=datetime.timezone.utc)


def main():
    rng = random.Random(SEED)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "products.ndjson"), "w", encoding="utf-8", newline="\n") as f:
        for i in range(1, N + 1):
            cents = rng.choice([rng.randrange(99, 1000), rng.randrange(1000, 10000),
                                rng.randrange(10000, 100000)])
            if rng.random() < 0.3:
                cents = cents - cents % 100 + 99
            at = T0 + datetime.timedelta(seconds=rng.randrange(86400 * 90), microseconds=rng.randrange(10**6))
            rec = {
                "id": i,
                "sku": "SKU-%05d" % i,
                "name": "%s %s" % (rng.choice(ADJ), rng.choice(NOUN)),
                "description": " ".join(rng.choice(WORDS) for _ in range(rng.randrange(4, 20))),
                "category": rng.choice(CATEGORIES),
                "price": {"$numberDecimal": "%d.%02d" % (cents // 100, cents % 100)},
                "tags": sorted(rng.sample(TAGS, rng.randrange(0, 4))),
                "in_stock": rng.random() < 0.8,
                "updated_at": {"$date": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")},
            }
            f.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
