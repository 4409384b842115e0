/*
 * hbx-logwriter --version
 * hbx-logwriter --fifo PATH --file PATH --format json-file|local [--max-size BYTES] [--max-file N] [--compress]
 *               [--attrs JSON] [--error-file PATH] [--pid-file PATH]
 *
 * Creates the FIFO and opens it for reading, prints "ready" on stdout (the engine then starts conmon with
 * `-l k8s-file:<fifo>`), and from then on converts conmon's records into the log files until conmon closes its end.
 * Memory is bounded (a 64 KiB and a 128 KiB buffer, whatever the container writes); a write that fails (a full disk) drops the
 * records and is reported once in the error file, and writing resumes when it works again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log-writer.h"

#define IN_CAP (64 * 1024)
#define OUT_CAP (128 * 1024)
/* A record's text is cut into pieces of at most this (conmon's own records are at most 8 KiB): escaped, even the
 * worst piece fits the output buffer. */
#define PIECE 8192
/* conmon opens the FIFO right after it starts: no writer by then means it never started. */
#define FIRST_WRITER_TIMEOUT_MS 60000
#define HBX_LOG_WRITER_VERSION "2"
/* Attributes (labels, env) are the same JSON on every json-file record: kept short. */
#define MAX_ATTRS 4096
#define MAX_PATH 3800

enum format { FORMAT_JSON, FORMAT_LOCAL };

static const char *error_file;
static const char *pid_file;
static enum format format;
static const char *attrs;
static size_t attrs_len;
static struct log_file out_file;
static char out[OUT_CAP];
static size_t out_len;
static volatile sig_atomic_t stopping;

void report(const char *fmt, ...)
{
	char msg[1024];
	int64_t sec;
	int32_t nsec;
	now_utc(&sec, &nsec);
	size_t n = format_rfc3339nano(sec, nsec, msg);
	n += (size_t)snprintf(msg + n, sizeof msg - n, " hbx-logwriter: ");
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(msg + n, sizeof msg - n - 1, fmt, ap);
	va_end(ap);
	n = m < 0 ? n : n + (size_t)m < sizeof msg - 1 ? n + (size_t)m : sizeof msg - 2;
	msg[n++] = '\n';
	int fd = error_file ? open(error_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640) : 2;
	if (fd < 0)
		return;
	if (write(fd, msg, n) < 0) {
		/* nowhere else to say it */
	}
	if (fd != 2)
		close(fd);
}

static void flush(void)
{
	if (out_len > 0)
		log_file_append(&out_file, out, out_len);
	out_len = 0;
}

/* The worst record: a PIECE of bytes that each escape to 6, plus the fields and the attributes. */
#define WORST_RECORD (PIECE * 6 + 128 + MAX_ATTRS)

static char *put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

/* Room for one more record at out + out_len. */
static void reserve(void)
{
	if (OUT_CAP - out_len < WORST_RECORD)
		flush();
}

/*
 * The record just encoded at out + start .. end: when it would push the file past max-size, what came before it
 * goes into the current file, the files rotate, and it starts the new one.
 */
static void commit(size_t start, char *end)
{
	size_t len = (size_t)(end - (out + start));
	if (log_file_full(&out_file, start, len)) {
		out_len = start;
		flush();
		log_file_rotate(&out_file);
		memmove(out, out + start, len);
		start = 0;
	}
	out_len = start + len;
}

/* {"log":"...","stream":"stdout","attrs":{...},"time":"..."}\n, as moby's JSONLogs.MarshalJSONBuf. */
static void emit_json(const struct record *r)
{
	reserve();
	char ts[40];
	size_t tl = format_rfc3339nano(r->sec, r->nsec, ts);
	size_t start = out_len;
	char *p = out + start;
	*p++ = '{';
	/* moby leaves out an empty "log" (omitempty): only a partial record can be empty. */
	if (r->len > 0 || !r->partial) {
		p = put(p, "\"log\":\"", 7);
		p = json_escape(p, r->text, r->len);
		if (!r->partial)
			p = put(p, "\\n", 2);
		p = put(p, "\",", 2);
	}
	p = put(p, r->stream == STREAM_STDERR ? "\"stream\":\"stderr\"" : "\"stream\":\"stdout\"", 17);
	if (attrs_len > 0) {
		p = put(p, ",\"attrs\":", 9);
		p = put(p, attrs, attrs_len);
	}
	p = put(p, ",\"time\":\"", 9);
	p = put(p, ts, tl);
	p = put(p, "\"}\n", 3);
	commit(start, p);
}

