/* jsonfile.c - atomic small JSON files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mig/cli.h"
#include "mig/jsonfile.h"

int mig_jsonfile_write(const char *path, const json_t *v, const char *what,
		       struct mig_error *err)
{
	size_t n = strlen(path);
	char *tmp = malloc(n + 32), *text = NULL;
	int fd = -1, rc = 0;

	if (!tmp)
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	snprintf(tmp, n + 32, "%s.tmp.%ld", path, (long)getpid());
	text = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text) {
		rc = mig_error_set(err, MIG_ENOMEM, "out of memory");
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		rc = mig_error_set(err, MIG_EIO, "%s %s: %s", what, tmp, strerror(errno));
		goto out;
	}
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd) < 0) {
		rc = mig_error_set(err, MIG_EIO, "%s %s: %s", what, tmp, strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = mig_error_set(err, MIG_EIO, "%s %s: %s", what, tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		rc = mig_error_set(err, MIG_EIO, "%s %s: %s", what, path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (rc)
		unlink(tmp);
	mig_json_free(text);
	free(tmp);
	return rc;
}

int mig_jsonfile_read(json_t **out, const char *path, const char *what,
		      struct mig_error *err)
{
	json_error_t je;
	json_t *v;

	*out = NULL;
	if (access(path, F_OK) < 0) {
		if (errno == ENOENT)
			return 0;
		return mig_error_set(err, MIG_EIO, "%s %s: %s", what, path, strerror(errno));
	}
	v = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!v) {
		if (je.line < 0 || strstr(je.text, "unable to open"))
			return mig_error_set(err, MIG_EIO, "%s %s: %s", what, path, je.text);
		return mig_error_set(err, MIG_ECORRUPT, "%s %s: corrupt: %s (line %d)", what, path,
				     je.text, je.line);
	}
	if (!json_is_object(v)) {
		json_decref(v);
		return mig_error_set(err, MIG_ECORRUPT, "%s %s: corrupt: not a JSON object", what,
				     path);
	}
	*out = v;
	return 0;
}
