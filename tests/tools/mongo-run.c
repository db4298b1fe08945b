/*
 * mongo-run - runs database commands on a MongoDB server, for the store
 * tests (tests/stores/mongo*.bats), which have no mongo shell.
 *
 *   mongo-run URI COMMAND...
 *
 * URI names the database (mongodb://HOST:PORT/DB); each COMMAND is a JSON
 * document (Extended JSON) run with runCommand on that database, and its
 * reply printed on one line of standard output as relaxed Extended JSON.
 * A reply of a cursor command (listIndexes, listCollections) is printed
 * with all its batches gathered in cursor.firstBatch.  Exit status: 0, 1
 * when the server refused a command (its error on stderr), 2 for usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mongoc/mongoc.h>

/* Appends the rest of a cursor reply's batches to its firstBatch. */
static int drain(mongoc_client_t *cl, const char *db, bson_t *reply, bson_t *out)
{
	bson_iter_t it, c;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_t cursor, batch;
	bson_error_t e;
	char key[16];
	int i = 0, ok = 1;

	if (!bson_iter_init_find(&it, reply, "cursor") || !BSON_ITER_HOLDS_DOCUMENT(&it) ||
	    !bson_iter_recurse(&it, &c) || !bson_iter_find(&c, "firstBatch")) {
		bson_copy_to(reply, out);
		return 1;
	}
	cur = mongoc_cursor_new_from_command_reply_with_opts(cl, bson_copy(reply), NULL);
	bson_init(out);
	BSON_APPEND_DOCUMENT_BEGIN(out, "cursor", &cursor);
	BSON_APPEND_ARRAY_BEGIN(&cursor, "firstBatch", &batch);
	while (mongoc_cursor_next(cur, &doc)) {
		snprintf(key, sizeof key, "%d", i++);
		BSON_APPEND_DOCUMENT(&batch, key, doc);
	}
	if (mongoc_cursor_error(cur, &e)) {
		fprintf(stderr, "mongo-run: %s: %s\n", db, e.message);
		ok = 0;
	}
	bson_append_array_end(&cursor, &batch);
	bson_append_document_end(out, &cursor);
	BSON_APPEND_INT32(out, "ok", 1);
	mongoc_cursor_destroy(cur);
	return ok;
}

int main(int argc, char **argv)
{
	mongoc_uri_t *uri;
	mongoc_client_t *cl;
	bson_error_t e;
	const char *db;
	int rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: mongo-run URI COMMAND...\n");
		return 2;
	}
	mongoc_init();
	/* the server's refusals reach stderr once, below; not libmongoc's chatter */
	mongoc_log_set_handler(NULL, NULL);
	uri = mongoc_uri_new_with_error(argv[1], &e);
	if (!uri || !(db = mongoc_uri_get_database(uri))) {
		fprintf(stderr, "mongo-run: %s: %s\n", argv[1], uri ? "name the database" : e.message);
		return 2;
	}
	cl = mongoc_client_new_from_uri(uri);
	mongoc_client_set_error_api(cl, MONGOC_ERROR_API_VERSION_2);
	for (int i = 2; i < argc && !rc; i++) {
		bson_t *cmd = bson_new_from_json((const uint8_t *)argv[i], -1, &e);
		bson_t reply, all;
		char *text;

		if (!cmd) {
			fprintf(stderr, "mongo-run: %s: %s\n", argv[i], e.message);
			rc = 2;
			break;
		}
		if (!mongoc_client_command_simple(cl, db, cmd, NULL, &reply, &e)) {
			fprintf(stderr, "mongo-run: %s: %s (code %u)\n", argv[i], e.message, e.code);
			rc = 1;
		} else if (!drain(cl, db, &reply, &all)) {
			rc = 1;
			bson_destroy(&all);
		} else {
			text = bson_as_relaxed_extended_json(&all, NULL);
			printf("%s\n", text);
			bson_free(text);
			bson_destroy(&all);
		}
		bson_destroy(&reply);
		bson_destroy(cmd);
	}
	mongoc_client_destroy(cl);
	mongoc_uri_destroy(uri);
	mongoc_cleanup();
	return rc;
}
