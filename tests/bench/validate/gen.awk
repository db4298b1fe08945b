# usage: awk -v n=COUNT -f tests/bench/validate/gen.awk > records.ndjson
#
# COUNT plain-JSON records (no Extended JSON wrappers, so that ajv reads the
# same data) of 20 fields, the shape schema.json describes: integers,
# strings with formats (uuid, email, date-time, date, ipv4, uri) and
# patterns, an enum, a number with multipleOf, an array and a nested
# object.  Every 1000th record breaks one rule, so that both validators
# also take their error path.  Deterministic for one awk (srand(7)).
function hex(k,   s, j) {
	s = ""
	for (j = 0; j < k; j++)
		s = s substr("0123456789abcdef", 1 + int(rand() * 16), 1)
	return s
}
BEGIN {
	srand(7)
	split("active suspended closed pending", st, " ")
	split("FR DE ES PT NO AT CZ IE IT GB", cc, " ")
	split("alpha beta gamma delta epsilon zeta eta theta iota kappa", words, " ")
	split("Lyon Paris Berlin Madrid Lisbon Oslo Vienna Prague Dublin Rome", cities, " ")
	for (i = 1; i <= n; i++) {
		ntags = 1 + int(rand() * 3)
		tags = "\"" words[1 + int(rand() * 5)] "\""
		for (t = 2; t <= ntags; t++)
			tags = tags ",\"" words[5 + t] "\""
		qty = int(rand() * 1000)
		if (i % 1000 == 0)
			qty = -1
		printf "{\"id\":%d,\"uuid\":\"%s-%s-4%s-a%s-%s\",\"name\":\"User %d\",\"email\":\"user%d@example.org\",\"active\":%s,\"score\":%.3f,", \
			i, hex(8), hex(4), hex(3), hex(3), hex(12), i, i, (rand() < 0.5 ? "true" : "false"), rand() * 100
		printf "\"created\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\",\"birthday\":\"%04d-%02d-%02d\",\"status\":\"%s\",\"country\":\"%s\",", \
			2019 + int(rand() * 6), 1 + int(rand() * 12), 1 + int(rand() * 28), int(rand() * 24), int(rand() * 60), \
			int(rand() * 60), int(rand() * 1000), 1950 + int(rand() * 50), 1 + int(rand() * 12), 1 + int(rand() * 28), \
			st[1 + int(rand() * 4)], cc[1 + int(rand() * 10)]
		printf "\"phone\":\"+33%09d\",\"balance\":%d.%02d,\"tags\":[%s],\"address\":{\"street\":\"%d rue %s\",\"city\":\"%s\",\"zip\":\"%05d\"},", \
			int(rand() * 1000000000), int(rand() * 100000), int(rand() * 100), tags, 1 + int(rand() * 200), \
			words[1 + int(rand() * 10)], cities[1 + int(rand() * 10)], int(rand() * 100000)
		printf "\"ip\":\"10.%d.%d.%d\",\"website\":\"https://example.org/u/%d\",\"sku\":\"ABC-%04d\",\"quantity\":%d,\"version\":\"%d.%d.%d\",\"updated\":\"2024-%02d-%02dT%02d:%02d:%02dZ\"}\n", \
			int(rand() * 256), int(rand() * 256), int(rand() * 256), i, int(rand() * 10000), qty, \
			int(rand() * 10), int(rand() * 20), int(rand() * 50), 1 + int(rand() * 12), 1 + int(rand() * 28), \
			int(rand() * 24), int(rand() * 60), int(rand() * 60)
	}
}
