/*
 * A JSON string body as moby's jsonlog writes the "log" field (ffjsonWriteJSONBytesAsString): `"`, `\` and control
 * characters escaped, `<`, `>`, `&`, U+2028 and U+2029 as \u escapes (HTML-safe), and every byte that does not start
 * a valid UTF-8 sequence as \ufffd, one per byte, as Go's utf8.DecodeRune decides (no overlongs, no surrogates,
 * nothing above U+10FFFF). A hostile container's bytes therefore always make a valid JSON line.
 */
#include "log-writer.h"

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when s[0] does not start one. Only for bytes >= 0x80. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	if (c >= 0xc2 && c <= 0xdf)
		return len >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (len < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0; /* overlong */
		if (c == 0xed && s[1] >= 0xa0)
			return 0; /* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (len < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0; /* overlong */
		if (c == 0xf4 && s[1] >= 0x90)
			return 0; /* above U+10FFFF */
		return 4;
	}
	return 0;
}

static bool plain_ascii(unsigned char b)
{
	return b >= 0x20 && b != '\\' && b != '"' && b != '<' && b != '>' && b != '&';
}

static bool line_separator(const unsigned char *s)
{
	/* U+2028 and U+2029: E2 80 A8 / E2 80 A9 */
	return s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9);
}

size_t json_escaped_len(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t out = 0;
	for (size_t i = 0; i < len;) {
		unsigned char b = s[i];
		if (b < 0x80) {
			if (plain_ascii(b))
				out += 1;
			else if (b == '\\' || b == '"' || b == '\n' || b == '\r')
				out += 2;
			else
				out += 6;
			i++;
			continue;
		}
		size_t n = utf8_seq(s + i, len - i);
		if (n == 0) {
			out += 6;
			i++;
		} else {
			out += n == 3 && line_separator(s + i) ? 6 : n;
			i += n;
		}
	}
	return out;
}

char *json_escape(char *dst, const char *str, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	for (size_t i = 0; i < len;) {
		unsigned char b = s[i];
		if (b < 0x80) {
			i++;
			if (plain_ascii(b)) {
				*dst++ = (char)b;
			} else if (b == '\\' || b == '"') {
				*dst++ = '\\';
				*dst++ = (char)b;
			} else if (b == '\n') {
				*dst++ = '\\';
				*dst++ = 'n';
			} else if (b == '\r') {
				*dst++ = '\\';
				*dst++ = 'r';
			} else {
				dst[0] = '\\';
				dst[1] = 'u';
				dst[2] = '0';
				dst[3] = '0';
				dst[4] = hex[b >> 4];
				dst[5] = hex[b & 0xf];
				dst += 6;
			}
			continue;
		}
		size_t n = utf8_seq(s + i, len - i);
		if (n == 0) {
			for (const char *e = "\\ufffd"; *e; e++)
				*dst++ = *e;
			i++;
		} else if (n == 3 && line_separator(s + i)) {
			for (const char *e = "\\u202"; *e; e++)
				*dst++ = *e;
			*dst++ = s[i + 2] == 0xa8 ? '8' : '9';
			i += 3;
		} else {
			for (size_t k = 0; k < n; k++)
				*dst++ = (char)s[i + k];
			i += n;
		}
	}
	return dst;
}