static void le32(char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (char)(v >> (8 * i));
}

/*
 * The `local` driver's records (hyperbox's own compact format; docker's is internal to docker too):
 *   u32 length | u8 stream (1 stdout, 2 stderr) | u8 flags (1: partial) | u16 0 | i64 time (ns since the epoch, UTC)
 *   | length bytes of output, raw (a full record's with its line feed) | u32 length
 * little-endian; the trailing length lets a reader walk the file backwards (--tail) without an index.
 */
static void emit_local(const struct record *r)
{
	reserve();
	/* The output exactly as the container wrote it: a full record ends with its line feed. */
	uint32_t len = (uint32_t)r->len + (r->partial ? 0 : 1);
	size_t start = out_len;
	char *p = out + start;
	le32(p, len);
	p[4] = (char)r->stream;
	p[5] = r->partial ? 1 : 0;
	p[6] = p[7] = 0;
	int64_t ns = r->sec * 1000000000LL + r->nsec;
	le32(p + 8, (uint32_t)((uint64_t)ns & 0xffffffffu));
	le32(p + 12, (uint32_t)((uint64_t)ns >> 32));
	memcpy(p + 16, r->text, r->len);
	if (!r->partial)
		p[16 + r->len] = '\n';
	le32(p + 16 + len, len);
	commit(start, p + 16 + len + 4);
}

/* A text longer than PIECE goes out as several records, cut between UTF-8 sequences, all but the last partial. */
static void emit(const struct record *r)
{
	struct record piece = *r;
	while (piece.len > PIECE) {
		size_t cut = PIECE;
		while (cut > PIECE - 3 && ((unsigned char)piece.text[cut] & 0xc0) == 0x80)
			cut--;
		struct record head = piece;
		head.len = cut;
		head.partial = true;
		if (format == FORMAT_JSON)
			emit_json(&head);
		else
			emit_local(&head);
		piece.text += cut;
		piece.len -= cut;
	}
	if (format == FORMAT_JSON)
		emit_json(&piece);
	else
		emit_local(&piece);
}

/* One line from the FIFO; anything that is not a conmon record is kept as stdout text, stamped now. */
static void consume_line(const char *line, size_t len, bool complete)
{
	struct record r;
	if (!parse_k8s_record(line, len, &r)) {
		r.text = line;
		r.len = len;
		r.stream = STREAM_STDOUT;
		r.partial = !complete;
		now_utc(&r.sec, &r.nsec);
	}
	emit(&r);
}

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void usage(const char *why)
{
	fprintf(stderr, "hbx-logwriter: %s\n", why);
	exit(2);
}

static int64_t number(const char *flag, const char *v)
{
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno || *end || n < 0) {
		fprintf(stderr, "hbx-logwriter: %s: not a number: %s\n", flag, v);
		exit(2);
	}
	return n;
}

/*
 * The writer names itself, first thing: a starter killed between spawning it and hearing "ready" cannot, and a
 * writer nobody knows of would outlive the teardown. Written whole under a temporary name, then renamed.
 */
