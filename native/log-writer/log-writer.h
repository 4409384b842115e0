/*
 * hbx-logwriter: one per running container, between conmon and the container's log files. conmon writes k8s-file
 * records into a FIFO (`<time> <stdout|stderr> <F|P> <text>\n`); this process turns each into the log driver's
 * format, appends it and rotates the files while the container writes. It exits when conmon has closed the FIFO
 * (its exit, a kill -9 included), so it never outlives the container's monitor.
 */
#ifndef HBX_LOG_WRITER_H
#define HBX_LOG_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum stream { STREAM_STDOUT = 1, STREAM_STDERR = 2 };

/* One record of the container's output, as conmon logged it. `text` excludes the record's line feed. */
struct record {
	const char *text;
	size_t len;
	enum stream stream;
	bool partial; /* the line goes on in the next record */
	int64_t sec;  /* UTC */
	int32_t nsec;
};

/* k8s-record.c */
bool parse_k8s_record(const char *line, size_t len, struct record *out);
void now_utc(int64_t *sec, int32_t *nsec);
/* docker's RFC3339Nano in UTC, trailing zeros of the fraction dropped (Go's time.RFC3339Nano): at most 35 bytes. */
size_t format_rfc3339nano(int64_t sec, int32_t nsec, char *buf);

/* json-escape.c: a string's body as moby's jsonlog writes it (invalid UTF-8 as U+FFFD, HTML-safe). */
size_t json_escaped_len(const char *s, size_t len);
char *json_escape(char *dst, const char *s, size_t len);

/* log-file.c: the current file and its rotated predecessors (`<path>.1` ... `<path>.<max_file-1>`[.gz]). */
struct log_file {
	const char *path;
	int fd;
	int64_t size;     /* bytes in the current file */
	int64_t max_size; /* 0: never rotate */
	int max_file;
	bool compress;
	int compressor; /* pid of the child compressing `<path>.1`, 0 when none */
};

int log_file_open(struct log_file *f);
/* Appends `len` bytes (whole records); false when they were dropped (the error is reported). */
bool log_file_append(struct log_file *f, const char *buf, size_t len);
/* Whether a record of `len` bytes after `pending` buffered ones would push the file past max-size: rotate first. */
bool log_file_full(const struct log_file *f, size_t pending, size_t len);
void log_file_rotate(struct log_file *f);
void log_file_reap(struct log_file *f, bool wait);

/* main.c: an error for the user, rate-limited, into the error file next to the log. */
void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
