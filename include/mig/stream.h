/*
 * mig/stream.h - NDJSON text <-> records: the hot path of every stage.
 *
 * A reader hands out lines (borrowed: valid until the next call) with
 * their line numbers; mig_record_parse() turns one into a record.  Files
 * whose name ends in ".zst" are decompressed on the fly.  Memory stays
 * bounded by the buffer size and --max-line, whatever the input size.
 *
 * A writer prints records, one per line, into a large buffer flushed with
 * write(2); ".zst" names are compressed.  EPIPE from the reader of our
 * output is MIG_EPIPE, so that a filter can end quietly.
 */
#ifndef MIG_STREAM_H
#define MIG_STREAM_H

#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "mig/error.h"
#include "mig/value.h"

#define MIG_MAX_LINE_DEFAULT ((size_t)64 << 20)

struct mig_reader;

struct mig_line {
	const char *data;   /* not NUL-terminated; no '\n' (nor a final '\r') */
	size_t len;
	uint64_t lineno;    /* 1-based */
};

/* Opens path for reading; NULL or "-" is standard input.  max_line 0 means
 * MIG_MAX_LINE_DEFAULT.  The name used in messages is path ("stdin" for
 * standard input). */
int mig_reader_open(struct mig_reader **out, const char *path, size_t max_line,
		    struct mig_error *err);
/* Reads from fd, which the reader does not close; name is used in
 * messages; zstd says whether the bytes are zstd-compressed. */
int mig_reader_open_fd(struct mig_reader **out, int fd, const char *name,
		       int zstd, size_t max_line, struct mig_error *err);

/* Reads the bytes [offset, offset + length) of fd with pread(2), e.g. one
 * member of an archive; fd is not closed. */
int mig_reader_open_range(struct mig_reader **out, int fd, const char *name, uint64_t offset,
			  uint64_t length, int zstd, size_t max_line, struct mig_error *err);

/* The next non-blank line.  Returns 0 with *out filled, MIG_DONE at end of
 * input, MIG_EDATA for a line longer than max_line (out->lineno names it,
 * out->data holds its first bytes; the reader has skipped past it and the
 * next call goes on), MIG_EIO on a read or decompression error. */
int mig_reader_next(struct mig_reader *r, struct mig_line *out, struct mig_error *err);

const char *mig_reader_name(const struct mig_reader *r);
/* Bytes consumed so far (of the file as stored: compressed for .zst), and
 * the file's size when it is a regular file (else 0): for progress/ETA. */
uint64_t mig_reader_offset(const struct mig_reader *r);
uint64_t mig_reader_size(const struct mig_reader *r);
void mig_reader_close(struct mig_reader *r);

/* Parses one line into a record (a JSON object; a new reference in *out).
 * Fails with MIG_EDATA and a message "NAME:LINE: why" for: not valid JSON
 * (with the column), not an object, invalid UTF-8, a NUL byte. */
int mig_record_parse(json_t **out, const struct mig_line *line, const char *name,
		     struct mig_error *err);
/* The same for any JSON value (mig-validate --values). */
int mig_value_parse(json_t **out, const struct mig_line *line, const char *name,
		    struct mig_error *err);
/* The same for a text that is not a line of a stream (mig-map's
 * parse_json()): one JSON value of any kind from [s, s + n), wrappers kept
 * as the record parser keeps them.  MIG_EDATA with a message that names no
 * place ("invalid JSON: why (column N)", "invalid UTF-8 (byte 0xNN at
 * column N)", "NUL byte in the text (column N)"): the caller prefixes it. */
int mig_value_parse_text(json_t **out, const char *s, size_t n, struct mig_error *err);

struct mig_writer;

enum mig_writer_flags {
	MIG_WRITER_APPEND = 1,    /* append to an existing file (else truncate) */
	MIG_WRITER_ZSTD = 2,      /* compress even if the name lacks ".zst" */
	MIG_WRITER_NOZSTD = 4     /* never compress */
};

/* Opens path for writing ("-" or NULL: standard output).  A name ending in
 * ".zst" is zstd-compressed unless MIG_WRITER_NOZSTD. */
int mig_writer_open(struct mig_writer **out, const char *path, int flags,
		    enum mig_json_mode mode, struct mig_error *err);
int mig_writer_open_fd(struct mig_writer **out, int fd, const char *name, int flags,
		       enum mig_json_mode mode, struct mig_error *err);
/* Appends rec and a newline.  May write to the fd when the buffer fills. */
int mig_writer_put(struct mig_writer *w, const json_t *rec, struct mig_error *err);
/* Appends raw bytes as they are (the caller supplies the newline). */
int mig_writer_put_raw(struct mig_writer *w, const void *p, size_t n, struct mig_error *err);
int mig_writer_flush(struct mig_writer *w, struct mig_error *err);
/* Bytes written so far (uncompressed). */
uint64_t mig_writer_bytes(const struct mig_writer *w);
/* Flushes, ends the zstd frame, fsyncs a regular file when sync is set,
 * and closes what it opened.  Accepts NULL.  On error the file may be
 * incomplete. */
int mig_writer_close(struct mig_writer *w, int sync, struct mig_error *err);

#endif
