/* conmon's k8s-file records and the times in them. */
#include <string.h>
#include <time.h>

#include "log-writer.h"

static bool digits(const char *s, size_t n, int *out)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const int64_t yoe = y - era * 400;
	const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* `2006-01-02T15:04:05.999999999-07:00` (conmon writes local time with its offset) to UTC seconds. */
static bool parse_time(const char *s, size_t len, int64_t *sec, int32_t *nsec)
{
	int y, mo, d, h, mi, se;
	if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
		return false;
	if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) ||
	    !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return false;
	size_t i = 19;
	int32_t frac = 0;
	if (i < len && s[i] == '.') {
		int n = 0;
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, n++)
			if (n < 9)
				frac = frac * 10 + (s[i] - '0');
		if (n == 0)
			return false;
		for (; n < 9; n++)
			frac *= 10;
	}
	int offset = 0;
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
		int oh, om;
		if (!digits(s + i + 1, 2, &oh) || !digits(s + i + 4, 2, &om))
			return false;
		offset = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
		i += 6;
	} else {
		return false;
	}
	if (i != len)
		return false;
	*sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
	*nsec = frac;
	return true;
}

bool parse_k8s_record(const char *line, size_t len, struct record *out)
{
	const char *sp1 = memchr(line, ' ', len);
	if (!sp1)
		return false;
	size_t tlen = (size_t)(sp1 - line);
	const char *rest = sp1 + 1;
	size_t rlen = len - tlen - 1;
	/* "stdout F " */
	if (rlen < 8 || rest[6] != ' ' || (rest[7] != 'F' && rest[7] != 'P'))
		return false;
	if (memcmp(rest, "stdout", 6) == 0)
		out->stream = STREAM_STDOUT;
	else if (memcmp(rest, "stderr", 6) == 0)
		out->stream = STREAM_STDERR;
	else
		return false;
	out->partial = rest[7] == 'P';
	if (rlen == 8) {
		out->text = rest + 8;
		out->len = 0;
	} else if (rest[8] == ' ') {
		out->text = rest + 9;
		out->len = rlen - 9;
	} else {
		return false;
	}
	/* Every record of one read from the container carries the same time: convert it once. */
	static char last[48];
	static size_t last_len;
	static int64_t last_sec;
	static int32_t last_nsec;
	if (tlen == last_len && memcmp(line, last, tlen) == 0) {
		out->sec = last_sec;
		out->nsec = last_nsec;
		return true;
	}
	if (!parse_time(line, tlen, &out->sec, &out->nsec))
		return false;
	if (tlen < sizeof last) {
		memcpy(last, line, tlen);
		last_len = tlen;
		last_sec = out->sec;
		last_nsec = out->nsec;
	}
	return true;
}

void now_utc(int64_t *sec, int32_t *nsec)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	*sec = ts.tv_sec;
	*nsec = (int32_t)ts.tv_nsec;
}

static void two(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

size_t format_rfc3339nano(int64_t sec, int32_t nsec, char *buf)
{
	/* civil_from_days */
	int64_t days = sec >= 0 ? sec / 86400 : (sec - 86399) / 86400;
	int64_t rem = sec - days * 86400;
	int64_t z = days + 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const int64_t doe = z - era * 146097;
	const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const int64_t mp = (5 * doy + 2) / 153;
	const int d = (int)(doy - (153 * mp + 2) / 5 + 1);
	const int m = (int)(mp < 10 ? mp + 3 : mp - 9);
	int64_t y = yoe + era * 400 + (m <= 2);
	if (y < 0)
		y = 0;
	if (y > 9999)
		y = 9999;
	char *p = buf;
	p[0] = (char)('0' + y / 1000);
	p[1] = (char)('0' + y / 100 % 10);
	p[2] = (char)('0' + y / 10 % 10);
	p[3] = (char)('0' + y % 10);
	p[4] = '-';
	two(p + 5, m);
	p[7] = '-';
	two(p + 8, d);
	p[10] = 'T';
	two(p + 11, (int)(rem / 3600));
	p[13] = ':';
	two(p + 14, (int)(rem / 60 % 60));
	p[16] = ':';
	two(p + 17, (int)(rem % 60));
	p += 19;
	if (nsec > 0) {
		char frac[9];
		int32_t v = nsec;
		for (int i = 8; i >= 0; i--, v /= 10)
			frac[i] = (char)('0' + v % 10);
		int n = 9;
		while (frac[n - 1] == '0')
			n--;
		*p++ = '.';
		memcpy(p, frac, (size_t)n);
		p += n;
	}
	*p++ = 'Z';
	return (size_t)(p - buf);
}
