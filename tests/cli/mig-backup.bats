#!/usr/bin/env bats
# mig-backup(1) and mig-restore(1) as a user meets them, on SQLite
# databases and files: each case is a command line, what it prints, what
# it leaves behind, and its exit status.  Archives are inspected with GNU
# tar, zstd and python3's tarfile, independently of mig; databases with the
# sqlite3 CLI.

load helpers

# A database with several tables: types, a primary key, a unique
# constraint, an index, a foreign key, an empty table, an odd name.
make_db() {
	sql "$1" "
	CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE,
		created TIMESTAMP, balance DECIMAL TEXT, score REAL, big BIGINT, avatar BLOB,
		prefs JSON TEXT);
	CREATE INDEX users_name ON users (name);
	CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id),
		total REAL NOT NULL, note TEXT);
	CREATE TABLE empty (a INTEGER, b TEXT);
	CREATE TABLE \"odd name/..\" (x TEXT);
	INSERT INTO users VALUES
		(1, 'Zoë', 'z@example.org', '2024-05-01T10:00:00.123Z', '12.50', 1.5,
		 9007199254740993, x'00ff10', '{\"theme\":\"dark\",\"n\":[1,2.5]}'),
		(2, 'Ana', NULL, NULL, '0.00', 2.0, -3, NULL, NULL),
		(3, 'Ewa \"quoted\"', 'e@example.org', '1969-12-31T23:59:59Z', NULL, 1e300, 0, x'', '[]');
	INSERT INTO orders VALUES (10, 1, 9.99, 'first'), (11, 1, 0.5, NULL), (12, 3, 100, 'x');
	INSERT INTO \"odd name/..\" VALUES ('dots');"
}

