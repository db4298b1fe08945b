# usage: awk -v n=COUNT -f tests/bench/stream/gen.awk > big.ndjson
#
# COUNT NDJSON records of about 235 bytes, the shape of an application's
# table: integers, strings, a boolean, a float, a {"$date"} and a
# {"$numberDecimal"} wrapper, an array and a nested object.  Deterministic
# for one awk (srand(42)); mawk and gawk draw different numbers.
BEGIN {
	srand(42)
	split("alpha beta gamma delta epsilon zeta eta theta iota kappa", words, " ")
	split("Lyon Paris Berlin Madrid Lisbon Oslo Vienna Prague Dublin Rome", cities, " ")
	for (i = 1; i <= n; i++) {
		ntags = 1 + int(rand() * 2)
		tags = "\"" words[1 + int(rand() * 10)] "\""
		for (t = 2; t <= ntags; t++)
			tags = tags ",\"" words[1 + int(rand() * 10)] "\""
		printf "{\"id\":%d,\"name\":\"user-%d\",\"email\":\"u%d@ex.org\",\"active\":%s,\"score\":%.2f,\"created\":{\"$date\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"},\"balance\":{\"$numberDecimal\":\"%d.%02d\"},\"tags\":[%s],\"address\":{\"city\":\"%s\",\"zip\":\"%05d\"}}\n",
			i, i, i, (rand() < 0.5 ? "true" : "false"), rand() * 100,
			2019 + int(rand() * 6), 1 + int(rand() * 12), 1 + int(rand() * 28),
			int(rand() * 24), int(rand() * 60), int(rand() * 60), int(rand() * 1000),
			int(rand() * 100000), int(rand() * 100), tags,
			cities[1 + int(rand() * 10)], int(rand() * 100000)
	}
}