static int write_pid_file(const char *path)
{
	char tmp[MAX_PATH + 16], text[32];
	if (strlen(path) > MAX_PATH) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int n = snprintf(text, sizeof text, "%d\n", (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	if (write(fd, text, (size_t)n) != n) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	return rename(tmp, path);
}

int main(int argc, char **argv)
{
	const char *fifo = NULL;
	out_file.path = NULL;
	out_file.fd = -1;
	out_file.max_file = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--version") == 0) {
			printf("hbx-logwriter version %s\n", HBX_LOG_WRITER_VERSION);
			return 0;
		}
		if (strcmp(a, "--compress") == 0) {
			out_file.compress = true;
			continue;
		}
		if (!v)
			usage("every option but --compress takes a value");
		i++;
		if (strcmp(a, "--fifo") == 0)
			fifo = v;
		else if (strcmp(a, "--file") == 0)
			out_file.path = v;
		else if (strcmp(a, "--format") == 0) {
			if (strcmp(v, "json-file") == 0)
				format = FORMAT_JSON;
			else if (strcmp(v, "local") == 0)
				format = FORMAT_LOCAL;
			else
				usage("--format is json-file or local");
		} else if (strcmp(a, "--max-size") == 0)
			out_file.max_size = number(a, v);
		else if (strcmp(a, "--max-file") == 0)
			out_file.max_file = (int)number(a, v);
		else if (strcmp(a, "--attrs") == 0) {
			attrs = v;
			attrs_len = strlen(v);
			if (attrs_len > MAX_ATTRS)
				usage("--attrs is longer than 4096 bytes");
		} else if (strcmp(a, "--error-file") == 0)
			error_file = v;
		else if (strcmp(a, "--pid-file") == 0)
			pid_file = v;
		else
			usage("unknown option");
	}
	if (!fifo || !out_file.path)
		usage("--fifo and --file are required");
	if (strlen(out_file.path) > MAX_PATH || strlen(fifo) > MAX_PATH)
		usage("path too long");
	if (out_file.max_file < 1)
		out_file.max_file = 1;
	if (pid_file && write_pid_file(pid_file) < 0) {
		fprintf(stderr, "hbx-logwriter: pid file %s: %s\n", pid_file, strerror(errno));
		return 1;
	}

	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	unlink(fifo);
	if (mkfifo(fifo, 0600) < 0) {
		fprintf(stderr, "hbx-logwriter: mkfifo %s: %s\n", fifo, strerror(errno));
		return 1;
	}
	/* Non-blocking: opening for reading must not wait for conmon, which opens it for writing only later. */
	int in = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (in < 0) {
		fprintf(stderr, "hbx-logwriter: open %s: %s\n", fifo, strerror(errno));
		return 1;
	}
	/* A larger pipe lets conmon hand over a burst without waiting for each of our writes. */
	fcntl(in, F_SETPIPE_SZ, 256 * 1024);
	if (log_file_open(&out_file) < 0) {
		fprintf(stderr, "hbx-logwriter: open %s: %s\n", out_file.path, strerror(errno));
		return 1;
	}
	if (write(1, "ready\n", 6) != 6)
		return 1;
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		if (devnull > 2)
			close(devnull);
	}

	static char buf[IN_CAP];
	size_t have = 0;
	bool writer_seen = false;
	for (;;) {
		/* Whatever is read is written before waiting again: a quiet container's lines are on disk at once. */
		flush();
		log_file_reap(&out_file, false);
		struct pollfd p = {.fd = in, .events = POLLIN};
		int r = poll(&p, 1, writer_seen ? -1 : FIRST_WRITER_TIMEOUT_MS);
		if (r < 0 && errno != EINTR)
			break;
		if (r == 0)
			break; /* conmon never came */
		/* Stopped (the monitor is known gone): take what the pipe still holds, then end. */
		if (r < 0 && !stopping)
			continue;
		if (r > 0)
			writer_seen = true;
		bool eof = false;
		/* Drain what is there now. */
		for (;;) {
			ssize_t n = read(in, buf + have, sizeof buf - have);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				break; /* EAGAIN: all read */
			if (n == 0) {
				eof = true; /* conmon closed its end */
				break;
			}
			have += (size_t)n;
			size_t start = 0;
			for (;;) {
				char *nl = memchr(buf + start, '\n', have - start);
				if (!nl)
					break;
				consume_line(buf + start, (size_t)(nl - (buf + start)), true);
				start = (size_t)(nl - buf) + 1;
			}
			if (start == 0 && have == sizeof buf) {
				/* No line feed in a whole buffer: not conmon's doing; keep the bytes as a partial record. */
				consume_line(buf, have, false);
				start = have;
			}
			memmove(buf, buf + start, have - start);
			have -= start;
		}
		if (eof || stopping)
			break;
	}
	if (have > 0)
		consume_line(buf, have, false);
	flush();
	log_file_reap(&out_file, true);
	return 0;
}
