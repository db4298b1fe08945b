#!/usr/bin/env bats
# servers: postgres
#
# mig-backup and mig-restore against a real PostgreSQL server
# (tests/servers/postgres, started by tests/run.sh, which exports
# MIG_PG_URL, PGHOST, PGPORT, PGUSER, PGDATABASE).  Each test makes a source
# and a target database of its own and drops them afterwards.  The
# databases are set up and compared with psql and pg_dump, independently
# of mig.

load ../cli/helpers

setup() {
	T=$BATS_TEST_TMPDIR
	cd "$T" || return 1
	export LC_ALL=C.UTF-8
	if [ -n "${MIG_BIN:-}" ]; then
		PATH=$MIG_BIN:$PATH
	fi
	[ -n "${MIG_PG_URL:-}" ] || skip "no server: MIG_PG_URL is not set (tests/run.sh starts one)"
	SRC=mig_bk${BATS_TEST_NUMBER}_src
	DST=mig_bk${BATS_TEST_NUMBER}_dst
	BASE=${MIG_PG_URL%/*}
	for d in "$SRC" "$DST"; do
		psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $d" -c "CREATE DATABASE $d"
	done
}

teardown() {
	if [ -n "${bg_pid:-}" ]; then
		kill "$bg_pid" 2>/dev/null || true
		wait "$bg_pid" 2>/dev/null || true
	fi
	[ -z "${SRC:-}" ] || psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $SRC" \
		-c "DROP DATABASE IF EXISTS $DST" || true
}

# q DB SQL: runs SQL in DB, unaligned, no header, in UTC.
q() {
	PGTZ=UTC PGOPTIONS="-c client_min_messages=warning" \
		psql -X -q -v ON_ERROR_STOP=1 -At -d "$1" -c "$2"
}

# qs DB: runs the SQL on stdin in DB.
qs() {
	PGTZ=UTC PGOPTIONS="-c client_min_messages=warning" \
		psql -X -q -v ON_ERROR_STOP=1 -At -d "$1" -f -
}

# tables DB: the user tables, schema-qualified, sorted.
tables() {
	q "$1" "SELECT schemaname || '.' || tablename FROM pg_tables
		WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
}

# fingerprint DB: per table, its row count and an md5 of its rows' text in
# the order of their text.
fingerprint() {
	local t
	for t in $(tables "$1"); do
		printf '%s %s\n' "$t" "$(q "$1" "SELECT count(*) || ' ' || coalesce(md5(string_agg(x::text,
			E'\\n' ORDER BY x::text)), '-') FROM $t x")"
	done
}

# constraints DB: every constraint and index definition of the user tables.
constraints() {
	q "$1" "SELECT conrelid::regclass || ' ' || contype::text || ' ' || pg_get_constraintdef(oid)
		FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1"
	q "$1" "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"
}

# same_constraints DB1 DB2 [PATTERN]: the two have the same constraints and
# indexes (those matching PATTERN), and some.
same_constraints() {
	constraints "$1" | grep -e "${3:-.}" >c1.txt || fail "no constraints in $1 (or psql failed)"
	constraints "$2" | grep -e "${3:-.}" >c2.txt || fail "no constraints in $2 (or psql failed)"
	diff c1.txt c2.txt || fail "the constraints of $1 and $2 differ"
}

same_fingerprint() {
	diff <(fingerprint "$1") <(fingerprint "$2") >fp.diff ||
		{ cat fp.diff >&2; fail "the rows of $1 and $2 differ"; }
}

# The source: a table of every type (from tests/stores/postgres.bats),
# users and orders with a foreign key, a unique constraint, a check, a
# default and an index, and an empty table.
make_src() {
	qs "$SRC" <<'EOF'
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE pt AS (x int, label text, m mood, tags text[]);
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TABLE every (
	id int PRIMARY KEY,
	i2 smallint, i4 integer, i8 bigint, o oid,
	nu numeric, nu2 numeric(12,2),
	f4 real, f8 double precision,
	b boolean,
	t text, vc varchar(20), ch char(5), nm name,
	tstz timestamptz, ts timestamp, d date, tm time, ttz timetz, iv interval,
	u uuid, by bytea, j json, jb jsonb,
	ia int[], ta text[], ma int[][], ea mood[], ca pt[], comp pt, e mood,
	ip inet, net cidr, mac macaddr, tsv tsvector, m money, r int4range, dom posint);
INSERT INTO every VALUES
(1, -32768, 2147483647, 9223372036854775807, 4294967295,
 '123456789012345678901234567890.123456789012345678901234567890', 12.50,
 3.25, 0.1, true,
 E'h\u00e9llo \U0001F389 \u4e16\u754c tab\there nl\nhere cr\rhere back\\slash "q" ''s',
 'varchar', 'ab', 'a name',
 '2024-05-01 10:00:00.123456+02', '2024-05-01 10:00:00.654321', '2024-02-29',
 '23:59:59.999999', '10:00:00+05:30', '1 year 2 mons 3 days 04:05:06.789',
 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\x00ff5c0a0d09',
 '{"a":1,"b":[true,null,"x"],"c":{"d":"é"}}',
 '{"n": 1.5, "big": 12345678901234567890123, "neg": -7, "s": "x\ty",
   "nested": {"arr": [1, [2, [3]]]}, "emoji": "\ud83c\udf89"}',
 '{1,NULL,3}', '{"a b","c,d","e\"f","g\\h",NULL,"NULL",""}',
 '{{1,2},{3,NULL}}', '{sad,happy}',
 ARRAY[ROW(1, 'a "b", c', 'ok', '{x,"y z"}')::pt, NULL, ROW(NULL, '', NULL, '{}')::pt],
 ROW(2, E'q"uo\\te (paren), comma', 'sad', '{NULL,"NULL",""}'), 'happy',
 '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', 'a fat cat sat', 12.34, '[1,5)', 42);
INSERT INTO every (id) VALUES (2);
INSERT INTO every VALUES
(3, 0, 0, -9223372036854775808, 0, 'NaN', -0.01, 'NaN', '-Infinity', false,
 repeat(E'ab\U0001F389', 100000), '', '', '',
 '0044-03-15 12:00:00.5+00 BC', 'infinity', '0001-01-01 BC', '00:00', '00:00-12',
 '-3 days', '00000000-0000-0000-0000-000000000000', decode(repeat('00ff', 100000), 'hex'),
 '[]', (SELECT jsonb_agg(g) FROM generate_series(1, 20000) g),
 '{}', '{}', '{}', '{}', '{}', ROW(NULL, NULL, NULL, NULL), 'sad',
 '::1', '::/0', 'ff:ff:ff:ff:ff:ff', '', -0.5, 'empty', 1);
CREATE TABLE users (
	id bigint PRIMARY KEY,
	email text NOT NULL UNIQUE,
	name text NOT NULL DEFAULT 'anonymous',
	balance numeric(12,2) CHECK (balance >= 0),
	created timestamptz NOT NULL DEFAULT now());
CREATE INDEX users_name ON users (lower(name));
CREATE TABLE orders (
	id serial PRIMARY KEY,
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	total numeric NOT NULL,
	at date);
CREATE INDEX orders_user ON orders (user_id, at);
CREATE TABLE empty (a int, b text);
INSERT INTO users SELECT g, 'u' || g || '@example.org', 'user ' || g, g * 1.25,
	timestamptz '2024-01-01 00:00:00.123456+00' + g * interval '1 minute'
	FROM generate_series(1, 500) g;
INSERT INTO orders (user_id, total, at) SELECT 1 + g % 500, g / 7.0, date '2024-01-01' + g % 90
	FROM generate_series(1, 2000) g;
EOF
}

# has_native ARCHIVE: the PostgreSQL backend wrote native definitions.
has_native() {
	tar -xOf "$1" schema/public.users.json 2>/dev/null | jq -e 'has("x-mig-native")' >/dev/null
}

@test "postgres backup: the archive lists every table with its count" {
	make_src
	run --separate-stderr mig-backup "$BASE/$SRC" -o src.mig
	status_is 0
	stderr_has "4 collections, 2503 records"
	tar -xOf src.mig manifest.json >m.json
	jq_true m.json '.backend == "postgres" and ([.collections[].name] | sort) ==
		["public.empty", "public.every", "public.orders", "public.users"]'
	jq_true m.json '.collections[] | select(.name == "public.orders") | .records == 2000'
	jq_true m.json ".source == \"$BASE/$SRC\""
	run --separate-stderr mig-backup --verify src.mig
	status_is 0
	# a password stays out of the archive and the messages
	pw=${BASE/:\/\/postgres@/://postgres:s3cret@}
	[ "$pw" != "$BASE" ] || skip "MIG_PG_URL has no user to give a password to"
	run --separate-stderr mig-backup "$pw/$SRC" -o pw.mig
	status_is 0
	has_not "$stderr" s3cret
	tar -xOf pw.mig manifest.json | grep -q s3cret && fail "the password is in the manifest"
	tar -xOf pw.mig manifest.json | jq -e '.source | contains(":***@")' >/dev/null ||
		fail "the source is not redacted"
}

@test "postgres backup -> restore into the same tables: identical rows" {
	make_src
	mig-backup -q "$BASE/$SRC" -o src.mig
	# the tables as pg_dump makes them, so that this checks the data alone
	pg_dump -s -d "$SRC" | qs "$DST" >/dev/null
	# users before orders, for the foreign key: without native definitions
	# (which name what a table refers to) the archive cannot tell
	run --separate-stderr mig-restore src.mig "$BASE/$DST" --only public.users
	status_is 0
	run --separate-stderr mig-restore src.mig "$BASE/$DST" \
		--only public.empty,public.every,public.orders
	status_is 0
	stderr_has "3 collections, 2003 read, 2003 inserted"
	same_fingerprint "$SRC" "$DST"
}

@test "postgres backup -> restore into an empty database: the same tables, constraints and rows" {
	make_src
	mig-backup -q "$BASE/$SRC" -o src.mig
	has_native src.mig || skip "the postgres backend has no native() yet (lib/backend/pg.c)"
	run --separate-stderr mig-restore src.mig "$BASE/$DST"
	status_is 0
	diff <(tables "$SRC") <(tables "$DST") || fail "the tables differ"
	same_fingerprint "$SRC" "$DST"
	same_constraints "$SRC" "$DST"
	# the foreign key works in the restored database
	run q "$DST" "INSERT INTO orders (user_id, total) VALUES (99999, 1)"
	[ "$status" -ne 0 ] || fail "the foreign key is not there"
}

@test "postgres backup: a write during the backup does not tear it" {
	qs "$SRC" <<'EOF'
CREATE TABLE a (id bigint PRIMARY KEY, pad text);
CREATE TABLE b (id bigint PRIMARY KEY, pad text);
INSERT INTO a SELECT g, repeat('x', 200) FROM generate_series(1, 300000) g;
INSERT INTO b SELECT g, repeat('x', 200) FROM generate_series(1, 300000) g;
EOF
	# one row into each table per transaction: a and b always hold as many
	# rows as each other
	(
		i=1000000
		while :; do
			i=$((i + 1))
			q "$SRC" "BEGIN; INSERT INTO a VALUES ($i, 'w'); INSERT INTO b VALUES ($i, 'w'); COMMIT" ||
				exit 0
		done
	) &
	bg_pid=$!
	sleep 0.5
	run --separate-stderr mig-backup "$BASE/$SRC" -o src.mig --level 1
	status_is 0
	kill "$bg_pid"
	wait "$bg_pid" 2>/dev/null || true
	bg_pid=
	tar -xOf src.mig manifest.json >m.json
	jq -e '.consistent' m.json >/dev/null ||
		skip "the postgres backend has no snapshot_begin yet (lib/backend/pg.c)"
	na=$(jq '.collections[] | select(.name == "public.a") | .records' m.json)
	nb=$(jq '.collections[] | select(.name == "public.b") | .records' m.json)
	[ "$na" -gt 300000 ] || fail "no write happened before the backup ($na rows)"
	[ "$na" = "$nb" ] || fail "torn: a has $na rows, b has $nb"
	[ "$(q "$SRC" "SELECT count(*) FROM a")" -gt "$na" ] || fail "no write happened during the backup"
}

@test "postgres backup -> restore into SQLite: the same records" {
	make_src
	mig-backup -q "$BASE/$SRC" -o src.mig --only public.users,public.orders,public.empty
	run --separate-stderr mig-restore src.mig sqlite:copy.db
	status_is 0
	stderr_has "3 collections, 2500 read, 2500 inserted"
	# relaxed: SQLite keeps integers, not int32 apart from int64
	for t in public.users public.orders; do
		mig-extract -q "$BASE/$SRC#$t" | jq -S -c . | sort >a.ndjson
		mig-extract -q "sqlite:copy.db#$t" | jq -S -c . | sort >b.ndjson
		diff a.ndjson b.ndjson >d.txt || { head -5 d.txt >&2; fail "$t differs"; }
	done
}

@test "postgres: a damaged archive writes nothing into the target database" {
	make_src
	mig-backup -q "$BASE/$SRC" -o src.mig
	cp src.mig bad.mig
	off=$(python3 -c 'import tarfile
t = tarfile.open("src.mig"); m = t.getmember("data/public.orders.ndjson.zst")
print(m.offset_data + m.size // 2)')
	printf '\x5a' | dd of=bad.mig bs=1 seek="$off" conv=notrunc 2>/dev/null
	run --separate-stderr mig-restore bad.mig "$BASE/$DST"
	status_is 5
	[ -z "$(tables "$DST")" ] || fail "tables were created"
}

@test "postgres: mig-backup -o - | mig-restore - copies a database" {
	make_src
	pg_dump -s -d "$SRC" | qs "$DST" >/dev/null
	q "$DST" "ALTER TABLE orders DROP CONSTRAINT orders_user_id_fkey"
	run --separate-stderr bash -c "set -o pipefail; mig-backup '$BASE/$SRC' -o - |
		mig-restore - '$BASE/$DST'"
	status_is 0
	same_fingerprint "$SRC" "$DST"
}

@test "postgres restore --drop: children dropped first, the archive's rows and constraints back" {
	make_src
	mig-backup -q "$BASE/$SRC" --only public.users,public.orders -o uo.mig
	has_native uo.mig || skip "the postgres backend has no native() yet (lib/backend/pg.c)"
	# the source changes after the backup: --drop must bring back the backup
	q "$SRC" "DELETE FROM users WHERE id > 400; UPDATE orders SET total = 0; \
		ALTER TABLE orders ADD COLUMN extra text"
	# orders refers to users: dropping users first would fail
	run --separate-stderr mig-restore uo.mig "$BASE/$SRC" --drop
	status_is 0
	stderr_has "2 collections, 2500 read, 2500 inserted"
	[ "$(q "$SRC" "SELECT count(*) FROM users")" = 500 ]
	[ "$(q "$SRC" "SELECT count(*) FROM orders WHERE total = 0")" = 0 ] ||
		fail "orders are not as backed up"
	[ "$(q "$SRC" "SELECT count(*) FROM information_schema.columns
		WHERE table_name = 'orders' AND column_name = 'extra'")" = 0 ] ||
		fail "orders was not dropped and created anew"
	# the foreign key is back
	run q "$SRC" "INSERT INTO orders (user_id, total) VALUES (99999, 1)"
	[ "$status" -ne 0 ] || fail "the foreign key is not there"
	# again: the restored tables drop as well
	run --separate-stderr mig-restore uo.mig "$BASE/$SRC" --drop
	status_is 0
}

@test "postgres restore --drop: a table outside the archive that refers to it is refused by name, nothing dropped" {
	make_src
	# orders refers to users, and is not in the archive
	mig-backup -q "$BASE/$SRC" --only public.users -o u.mig
	before=$(fingerprint "$SRC")
	run --separate-stderr mig-restore u.mig "$BASE/$SRC" --drop
	status_is 3
	stderr_has "cannot drop public.users: table public.orders refers to it (foreign key orders_user_id_fkey)"
	[ "$(fingerprint "$SRC")" = "$before" ] || fail "something was dropped or written"
	# the dry run says the same
	run --separate-stderr mig-restore u.mig "$BASE/$SRC" --drop --dry-run
	status_is 3
	stderr_has "is not among the tables restored"
}

# Restore reads the archive's canonical wrappers ({"$numberLong"},
# {"$numberDouble"}, {"$date": {"$numberLong"}}, ...) straight into
# PostgreSQL's COPY text (pg.c fs_wrapped), with no relaxed rewrite in
# between (relax.c).  The same archive loaded the old way, as relaxed NDJSON
# through mig-load, and the source itself must give the very same rows,
# edge values and all.
@test "postgres restore: canonical wrappers load the same rows as the relaxed text, edge values and all" {
	qs "$SRC" <<'SQL'
CREATE TABLE edge (id int PRIMARY KEY, i8 bigint, i4 integer, i2 smallint, f8 double precision,
	n numeric, tz timestamptz, ts timestamp, d date, j jsonb, t text);
INSERT INTO edge VALUES
 (1, -9223372036854775808, -2147483648, -32768, '-0', '12345678901234567890.123456789012345678901234567890',
  '0001-01-01 00:00:00.000001+00', '0001-01-01 00:00:00.000001', '0001-01-01',
  '{"a": 9223372036854775807, "b": -0.5, "c": [1.5, -2, 123456789012345678901234567890.5], "s": "{\"$numberLong\": \"1\"}"}',
  E'tab\there "quote" back\\slash\nnew line é ☃ {"$numberLong":"7"}'),
 (2, 9223372036854775807, 2147483647, 32767, 'NaN', '-0.000000000000000000001',
  '9999-12-31 23:59:59.999999+00', '9999-12-31 23:59:59.999999', '9999-12-31',
  '{"deep": {"x": [{"y": -9223372036854775808}, 0.1, 1e300, 2.5e-300]}}', '{"$numberDouble":"NaN"}'),
 (3, 0, 0, 0, 'Infinity', 'NaN', '1969-12-31 23:59:59.999999+00', '1969-12-31 23:59:59.999999',
  '1969-12-31', '[1, 2.25, "x"]', ''),
 (4, -1, -1, -1, '-Infinity', '0', '1900-02-28 12:00:00.5+00', '1900-02-28 12:00:00.5', '1900-02-28',
  '{}', 'plain'),
 (5, 1, 1, 1, '4.9e-324', '1e-30', '1970-01-01 00:00:00+00', '1970-01-01 00:00:00', '1970-01-01',
  '{"n": 12345678901234567}', NULL),
 (6, 2, 2, 2, '2.2250738585072014e-308', '-1', '2024-02-29 23:59:59.123456+00', '2024-02-29 23:59:59.123456',
  '2024-02-29', '0', 'x'),
 (7, 3, 3, 3, '1.7976931348623157e308', '3.5', NULL, NULL, NULL, NULL, NULL),
 (8, 4, 4, 4, '0.1', '4', '2020-01-01 00:00:17.70777+00', '2020-01-01 00:00:17.70777', '2020-01-01',
  '{"ratio": 0.0472, "logins": 1, "tags": ["t1"]}', 'y'),
 (9, 5, 5, 5, '-2.5e-310', '5', '0100-06-15 01:02:03.000004+00', '0100-06-15 01:02:03.000004',
  '0100-06-15', '"str"', 'z');
SQL
	mig-backup -q "$BASE/$SRC" -o src.mig
	# the archive holds the wrappers this is about
	mig-restore src.mig --cat public.edge --canonical >canonical.ndjson
	for w in '"$numberLong"' '"$numberInt"' '"$numberDouble":"NaN"' '"$numberDouble":"-Infinity"' \
		'"$date":{"$numberLong"'; do
		grep -qF "$w" canonical.ndjson || fail "no $w in the archive"
	done
	has_native src.mig || pg_dump -s -d "$SRC" | qs "$DST" >/dev/null
	run --separate-stderr mig-restore src.mig "$BASE/$DST"
	status_is 0
	stderr_has "9 read, 9 inserted"
	# the old way: relaxed NDJSON, loaded by mig-load into a table alike
	mig-restore src.mig --cat public.edge >relaxed.ndjson
	! grep -qF '"$numberLong"' relaxed.ndjson || grep -qF '"$date"' relaxed.ndjson ||
		fail "--cat wrote canonical text"
	q "$DST" "CREATE TABLE old (LIKE edge)"
	run --separate-stderr mig-load "$BASE/$DST#public.old" <relaxed.ndjson
	status_is 0
	# and the canonical text through mig-load too
	q "$DST" "CREATE TABLE canon (LIKE edge)"
	run --separate-stderr mig-load "$BASE/$DST#public.canon" <canonical.ndjson
	status_is 0
	# as text, so that -0 and 0, or 1.0 and 1 in jsonb, are told apart
	rows() {
		q "$1" "SELECT count(*) || ' ' || md5(string_agg(x::text, E'\\n' ORDER BY x.id)) FROM $2 x"
	}
	want=$(rows "$SRC" edge)
	[ "$(rows "$DST" edge)" = "$want" ] || fail "restore differs from the source"
	[ "$(rows "$DST" old)" = "$want" ] || fail "the relaxed text differs from the source"
	[ "$(rows "$DST" canon)" = "$want" ] || fail "mig-load of the canonical text differs"
}

# The primary key and unique constraints of a table the restore creates
# come after its rows (lib/backend/pg.c, create_from_native), ahead of the
# foreign keys that need them, even one of the table to itself; a mode
# that needs the key as it loads gets it first.
@test "postgres restore: keys after the data, before the foreign keys; a duplicate fails naming the key" {
	qs "$SRC" <<'EOF'
CREATE TABLE tree (id int PRIMARY KEY, parent int REFERENCES tree (id), code text UNIQUE);
CREATE UNIQUE INDEX tree_lower ON tree (lower(code));
INSERT INTO tree VALUES (1, NULL, 'a'), (2, 1, 'b'), (3, 2, 'c'), (4, 2, 'd');
CREATE TABLE dup (id int, v text);
INSERT INTO dup VALUES (1, 'x'), (1, 'y'), (2, 'z');
EOF
	mig-backup -q "$BASE/$SRC" -o src.mig
	has_native src.mig || skip "the PostgreSQL backend writes no native definition"
	run --separate-stderr mig-restore src.mig "$BASE/$DST" --atomic
	status_is 0
	same_constraints "$SRC" "$DST"
	same_fingerprint "$SRC" "$DST"
	# upsert needs the key while it loads: made before the rows
	q "$DST" "DROP TABLE tree, dup"
	run --separate-stderr mig-restore src.mig "$BASE/$DST" --only public.tree --mode upsert --key id
	status_is 0
	same_constraints "$SRC" "$DST" tree
	[ "$(fingerprint "$SRC" | grep tree)" = "$(fingerprint "$DST")" ] || fail "the rows of tree differ"
	# an archive whose definition of dup has a key its rows break (made
	# to agree with its checksums): the rows go in, the key fails by name
	python3 - <<'EOF'
import copy, hashlib, io, json, tarfile
src = tarfile.open('src.mig')
members = [(m, src.extractfile(m).read()) for m in src.getmembers()]
d = dict((m.name, data) for m, data in members)
schema = json.loads(d['schema/public.dup.json'])
schema['x-mig-native']['constraints'] = [{'name': 'dup_pkey', 'type': 'primary key',
                                          'def': 'PRIMARY KEY (id)'}]
schema['x-mig-native']['primary_key'] = ['id']
d['schema/public.dup.json'] = json.dumps(schema).encode()
manifest = json.loads(d['manifest.json'])
for c in manifest['collections']:
    if c['name'] == 'public.dup':
        c['schema_sha256'] = hashlib.sha256(d['schema/public.dup.json']).hexdigest()
d['manifest.json'] = json.dumps(manifest).encode()
d['manifest.json.sha256'] = (hashlib.sha256(d['manifest.json']).hexdigest() + '  manifest.json\n').encode()
out = tarfile.open('key.mig', 'w', format=tarfile.PAX_FORMAT)
for m, _ in members:
    m = copy.copy(m)
    m.size = len(d[m.name])
    out.addfile(m, io.BytesIO(d[m.name]))
out.close()
EOF
	q "$DST" "DROP TABLE tree"
	run --separate-stderr mig-restore key.mig "$BASE/$DST" --only public.dup
	status_is 3
	stderr_has "dup_pkey"
	stderr_has "Key (id)=(1)"
	[ "$(q "$DST" "SELECT count(*) FROM dup")" = 3 ] || fail "the rows are not there"
	# under --atomic the table is not left behind
	q "$DST" "DROP TABLE dup"
	run --separate-stderr mig-restore key.mig "$BASE/$DST" --only public.dup --atomic
	status_is 3
	stderr_has "dup_pkey"
	[ -z "$(tables "$DST")" ] || fail "--atomic left $(tables "$DST")"
}
