#!/usr/bin/env python3
"""usage: gen-data.py DIR

Writes DIR/customers.ndjson and DIR/orders.ndjson: the rows of the
PostgreSQL tables batch_job.customers and batch_job.orders that the nightly
job copies to MongoDB and Elasticsearch.  Some rows share an updated_at (a
bulk update does that), which the bookmark must get right.

Deterministic (seeded): the same bytes on every run.
"""

import datetime
import json
import os
import random
import sys

SEED = 20241201
CUSTOMERS = 200
ORDERS = 600

T0 = datetime.datetime(2024, 6, 1, tzinfo=datetime.timezone.utc)
STATUSES = ["new", "paid", "shipped", "delivered", "cancelled"]
COUNTRIES = ["DE", "FR", "PL", "IE", "JP", "BR", "NG"]


def ts(seconds, micro=0):
    t = T0 + datetime.timedelta(seconds=seconds, microseconds=micro)
    return {"$date": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}


def main():
    rng = random.Random(SEED)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)

    def write(name, rows):
        with open(os.path.join(out, name), "w", encoding="utf-8", newline="\n") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")

    bulk = ts(86400 * 10)   # one bulk update touched many rows at once
    write("customers.ndjson", [{
        "id": i, "name": "Customer %d" % i, "country": rng.choice(COUNTRIES),
        "vip": rng.random() < 0.1,
        "updated_at": bulk if rng.random() < 0.2 else ts(rng.randrange(86400 * 30), rng.randrange(10**6)),
    } for i in range(1, CUSTOMERS + 1)])
    write("orders.ndjson", [{
        "id": i, "customer_id": rng.randrange(1, CUSTOMERS + 1), "status": rng.choice(STATUSES),
        "total": {"$numberDecimal": "%d.%02d" % (rng.randrange(1, 900), rng.randrange(100))},
        "items": rng.randrange(1, 9),
        "updated_at": bulk if rng.random() < 0.1 else ts(rng.randrange(86400 * 30), rng.randrange(10**6)),
    } for i in range(1, ORDERS + 1)])


if __name__ == "__main__":
    main()
