# gen.awk - N records of ~240 bytes for the mig-map benchmark (awk -v n=N).
BEGIN {
	srand(42)
	split("Paris Lyon Berlin Madrid Rome Oslo Lisbon Vienna", cities, " ")
	for (i = 1; i <= n; i++) {
		printf("{\"user_id\":\"%d\",\"full_name\":\"User Number %d\",\"email\":\"user%d@example.com\"," \
		       "\"amount_str\":\"%d.%02d\",\"created_ts\":%d,\"city\":\"%s\",\"zip\":\"%05d\"," \
		       "\"password\":\"%08x%08x\",\"active\":%s,\"score\":%d,\"tags\":[\"a\",\"b\"]}\n",
		       i, i, i, int(rand() * 10000), int(rand() * 100), 1600000000 + i * 7,
		       cities[1 + int(rand() * 8)], int(rand() * 100000), int(rand() * 2^31),
		       int(rand() * 2^31), (rand() < 0.9 ? "true" : "false"), int(rand() * 1000))
	}
}