# dump DB: every table's rows, as mig-extract sees them, sorted.
dump() {
	local t
	for t in $(sql "$1" "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name" | tr ' ' '%'); do
		t=${t//%/ }
		echo "== $t"
		mig-extract "sqlite:$1#$t" --canonical | jq -S -c . | sort
	done
}

# schema_of DB: the SQL of every table and index.
schema_of() {
	sql "$1" "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"
}

# member_offset ARCHIVE MEMBER: where MEMBER's data starts in the file.
member_offset() {
	python3 -c 'import sys, tarfile
t = tarfile.open(sys.argv[1]); m = t.getmember(sys.argv[2])
print(m.offset_data + m.size // 2)' "$1" "$2"
}

# nothing_written DB: DB does not exist (a restore refused before writing).
nothing_written() {
	[ ! -e "$1" ] || fail "$1 was created"
}

setup_file() {
	:
}

# ------------------------------------------------------------------ common

@test "mig-backup --help and mig-restore --help: usage on stdout, exit 0" {
	run --separate-stderr mig-backup --help
	status_is 0
	stdout_has "usage: mig-backup [options] LOCATOR -o FILE"
	for o in --output --only --exclude --level --threads --list --verify --prune --keep-last \
		--keep-days --dry-run --report --quiet; do
		stdout_has "$o"
	done
	run --separate-stderr mig-restore --help
	status_is 0
	stdout_has "usage: mig-restore [options] FILE LOCATOR"
	for o in --only --rename --drop --mode --key --on-conflict --batch-size --reject \
		--max-errors --atomic --cat --canonical --list --dry-run; do
		stdout_has "$o"
	done
}

@test "mig-backup --version: mig and library versions" {
	run --separate-stderr mig-backup --version
	status_is 0
	[[ "${lines[0]}" =~ ^mig-backup\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "first line is not 'mig-backup VERSION'"
	stdout_matches '^libzstd '
}

@test "usage errors exit 2" {
	run --separate-stderr mig-backup sqlite:x.db
	usage_error mig-backup
	stderr_has "-o FILE is needed"
	run --separate-stderr mig-backup
	usage_error mig-backup
	run --separate-stderr mig-backup --prune .
	usage_error mig-backup
	run --separate-stderr mig-backup --list . --verify x
	usage_error mig-backup
	run --separate-stderr mig-backup sqlite:x.db -o x.mig --level 99
	usage_error mig-backup
	run --separate-stderr mig-restore x.mig
	usage_error mig-restore
	run --separate-stderr mig-restore x.mig sqlite:y.db --mode upsert
	usage_error mig-restore
	run --separate-stderr mig-restore x.mig sqlite:y.db --canonical
	usage_error mig-restore
}

# ------------------------------------------------------------------ round trip

@test "backup and restore: the same rows and the same schema" {
	make_db app.db
	run --separate-stderr mig-backup sqlite:app.db -o app.mig
	status_is 0
	stderr_matches '^mig-backup: sqlite:app.db: 4 collections, 7 records, .* -> app.mig'
	[ -s app.mig ] || fail "no archive"
	run --separate-stderr mig-restore app.mig sqlite:new.db
	status_is 0
	stderr_matches '^mig-restore: app.mig: 4 collections, 7 read, 7 inserted, 0 updated, 0 skipped, 0 rejected'
	dump app.db >a.txt
	dump new.db >b.txt
	diff a.txt b.txt || fail "rows differ"
	grep -q '"big":{"$numberLong":"9007199254740993"}' b.txt || fail "int64 lost"
	diff <(schema_of app.db) <(schema_of new.db) || fail "schemas differ"
	# the empty table is there too
	[ "$(rows new.db empty)" = 0 ] || fail "empty table missing"
}

@test "the archive is a plain tar: manifest first, data readable with tar and zstd" {
	make_db app.db
	mig-backup -q sqlite:app.db -o app.mig
	run tar -tf app.mig
	status_is 0
	[ "${lines[0]}" = manifest.json ] || fail "manifest.json is not first"
	stdout_has "data/users.ndjson.zst"
	stdout_has "schema/users.json"
	stdout_has "data/odd%20name%2F...ndjson.zst"
	tar -xOf app.mig data/users.ndjson.zst | zstd -d >users.ndjson
	[ "$(wc -l <users.ndjson)" = 3 ] || fail "3 users expected"
	# canonical Extended JSON: int32, int64 and double stay apart
	grep -q '"id":{"$numberInt":"1"}' users.ndjson || fail "no canonical int"
	grep -q '"big":{"$numberLong":"9007199254740993"}' users.ndjson || fail "no canonical long"
	grep -q '"score":{"$numberDouble":"1.5"}' users.ndjson || fail "no canonical double"
	tar -xOf app.mig manifest.json >m.json
	jq_true m.json '.format == "mig-archive" and .version == 1 and .backend == "sqlite"'
	jq_true m.json '.source == "sqlite:app.db" and .consistent == true'
	jq_true m.json '[.collections[].name] == ["empty", "odd name/..", "orders", "users"]'
	jq_true m.json '.collections[] | select(.name == "users") | .records == 3 and .data == "data/users.ndjson.zst" and .schema == "schema/users.json"'
	sha=$(sha256sum users.ndjson | cut -d' ' -f1)
	jq_true m.json ".collections[] | select(.name == \"users\") | .sha256 == \"$sha\""
	jq_true m.json ".collections[] | select(.name == \"users\") | .bytes == $(wc -c <users.ndjson)"
	tar -xOf app.mig schema/users.json >s.json
	jq_true s.json '.properties.name.type == "string"'
	jq_true s.json '.["x-mig-native"].table | startswith("CREATE TABLE users")'
	jq_true s.json '.["x-mig-native"].indexes[0].name == "users_name"'
	tar -xOf app.mig schema/orders.json >o.json
	jq_true o.json '.["x-mig-native"].depends_on == ["users"]'
}

@test "-o -: a backup streams to a restore" {
	make_db app.db
	run --separate-stderr bash -c 'set -o pipefail; mig-backup sqlite:app.db -o - | mig-restore - sqlite:new.db'
	status_is 0
	diff <(dump app.db) <(dump new.db) || fail "rows differ"
	run --separate-stderr bash -c 'mig-backup -q sqlite:app.db -o - | tar -tf -'
	status_is 0
	stdout_has manifest.json
}

@test "-o -: a reader that goes away makes the backup fail (exit 3)" {
	sql big.db "CREATE TABLE t (a TEXT); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL
		SELECT x + 1 FROM c WHERE x < 100000) INSERT INTO t SELECT hex(randomblob(40)) FROM c"
	run --separate-stderr bash -c 'mig-backup sqlite:big.db -o - | head -c 1000 >/dev/null; exit ${PIPESTATUS[0]}'
	status_is 3
	stderr_has "the reader went away before the archive was complete"
}

@test "a backup into an existing file replaces it only when complete" {
	make_db app.db
	mig-backup -q sqlite:app.db -o app.mig
	cp app.mig before.mig
	run --separate-stderr mig-backup sqlite:missing.db -o app.mig
	status_is 3
	cmp app.mig before.mig || fail "the old archive was touched"
	[ -z "$(ls -A | grep -v -e '^app' -e '^before.mig$' -e '^separate-stderr')" ] ||
		{ ls -la; fail "something was left behind"; }
	run --separate-stderr mig-backup sqlite:missing.db -o new.mig
	status_is 3
	[ ! -e new.mig ] || fail "a failed backup left an archive"
}

@test "SOURCE_DATE_EPOCH: the same data makes the same archive" {
	make_db app.db
	SOURCE_DATE_EPOCH=1714557600 mig-backup -q sqlite:app.db -o a.mig
	SOURCE_DATE_EPOCH=1714557600 mig-backup -q sqlite:app.db -o b.mig
	cmp a.mig b.mig || fail "archives differ"
	tar -xOf a.mig manifest.json | jq -e '.created == "2024-05-01T10:00:00Z"' >/dev/null ||
		fail "created is not SOURCE_DATE_EPOCH"
}

@test "--only and --exclude choose collections; a #fragment names one" {
	make_db app.db
	mig-backup -q sqlite:app.db -o a.mig --only users,orders
	[ "$(tar -tf a.mig | grep -c '^data/')" = 2 ] || fail "two collections expected"
	mig-backup -q sqlite:app.db -o b.mig --exclude empty --exclude 'odd name/..'
	cmp <(tar -tf a.mig) <(tar -tf b.mig) || fail "--exclude chose differently"
	mig-backup -q 'sqlite:app.db#orders' -o c.mig
	[ "$(tar -tf c.mig | grep '^data/')" = data/orders.ndjson.zst ] || fail "one collection expected"
	run --separate-stderr mig-backup sqlite:app.db -o d.mig --only nope
	status_is 2
	stderr_has "--only nope: no such collection"
	[ ! -e d.mig ] || fail "an archive was written"
}

@test "--level and --threads: smaller or faster, the same data" {
	make_db app.db
	mig-backup -q sqlite:app.db -o a.mig --level 1 --threads 0
	mig-backup -q sqlite:app.db -o b.mig --level 19 --threads 2
	mig-restore -q a.mig sqlite:a.db
	mig-restore -q b.mig sqlite:b.db
	diff <(dump a.db) <(dump b.db) || fail "rows differ"
}

# ------------------------------------------------------------------ restore

@test "restore reads the same values as --cat: edge values through the relaxed fast path" {
	printf '%s\n' \
		'{"id":1,"i":{"$numberInt":"-2147483648"},"l":{"$numberLong":"-9223372036854775808"},"d":{"$numberDouble":"-0.0"}}' \
		'{"id":2,"i":2147483647,"l":{"$numberLong":"9223372036854775807"},"d":{"$numberDouble":"NaN"}}' \
		'{"id":3,"i":0,"l":1,"d":{"$numberDouble":"-Infinity"},"t":{"$date":"1969-07-20T20:17:40Z"}}' \
		'{"id":4,"t":{"$date":"1900-01-01T00:00:00.000001Z"},"j":{"a":[1,2.5,{"$numberLong":"5"}],"s":"{\"$numberInt\":\"1\"}"}}' \
		'{"id":5,"t":{"$date":"9999-12-31T23:59:59.999Z"},"j":"x\\\"{\"","d":1e300}' \
		'{"id":6,"t":{"$date":"1970-01-01T00:00:00Z"},"j":[],"d":0.1}' >edge.ndjson
	mig-load -q 'sqlite:e.db#edge' --create --key id -i edge.ndjson
	mig-backup -q sqlite:e.db -o e.mig
	mig-restore -q e.mig --cat edge >cat.ndjson
	mig-restore -q e.mig out.ndjson
	cmp cat.ndjson out.ndjson || { diff cat.ndjson out.ndjson >&2; fail "restore and --cat differ"; }
	mig-restore -q e.mig sqlite:back.db
	diff <(mig-extract sqlite:e.db#edge --canonical) <(mig-extract sqlite:back.db#edge --canonical) ||
		fail "the table differs"
}

@test "--rename restores a collection under another name, with its indexes" {
	make_db app.db
	mig-backup -q sqlite:app.db -o app.mig
	run --separate-stderr mig-restore app.mig sqlite:app.db --only users --rename users=people
	status_is 0
	stderr_has "sqlite:app.db#people: 3 read, 3 inserted"
	diff <(mig-extract sqlite:app.db#users | sort) <(mig-extract sqlite:app.db#people | sort) ||
		fail "rows differ"
	sql app.db "SELECT sql FROM sqlite_master WHERE name = 'people_name'" | grep -q 'ON "people"' ||
		fail "the index was not made for people"
	run --separate-stderr mig-restore app.mig sqlite:app.db --rename nope=x
	status_is 2
}

@test "restoring into existing tables: duplicates are rejected; --drop starts anew" {
	make_db app.db
	mig-backup -q sqlite:app.db -o app.mig
	mig-restore -q app.mig sqlite:new.db --only users
	run --separate-stderr mig-restore app.mig sqlite:new.db --only users
	status_is 1
	stderr_has "UNIQUE constraint failed"
	run --separate-stderr mig-restore app.mig sqlite:new.db --only users --on-conflict skip
	status_is 0
	stderr_has "3 read, 0 inserted, 0 updated, 3 skipped"
	sql new.db "DELETE FROM users WHERE id = 1; INSERT INTO users (id, name) VALUES (99, 'x')"
	run --separate-stderr mig-restore app.mig sqlite:new.db --only users --drop
	status_is 0
	diff <(mig-extract sqlite:app.db#users) <(mig-extract sqlite:new.db#users) || fail "not restored anew"
}

@test "--reject with several collections: one reject file per collection" {
	make_db app.db
	mig-backup -q sqlite:app.db -o app.mig
	mig-restore -q app.mig sqlite:new.db
	run --separate-stderr mig-restore app.mig sqlite:new.db --only users,orders --reject rj.ndjson
	status_is 0
	[ "$(wc -l <rj.ndjson.users)" = 3 ] || fail "rj.ndjson.users"
	[ "$(wc -l <rj.ndjson.orders)" = 3 ] || fail "rj.ndjson.orders"
	jq_true rj.ndjson.users '.stage == "mig-restore" and (.error | test("UNIQUE"))'
}

@test "--dry-run verifies and counts, writes nothing" {
	make_db app.db
	mig-backup -q sqlite:app.db -o app.mig
	run --separate-stderr mig-restore app.mig sqlite:new.db --dry-run
	status_is 0
	stderr_has "dry run: 4 collections, 7 read, 7 inserted"
	nothing_written new.db
}

@test "--cat writes one collection: relaxed by default, --canonical as archived" {
	make_db app.db
	mig-backup -q sqlite:app.db -o app.mig
	run --separate-stderr mig-restore app.mig --cat users
	status_is 0
	[ "${#lines[@]}" = 3 ] || fail "three lines expected"
	stdout_has '"id":1,'
	stdout_has '"big":9007199254740993'
	mig-extract sqlite:app.db#users >want.ndjson
	same_json_text "$output" want.ndjson
	run --separate-stderr mig-restore app.mig --cat users --canonical
	status_is 0
	cmp <(printf '%s\n' "$output") <(tar -xOf app.mig data/users.ndjson.zst | zstd -d) ||
		fail "--canonical is not the archived text"
	run --separate-stderr mig-restore app.mig --cat 'odd name/..' --plain
	status_is 0
	[ "$output" = '{"x":"dots"}' ] || fail "odd name"
	run --separate-stderr mig-restore app.mig --cat nope
	status_is 2
	stdout_empty
	run --separate-stderr bash -c 'mig-restore app.mig --cat users | head -n 1'
	status_is 0
}

@test "mig-restore --list prints the manifest" {
	make_db app.db
	SOURCE_DATE_EPOCH=1714557600 mig-backup -q sqlite:app.db -o app.mig
	run --separate-stderr mig-restore app.mig --list
	status_is 0
	stdout_matches '^created +2024-05-01T10:00:00Z$'
	stdout_matches '^source +sqlite:app.db$'
	stdout_matches '^backend +sqlite$'
	stdout_matches '^consistent +yes$'
	stdout_matches '^users +3 +[0-9]+ +[0-9]+$'
	stdout_matches '^odd name/\.\. +1 '
}

@test "a file is one collection: backup and restore of an NDJSON file" {
	records 50 >in.ndjson
	run --separate-stderr mig-backup in.ndjson -o f.mig
	status_is 0
	stderr_has "1 collection, 50 records"
	run --separate-stderr mig-restore f.mig out.ndjson
	status_is 0
	cmp in.ndjson out.ndjson || fail "the file differs"
	make_db app.db
	mig-backup -q sqlite:app.db -o app.mig
	run --separate-stderr mig-restore app.mig out2.ndjson
	status_is 2
	stderr_has "choose one with --only"
	mig-restore -q app.mig out2.ndjson --only orders
	[ "$(wc -l <out2.ndjson)" = 3 ] || fail "three orders expected"
}

# ------------------------------------------------------------------ damage

@test "a flipped byte in a data member: exit 5, nothing written" {
	make_db app.db
	mig-backup -q sqlite:app.db -o app.mig
	cp app.mig bad.mig
	off=$(member_offset app.mig data/users.ndjson.zst)
	printf '\x5a' | dd of=bad.mig bs=1 seek="$off" conv=notrunc 2>/dev/null
	cmp -s app.mig bad.mig && fail "nothing flipped"
	run --separate-stderr mig-backup --verify bad.mig
	status_is 5
	stderr_has "bad.mig: corrupt: data/users.ndjson.zst (collection users)"
	run --separate-stderr mig-restore bad.mig sqlite:new.db
	status_is 5
	nothing_written new.db
	# an existing target is left as it was
	mig-restore -q app.mig sqlite:old.db --only orders
	cp old.db old.copy
	run --separate-stderr mig-restore bad.mig sqlite:old.db --drop
	status_is 5
	cmp old.db old.copy || fail "the target changed"
	run --separate-stderr mig-restore bad.mig --cat users
	status_is 5
	stdout_empty
	# the other collections still read
	run --separate-stderr mig-restore bad.mig --cat orders
	status_is 0
}

@test "a truncated archive: exit 5, nothing written" {
	make_db app.db
	mig-backup -q sqlite:app.db -o app.mig
	size=$(stat -c %s app.mig)
	for cut in 100 600 $((size / 2)) $((size - 1024)) $((size - 1)); do
		head -c "$cut" app.mig >cut.mig
		run --separate-stderr mig-restore cut.mig sqlite:new.db
		status_is 5
		nothing_written new.db
		run --separate-stderr mig-backup --verify cut.mig
		status_is 5
	done
}

@test "a member named ../x, an absolute name, a link: exit 5, nothing written" {
	make_db app.db
	mig-backup -q sqlite:app.db -o app.mig
	python3 - <<'EOF'
import io, tarfile
src = tarfile.open('app.mig')
for out_name, extra in (('dotdot.mig', '../x'), ('abs.mig', '/tmp/x'), ('link.mig', 'data/l')):
    out = tarfile.open(out_name, 'w', format=tarfile.PAX_FORMAT)
    for m in src.getmembers():
        out.addfile(m, src.extractfile(m))
    ti = tarfile.TarInfo(extra)
    if out_name == 'link.mig':
        ti.type = tarfile.SYMTYPE
        ti.linkname = '/etc/passwd'
        out.addfile(ti)
    else:
        ti.size = 2
        out.addfile(ti, io.BytesIO(b'hi'))
    out.close()
EOF
	for f in dotdot.mig abs.mig link.mig; do
		run --separate-stderr mig-restore "$f" sqlite:new.db
		status_is 5
		nothing_written new.db
	done
	run --separate-stderr mig-backup --verify dotdot.mig
	status_is 5
	stderr_has "member ../x has an unsafe name"
	run --separate-stderr mig-backup --verify link.mig
	stderr_has "symbolic link"
	[ ! -e x ] && [ ! -e ../x ] || fail "something was extracted"
}

# rewrite ARCHIVE OUT CHANGE [seal|unseal]: a copy of ARCHIVE with its
# manifest changed by CHANGE (sha: orders' sha256 reversed; count: orders'
# record count one more; unlisted: orders left out); "seal" recomputes
# manifest.json.sha256 so that the manifest agrees with it, "unseal" drops
# that member (as in an archive made before it was written), "garble"
# writes something else in it; without any the old member stays, and no
# longer agrees.
rewrite() {
	python3 - "$@" <<'EOF'
import copy, hashlib, io, json, sys, tarfile
src_name, out_name, change, how = (sys.argv[1:] + [''])[:4]
src = tarfile.open(src_name)
def sha(j):
    for c in j['collections']:
        if c['name'] == 'orders':
            c['sha256'] = c['sha256'][::-1]
def count(j):
    for c in j['collections']:
        if c['name'] == 'orders':
            c['records'] += 1
def unlisted(j):
    j['collections'] = [c for c in j['collections'] if c['name'] != 'orders']
def none(j):
    pass
out = tarfile.open(out_name, 'w', format=tarfile.PAX_FORMAT)
text = None
for m in src.getmembers():
    data = src.extractfile(m).read()
    m = copy.copy(m)
    if m.name == 'manifest.json':
        j = json.loads(data)
        globals()[change](j)
        data = text = json.dumps(j).encode()
    elif m.name == 'manifest.json.sha256':
        if how == 'unseal':
            continue
        if how == 'seal':
            data = (hashlib.sha256(text).hexdigest() + '  manifest.json\n').encode()
        if how == 'garble':
            data = b'not a checksum\n'
    m.size = len(data)
    out.addfile(m, io.BytesIO(data))
out.close()
EOF
}

@test "a manifest whose checksum does not match: exit 5, nothing written" {
	make_db app.db
	mig-backup -q sqlite:app.db -o app.mig
	tar -xf app.mig manifest.json manifest.json.sha256
	sha256sum -c manifest.json.sha256 >/dev/null || fail "manifest.json.sha256 is not as sha256sum -c reads it"
	for c in sha count unlisted; do
		rewrite app.mig $c.mig $c
		run --separate-stderr mig-restore $c.mig sqlite:new.db
		status_is 5
		stderr_has "$c.mig: corrupt: manifest.json: SHA-256 mismatch"
		nothing_written new.db
		run --separate-stderr mig-backup --verify $c.mig
		status_is 5
	done
	rewrite app.mig garbled.mig none garble
	run --separate-stderr mig-restore garbled.mig sqlite:new.db
	status_is 5
	stderr_has "garbled.mig: corrupt: manifest.json.sha256 is not a SHA-256 line for manifest.json"
	nothing_written new.db
	# without manifest.json.sha256, every collection is decompressed and
	# checked before anything is written
	rewrite app.mig sha.mig sha unseal
	run --separate-stderr mig-restore sha.mig sqlite:new.db
	status_is 5
	stderr_has "SHA-256 mismatch"
	nothing_written new.db
	rewrite app.mig count.mig count unseal
	run --separate-stderr mig-restore count.mig sqlite:new.db --only users
	status_is 5
	stderr_has "holds 3 records, the manifest says 4"
	nothing_written new.db
	rewrite app.mig unlisted.mig unlisted unseal
	run --separate-stderr mig-restore unlisted.mig sqlite:new.db
	status_is 5
	stderr_has "is not in the manifest"
	nothing_written new.db
}

@test "a manifest made to agree with its checksum but not with the data: exit 5 while loading" {
	make_db app.db
	mig-backup -q sqlite:app.db -o app.mig
	# the data members match the manifest's checksums of them as stored,
	# so the text's own checksum and count are what fail, as it is loaded
	rewrite app.mig count.mig count seal
	rewrite app.mig sha.mig sha seal
	run --separate-stderr mig-backup --verify count.mig
	status_is 5
	stderr_has "data/orders.ndjson.zst (collection orders) holds 3 records, the manifest says 4"
	run --separate-stderr mig-restore count.mig sqlite:new.db --only orders --atomic
	status_is 5
	stderr_has "count.mig: corrupt: data/orders.ndjson.zst (collection orders) holds 3 records, the manifest says 4"
	[ "$(sql new.db "SELECT count(*) FROM sqlite_master WHERE name = 'orders'")" = 0 ] ||
		fail "--atomic left the table orders"
	run --separate-stderr mig-restore sha.mig sqlite:new2.db --only orders --atomic --batch-size 1
	status_is 5
	stderr_has "(collection orders): SHA-256 mismatch"
	[ "$(sql new2.db "SELECT count(*) FROM sqlite_master WHERE name = 'orders'")" = 0 ] ||
		fail "--atomic left the table orders"
	# the collections before the one that failed stay loaded without --atomic
	run --separate-stderr mig-restore sha.mig sqlite:new3.db
	status_is 5
	[ "$(sql new3.db "SELECT count(*) FROM users")" = 3 ] || fail "users was not loaded"
	# --cat writes the text as it checks it, and says so at its end
	run --separate-stderr mig-restore count.mig --cat orders
	status_is 5
	stderr_has "holds 3 records, the manifest says 4"
	run --separate-stderr mig-restore count.mig --cat users
	status_is 0
}

@test "not an archive: exit 5" {
	echo hello >x.mig
	run --separate-stderr mig-restore x.mig sqlite:new.db
	status_is 5
	nothing_written new.db
	run --separate-stderr mig-restore missing.mig sqlite:new.db
	status_is 3
}

# ------------------------------------------------------------------ a directory of backups

# backup_at DAY: a backup of app.db made at 2024-05-DAY 10:00 UTC (its
# manifest time and its mtime), as bk/app-DAY.mig.
backup_at() {
	local t
	t=$(date -u -d "2024-05-$1 10:00:00" +%s)
	SOURCE_DATE_EPOCH=$t mig-backup -q sqlite:app.db -o "bk/app-$1.mig"
	touch -d "@$t" "bk/app-$1.mig"
}

@test "--verify: ok, with counts" {
	make_db app.db
	mig-backup -q sqlite:app.db -o app.mig
	run --separate-stderr mig-backup --verify app.mig
	status_is 0
	[ "$output" = "app.mig: ok: 4 collections, 7 records" ] || fail "unexpected output"
}

@test "--list DIR: the backups, oldest first; other files left out" {
	make_db app.db
	mkdir bk
	backup_at 03
	backup_at 01
	backup_at 02
	echo notes >bk/README
	cp bk/app-01.mig bk/.app-04.mig.tmp.123
	run --separate-stderr mig-backup --list bk
	status_is 0
	[ "${#lines[@]}" = 4 ] || fail "a header and three backups expected"
	[[ "${lines[1]}" =~ ^2024-05-01T10:00:00Z\ +app-01.mig\ +4\ +7\ +.*sqlite:app.db$ ]] || fail "line 1"
	[[ "${lines[2]}" == 2024-05-02T10:00:00Z*app-02.mig* ]] || fail "line 2"
	[[ "${lines[3]}" == 2024-05-03T10:00:00Z*app-03.mig* ]] || fail "line 3"
	has_not "$output" README
	has_not "$output" tmp
}

@test "--prune --keep-last N keeps the N newest and says what it deletes" {
	make_db app.db
	mkdir bk
	for d in 01 02 03 04 05; do backup_at $d; done
	run --separate-stderr mig-backup --prune bk --keep-last 2 --dry-run
	status_is 0
	[ "${#lines[@]}" = 3 ] || fail "three deletions expected"
	stdout_has "would delete app-01.mig"
	stdout_has "would delete app-03.mig"
	[ "$(ls bk | wc -l)" = 5 ] || fail "--dry-run deleted something"
	run --separate-stderr mig-backup --prune bk --keep-last 2
	status_is 0
	stdout_has "delete app-02.mig (created 2024-05-02T10:00:00Z)"
	[ "$(ls bk)" = "$(printf 'app-04.mig\napp-05.mig')" ] || { ls bk; fail "wrong ones kept"; }
}

@test "--prune --keep-days D keeps what is younger; by the manifest's time" {
	make_db app.db
	mkdir bk
	for d in 01 10 20 28; do backup_at $d; done
	# the files' times say otherwise: the manifests rule
	touch bk/app-01.mig
	SOURCE_DATE_EPOCH=$(date -u -d '2024-05-30 10:00:00' +%s) run --separate-stderr \
		mig-backup --prune bk --keep-days 15
	status_is 0
	[ "$(ls bk)" = "$(printf 'app-20.mig\napp-28.mig')" ] || { ls bk; fail "wrong ones kept"; }
	# both rules: kept when either keeps it
	for d in 01 10; do backup_at $d; done
	SOURCE_DATE_EPOCH=$(date -u -d '2024-05-30 10:00:00' +%s) run --separate-stderr \
		mig-backup --prune bk --keep-days 5 --keep-last 3
	status_is 0
	[ "$(ls bk)" = "$(printf 'app-10.mig\napp-20.mig\napp-28.mig')" ] || { ls bk; fail "wrong ones kept"; }
}

@test "--prune never deletes the newest backup that verifies" {
	make_db app.db
	mkdir bk
	for d in 01 02 03; do backup_at $d; done
	# the newest is damaged
	off=$(member_offset bk/app-03.mig data/users.ndjson.zst)
	printf '\x5a' | dd of=bk/app-03.mig bs=1 seek="$off" conv=notrunc 2>/dev/null
	run --separate-stderr mig-backup --prune bk --keep-last 1
	status_is 0
	stdout_has "delete app-01.mig"
	[ "$(ls bk)" = "$(printf 'app-02.mig\napp-03.mig')" ] || { ls bk; fail "the newest good one went"; }
	# keep nothing by the rules: the newest good one stays all the same
	SOURCE_DATE_EPOCH=$(date -u -d '2025-01-01' +%s) run --separate-stderr \
		mig-backup --prune bk --keep-days 1
	status_is 0
	[ "$(ls bk)" = app-02.mig ] || { ls bk; fail "the newest good one went"; }
	# none verifies: nothing is deleted
	cp bk/app-02.mig bk/app-05.mig
	printf '\x5a' | dd of=bk/app-02.mig bs=1 seek="$off" conv=notrunc 2>/dev/null
	printf '\x5a' | dd of=bk/app-05.mig bs=1 seek="$off" conv=notrunc 2>/dev/null
	run --separate-stderr mig-backup --prune bk --keep-last 0
	status_is 5
	[ "$(ls bk | wc -l)" = 2 ] || fail "something was deleted"
}

@test "--report: a JSON summary of the backup" {
	make_db app.db
	mig-backup -q sqlite:app.db -o app.mig --report r.json
	jq_true r.json '.status == "ok" and .records == 7 and .consistent == true and (.collections | length) == 4'
	mig-restore -q app.mig sqlite:new.db --report s.json
	jq_true s.json '.status == "ok" and .inserted == 7 and (.collections | length) == 4'
}
