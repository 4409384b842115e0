/*
 * The log files: appends to `<path>`, and when the next records would push it past max-size, rotates as docker's
 * json-file does (loggerutils/logfile.go): `<path>.<n-1>` is dropped, `.<i>` becomes `.<i+1>`, `<path>` becomes
 * `.1`, and a new `<path>` starts. With compress, `.1` is gzipped by a child process (the container's output must
 * not wait for it) into `.1.gz`, written as `.1.gz.tmp` and renamed, then `.1` goes: a reader finds one whole copy
 * at every moment. A reader following `<path>` keeps its open file to the end, then opens the new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "log-writer.h"

static const char *dropped_since; /* the error that made us drop records, while it lasts */
static int64_t dropped_bytes;

int log_file_open(struct log_file *f)
{
	f->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (f->fd < 0)
		return -1;
	struct stat st;
	f->size = fstat(f->fd, &st) == 0 ? st.st_size : 0;
	return 0;
}

bool log_file_full(const struct log_file *f, size_t pending, size_t len)
{
	int64_t before = f->size + (int64_t)pending;
	/* A record alone bigger than max-size still gets a file of its own. */
	return f->max_size > 0 && before > 0 && before + (int64_t)len > f->max_size;
}

static bool write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

bool log_file_append(struct log_file *f, const char *buf, size_t len)
{
	if (f->fd < 0 && log_file_open(f) < 0) {
		if (!dropped_since)
			report("cannot open %s: %s; dropping log records until it works again", f->path, strerror(errno));
		dropped_since = "open";
		dropped_bytes += (int64_t)len;
		return false;
	}
	if (!write_all(f->fd, buf, len)) {
		int err = errno;
		/* A short write leaves half a record: cut it off, so that every line in the file stays whole. */
		if (ftruncate(f->fd, f->size) < 0) {
			/* nothing more to do: the reader skips a line it cannot parse */
		}
		if (!dropped_since)
			report("cannot write %s: %s; dropping log records until it works again", f->path, strerror(err));
		dropped_since = "write";
		dropped_bytes += (int64_t)len;
		return false;
	}
	if (dropped_since) {
		report("writing %s again; %lld bytes of log records were dropped", f->path, (long long)dropped_bytes);
		dropped_since = NULL;
		dropped_bytes = 0;
	}
	f->size += (int64_t)len;
	return true;
}

static void name_of(char *buf, size_t cap, const char *path, int i, bool gz)
{
	snprintf(buf, cap, "%s.%d%s", path, i, gz ? ".gz" : "");
}

/* gzip `<path>.1` into `<path>.1.gz` (level 1, as docker's BestSpeed); runs in a child process. */
static int compress_rotated(const char *path)
{
	char src[4096], tmp[4096], dst[4096];
	name_of(src, sizeof src, path, 1, false);
	name_of(dst, sizeof dst, path, 1, true);
	snprintf(tmp, sizeof tmp, "%s.1.gz.tmp", path);
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return errno == ENOENT ? 0 : 1;
	int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (out < 0) {
		report("cannot compress %s: %s", src, strerror(errno));
		return 1;
	}
	gzFile gz = gzdopen(out, "wb1");
	if (!gz) {
		report("cannot compress %s: out of memory", src);
		unlink(tmp);
		return 1;
	}
	static char buf[64 * 1024];
	ssize_t n;
	bool ok = true;
	while ((n = read(in, buf, sizeof buf)) > 0) {
		if (gzwrite(gz, buf, (unsigned)n) != (int)n) {
			ok = false;
			break;
		}
	}
	if (n < 0)
		ok = false;
	if (gzclose(gz) != Z_OK)
		ok = false;
	if (!ok || rename(tmp, dst) < 0) {
		report("cannot compress %s into %s: %s", src, dst, strerror(errno));
		unlink(tmp);
		return 1;
	}
	unlink(src);
	return 0;
}

void log_file_reap(struct log_file *f, bool wait)
{
	if (f->compressor <= 0)
		return;
	int status;
	pid_t r;
	do
		r = waitpid(f->compressor, &status, wait ? 0 : WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r != 0)
		f->compressor = 0;
}

void log_file_rotate(struct log_file *f)
{
	char from[4096], to[4096];
	/* The previous compression renames `.1` away: it must be done before `.1` is taken again. */
	log_file_reap(f, true);
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->max_file < 2) {
		unlink(f->path);
	} else {
		name_of(to, sizeof to, f->path, f->max_file - 1, f->compress);
		unlink(to);
		for (int i = f->max_file - 1; i > 1; i--) {
			name_of(from, sizeof from, f->path, i - 1, f->compress);
			name_of(to, sizeof to, f->path, i, f->compress);
			if (rename(from, to) < 0 && errno != ENOENT)
				report("cannot rename %s to %s: %s", from, to, strerror(errno));
		}
		name_of(to, sizeof to, f->path, 1, false);
		if (rename(f->path, to) < 0 && errno != ENOENT)
			report("cannot rename %s to %s: %s", f->path, to, strerror(errno));
	}
	f->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	f->size = 0;
	if (f->fd < 0)
		report("cannot create %s: %s", f->path, strerror(errno));
	if (f->compress && f->max_file >= 2) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(compress_rotated(f->path));
		if (pid < 0) {
			report("cannot start compressing %s.1: %s", f->path, strerror(errno));
			compress_rotated(f->path);
		} else {
			f->compressor = pid;
		}
	}
}
