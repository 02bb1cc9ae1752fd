/*-------------------------------------------------------------------------
 *
 * purl.c
 *	  Package URL (purl) parser, normaliser and canonical printer.
 *
 * Ingestion of SBOMs and VEX documents, and the SQL functions, pass every
 * package identifier through sp_purl_parse() and key their tables on
 * sp_purl_canonical() or sp_purl_base(), so the rules here decide which
 * spellings name the same package.  They follow the package-url
 * specification (ECMA-427 and PURL-TYPES); docs/purl.md lists them and the
 * few places where we chose one reading over another.
 *
 * Parsing works on byte ranges of the input so that every error can name
 * the offset of the offending byte.  The split order is: subpath after the
 * last '#', qualifiers after the first '?' before it, the type up to the
 * first '/', and the version after the first '@' of the last path segment.
 * Each part is then percent-decoded and normalised for its type.
 *
 * All memory comes from the caller's arena; no state survives a call.
 *
 *-------------------------------------------------------------------------
 */
#include "purl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Type-specific rules, as flags on a type name. */
#define PT_NS_LOWER			0x0001	/* namespace is lower-cased */
#define PT_NS_UPPER			0x0002	/* namespace is upper-cased */
#define PT_NAME_LOWER		0x0004	/* name is lower-cased */
#define PT_NAME_DASH		0x0008	/* '_' in the name becomes '-' */
#define PT_NAME_UNDERSCORE	0x0010	/* '-' in the name becomes '_' */
#define PT_VERSION_LOWER	0x0020	/* version is lower-cased */
#define PT_NS_REQUIRED		0x0040	/* a namespace must be present */
#define PT_VERSION_REQUIRED	0x0080	/* a version must be present */
#define PT_NAME_DATABRICKS	0x0100	/* name lower-cased on Databricks */

typedef struct PurlTypeRule
{
	const char *type;
	unsigned int flags;
} PurlTypeRule;

/*
 * The registered types that carry a rule beyond the common ones.  Types not
 * listed (cargo, gem, generic, nuget, conan, conda, docker, ...) keep every
 * part as written.  golang is deliberately absent: see docs/purl.md.
 *
 * TODO Check the characters each type allows in a name (npm, pub, cpan);
 * only case and separator normalisation is applied now.
 * TODO Decide whether conan's namespace and channel qualifier must come
 * together; the older test suite said so, current PURL-TYPES does not.
 * XXX Should npm keep the case of old mixed-case names such as JSONStream?
 */
static const PurlTypeRule purl_type_rules[] = {
	{"alpine", PT_NS_LOWER | PT_NAME_LOWER},
	{"alpm", PT_NS_LOWER | PT_NAME_LOWER},
	{"apk", PT_NS_LOWER | PT_NAME_LOWER},
	{"bitbucket", PT_NS_LOWER | PT_NAME_LOWER},
	{"bitnami", PT_NAME_LOWER},
	{"composer", PT_NS_LOWER | PT_NAME_LOWER},
	{"cpan", PT_NS_UPPER},
	{"cran", PT_VERSION_REQUIRED},
	{"deb", PT_NS_LOWER | PT_NAME_LOWER},
	{"github", PT_NS_LOWER | PT_NAME_LOWER},
	{"hex", PT_NS_LOWER | PT_NAME_LOWER},
	{"huggingface", PT_VERSION_LOWER},
	{"luarocks", PT_NS_LOWER | PT_NAME_LOWER},
	{"maven", PT_NS_REQUIRED},
	{"mlflow", PT_NAME_DATABRICKS},
	{"npm", PT_NS_LOWER | PT_NAME_LOWER},
	{"oci", PT_NAME_LOWER},
	{"pub", PT_NAME_LOWER | PT_NAME_UNDERSCORE},
	{"pypi", PT_NAME_LOWER | PT_NAME_DASH},
	{"qpkg", PT_NS_LOWER},
	{"rpm", PT_NS_LOWER},
	{"swift", PT_NS_REQUIRED | PT_VERSION_REQUIRED},
};

/* What one parse needs to report errors and allocate. */
typedef struct PurlParser
{
	const char *s;				/* the whole input */
	SpArena    *arena;
	char	   *errbuf;
	size_t		errlen;
} PurlParser;

/* A qualifier while parsing: remembers where its key started. */
typedef struct PurlQualTmp
{
	char	   *key;
	char	   *value;
	size_t		offset;
} PurlQualTmp;

/* Write "<message> at offset N" into the error buffer and return -1. */
static int
purl_error(PurlParser *ps, size_t offset, const char *fmt,...)
{
	va_list		ap;
	int			n;

	if (ps->errbuf == NULL || ps->errlen == 0)
		return -1;

	va_start(ap, fmt);
	n = vsnprintf(ps->errbuf, ps->errlen, fmt, ap);
	va_end(ap);

	/* Append the position only when the message itself fitted. */
	if (n >= 0 && (size_t) n < ps->errlen)
		snprintf(ps->errbuf + n, ps->errlen - (size_t) n, " at offset %zu",
				 offset);
	return -1;
}

/* Report arena exhaustion, which has no position in the input. */
static int
purl_oom(PurlParser *ps)
{
	if (ps->errbuf != NULL && ps->errlen > 0)
		snprintf(ps->errbuf, ps->errlen, "out of memory while parsing purl");
	return -1;
}

/* Describe one byte for a message: the character when printable. */
static const char *
purl_byte_desc(unsigned char c, char *buf, size_t len)
{
	if (c > 0x20 && c < 0x7f)
		snprintf(buf, len, "character \"%c\"", c);
	else
		snprintf(buf, len, "byte 0x%02X", c);
	return buf;
}

static bool
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static unsigned char
to_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char) (c - 'A' + 'a') : c;
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Lower-case the ASCII letters of a string in place. */
static void
ascii_lower(char *s)
{
	for (; *s; s++)
		*s = (char) to_lower((unsigned char) *s);
}

/* Upper-case the ASCII letters of a string in place. */
static void
ascii_upper(char *s)
{
	for (; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char) (*s - 'a' + 'A');
}

/* Replace every byte from with to, in place. */
static void
replace_byte(char *s, char from, char to)
{
	for (; *s; s++)
		if (*s == from)
			*s = to;
}

/*
 * Find the first byte of s[0..len) that does not belong to valid UTF-8
 * (overlong forms, surrogates and code points above U+10FFFF included).
 * Returns len when the whole range is valid.
 */
static size_t
utf8_invalid_at(const unsigned char *s, size_t len)
{
	size_t		i = 0;

	while (i < len)
	{
		unsigned char c = s[i];
		size_t		n;
		unsigned char lo = 0x80,
					hi = 0xBF;

		if (c < 0x80)
		{
			i++;
			continue;
		}

		/* The lead byte fixes the length and narrows the second byte. */
		if (c >= 0xC2 && c <= 0xDF)
			n = 1;
		else if (c >= 0xE0 && c <= 0xEF)
		{
			n = 2;
			if (c == 0xE0)
				lo = 0xA0;
			else if (c == 0xED)
				hi = 0x9F;
		}
		else if (c >= 0xF0 && c <= 0xF4)
		{
			n = 3;
			if (c == 0xF0)
				lo = 0x90;
			else if (c == 0xF4)
				hi = 0x8F;
		}
		else
			return i;

		/* The continuation bytes must all be present. */
		if (i + n >= len)
			return i;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return i;
		for (size_t k = 2; k <= n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xBF)
				return i;
		i += n + 1;
	}
	return len;
}

/* The input offset of the k-th decoded byte of the raw range from start. */
static size_t
decoded_to_source(const char *s, size_t start, size_t k)
{
	size_t		i = start;

	while (k > 0)
	{
		i += (s[i] == '%') ? 3 : 1;
		k--;
	}
	return i;
}

/*
 * Percent-decode s[start..end) into a new arena string.  Rejects a '%' not
 * followed by two hex digits, an escaped NUL, and bytes that do not form
 * UTF-8 once decoded.
 */
static int
purl_decode(PurlParser *ps, size_t start, size_t end, char **out)
{
	const char *s = ps->s;
	char	   *buf = sp_alloc(ps->arena, end - start + 1);
	size_t		n = 0;
	size_t		bad;

	if (buf == NULL)
		return purl_oom(ps);

	for (size_t i = start; i < end; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '%')
		{
			int			h1 = -1;
			int			h2 = -1;

			if (i + 2 < end)
			{
				h1 = hex_value((unsigned char) s[i + 1]);
				h2 = hex_value((unsigned char) s[i + 2]);
			}

			if (h1 < 0 || h2 < 0)
				return purl_error(ps, i,
								  "invalid percent-escape (\"%%\" must be followed by two hex digits)");
			c = (unsigned char) (h1 * 16 + h2);
			if (c == 0)
				return purl_error(ps, i, "percent-escape decodes to a NUL byte");
			i += 2;
		}
		buf[n++] = (char) c;
	}
	buf[n] = '\0';

	/* Raw bytes were checked up front; only escapes can break UTF-8 here. */
	bad = utf8_invalid_at((const unsigned char *) buf, n);
	if (bad < n)
		return purl_error(ps, decoded_to_source(s, start, bad),
						  "percent-escapes do not decode to valid UTF-8");

	*out = buf;
	return 0;
}

/*
 * Decode a '/'-separated range into segments joined by single slashes.
 * Empty segments are dropped (leading, trailing and doubled slashes are not
 * significant); in a subpath "." and ".." are dropped too.  A decoded
 * segment may not contain '/'.  *out is NULL when no segment remains.
 */
static int
purl_segments(PurlParser *ps, size_t start, size_t end, bool subpath,
			  const char *what, char **out)
{
	char	   *joined = sp_alloc(ps->arena, end - start + 1);
	size_t		len = 0;
	size_t		i = start;

	if (joined == NULL)
		return purl_oom(ps);

	while (i < end)
	{
		size_t		seg_end = i;
		char	   *seg;

		while (seg_end < end && ps->s[seg_end] != '/')
			seg_end++;
		if (seg_end == i)
		{
			i++;
			continue;
		}

		if (purl_decode(ps, i, seg_end, &seg) < 0)
			return -1;
		if (strchr(seg, '/') != NULL)
			return purl_error(ps, i, "%s segment contains an encoded \"/\"",
							  what);

		/* A subpath never climbs out of the package or names itself. */
		if (!(subpath && (strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0)))
		{
			size_t		seglen = strlen(seg);

			if (len > 0)
				joined[len++] = '/';
			memcpy(joined + len, seg, seglen);
			len += seglen;
		}
		i = seg_end;
	}
	joined[len] = '\0';
	*out = (len > 0) ? joined : NULL;
	return 0;
}

/* Order qualifiers bytewise by key. */
static int
qual_cmp(const void *a, const void *b)
{
	return strcmp(((const PurlQualTmp *) a)->key,
				  ((const PurlQualTmp *) b)->key);
}

/*
 * Parse the qualifiers in s[start..end): '&'-separated key=value pairs.
 * Keys are lower-cased and checked, values decoded; pairs with an empty
 * value are dropped, as the specification says they do not exist.
 *
 * XXX Should a checksum value be split on ',' into a list, as the
 * specification's parse steps describe?  It stays one opaque string.
 */
static int
purl_qualifiers(PurlParser *ps, size_t start, size_t end, SpPurl *p)
{
	const char *s = ps->s;
	size_t		maxq = 1;
	PurlQualTmp *tmp;
	int			nq = 0;
	size_t		i = start;

	for (size_t k = start; k < end; k++)
		if (s[k] == '&')
			maxq++;
	tmp = sp_alloc(ps->arena, maxq * sizeof(PurlQualTmp));
	if (tmp == NULL)
		return purl_oom(ps);

	while (i < end)
	{
		size_t		pend = i;
		size_t		eq;
		char	   *key;
		char	   *value;
		char		desc[32];

		while (pend < end && s[pend] != '&')
			pend++;

		/* Tolerate empty pairs such as a doubled or trailing '&'. */
		if (pend == i)
		{
			i++;
			continue;
		}

		for (eq = i; eq < pend && s[eq] != '='; eq++)
			;
		if (eq == pend)
			return purl_error(ps, i, "qualifier has no \"=\"");
		if (eq == i)
			return purl_error(ps, i, "qualifier key is empty");

		/* Keys are plain ASCII, never percent-encoded, compared lower-case. */
		key = sp_strndup(ps->arena, s + i, eq - i);
		if (key == NULL)
			return purl_oom(ps);
		ascii_lower(key);
		if (!is_alpha((unsigned char) key[0]))
			return purl_error(ps, i, "qualifier key must start with a letter");
		for (size_t k = 1; key[k]; k++)
		{
			unsigned char c = (unsigned char) key[k];

			if (c == '%')
				return purl_error(ps, i + k,
								  "qualifier key must not be percent-encoded");
			if (!is_alpha(c) && !is_digit(c) &&
				c != '.' && c != '-' && c != '_')
				return purl_error(ps, i + k, "invalid %s in qualifier key",
								  purl_byte_desc(c, desc, sizeof(desc)));
		}

		if (purl_decode(ps, eq + 1, pend, &value) < 0)
			return -1;
		if (value[0] != '\0')
		{
			tmp[nq].key = key;
			tmp[nq].value = value;
			tmp[nq].offset = i;
			nq++;
		}
		i = pend;
	}

	/* Sort, then a repeated key shows up as two neighbours. */
	qsort(tmp, (size_t) nq, sizeof(PurlQualTmp), qual_cmp);
	for (int k = 1; k < nq; k++)
		if (strcmp(tmp[k - 1].key, tmp[k].key) == 0)
			return purl_error(ps,
							  tmp[k].offset > tmp[k - 1].offset ?
							  tmp[k].offset : tmp[k - 1].offset,
							  "duplicate qualifier key \"%s\"", tmp[k].key);

	p->nqualifiers = nq;
	if (nq > 0)
	{
		p->qualifiers = sp_alloc(ps->arena,
								 (size_t) nq * sizeof(SpPurlQualifier));
		if (p->qualifiers == NULL)
			return purl_oom(ps);
		for (int k = 0; k < nq; k++)
		{
			p->qualifiers[k].key = tmp[k].key;
			p->qualifiers[k].value = tmp[k].value;
		}
	}
	return 0;
}

static size_t purl_printed_len(const SpPurl *p, bool with_version,
							   bool full);

/* The rule flags of a (lower-case) type; 0 for types without rules. */
static unsigned int
purl_type_flags(const char *type)
{
	size_t		nrules = sizeof(purl_type_rules) / sizeof(purl_type_rules[0]);

	for (size_t i = 0; i < nrules; i++)
		if (strcmp(purl_type_rules[i].type, type) == 0)
			return purl_type_rules[i].flags;
	return 0;
}

/* Reject raw control bytes and raw bytes that are not UTF-8. */
static int
purl_check_bytes(PurlParser *ps, size_t len)
{
	const unsigned char *u = (const unsigned char *) ps->s;
	size_t		bad;

	for (size_t i = 0; i < len; i++)
		if (u[i] < 0x20 || u[i] == 0x7f)
			return purl_error(ps, i, "control byte 0x%02X in purl", u[i]);

	bad = utf8_invalid_at(u, len);
	if (bad < len)
		return purl_error(ps, bad, "invalid UTF-8 in purl");
	return 0;
}

/* Find the last occurrence of c in s[start..end), or end if none. */
static size_t
find_last(const char *s, size_t start, size_t end, char c)
{
	for (size_t i = end; i > start; i--)
		if (s[i - 1] == c)
			return i - 1;
	return end;
}

/* Find the first occurrence of c in s[start..end), or end if none. */
static size_t
find_first(const char *s, size_t start, size_t end, char c)
{
	for (size_t i = start; i < end; i++)
		if (s[i] == c)
			return i;
	return end;
}

/*
 * Parse a purl string into its parts; see purl.h for the contract and the
 * file header for the split order.
 */
int
sp_purl_parse(const char *s, SpArena *a, SpPurl **out, char *errbuf,
			  size_t errlen)
{
	PurlParser	ps = {s, a, errbuf, errlen};
	SpPurl	   *p;
	size_t		len;
	size_t		pos;
	size_t		end;
	size_t		hash;
	size_t		qmark;
	size_t		type_end;
	size_t		path_start;
	size_t		path_end;
	size_t		last_slash;
	size_t		name_start;
	size_t		at;
	unsigned int flags;
	char		desc[32];
	char	   *type;
	char	   *name;

	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	if (s == NULL || a == NULL || out == NULL)
	{
		if (errbuf != NULL && errlen > 0)
			snprintf(errbuf, errlen, "no purl given");
		return -1;
	}
	*out = NULL;

	/* Bound the work before looking at the bytes. */
	for (len = 0; len <= SP_PURL_MAX_LEN && s[len] != '\0'; len++)
		;
	if (len > SP_PURL_MAX_LEN)
		return purl_error(&ps, SP_PURL_MAX_LEN,
						  "purl is longer than %d bytes", SP_PURL_MAX_LEN);
	if (len == 0)
		return purl_error(&ps, 0, "purl is empty");
	if (purl_check_bytes(&ps, len) < 0)
		return -1;

	/* The scheme, case-insensitive, then any number of ignored slashes. */
	if (len < 4 || to_lower((unsigned char) s[0]) != 'p' ||
		to_lower((unsigned char) s[1]) != 'k' ||
		to_lower((unsigned char) s[2]) != 'g' || s[3] != ':')
		return purl_error(&ps, 0, "purl must start with \"pkg:\"");
	pos = 4;
	while (pos < len && s[pos] == '/')
		pos++;

	p = sp_alloc(a, sizeof(SpPurl));
	if (p == NULL)
		return purl_oom(&ps);

	/* Subpath after the last '#', qualifiers after the first '?'. */
	end = len;
	hash = find_last(s, pos, end, '#');
	qmark = find_first(s, pos, hash, '?');

	/* The type runs to the first '/'; it is never percent-encoded. */
	type_end = find_first(s, pos, qmark, '/');
	if (type_end == pos)
		return purl_error(&ps, pos, "type is missing");
	if (!is_alpha((unsigned char) s[pos]))
		return purl_error(&ps, pos, "type must start with a letter");
	for (size_t i = pos; i < type_end; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (!is_alpha(c) && !is_digit(c) && c != '.' && c != '+' && c != '-')
			return purl_error(&ps, i, "invalid %s in type",
							  purl_byte_desc(c, desc, sizeof(desc)));
	}
	type = sp_strndup(a, s + pos, type_end - pos);
	if (type == NULL)
		return purl_oom(&ps);
	ascii_lower(type);
	p->type = type;
	flags = purl_type_flags(type);

	/* Namespace and name; slashes at either end are not significant. */
	path_start = type_end;
	path_end = qmark;
	while (path_end > path_start && s[path_end - 1] == '/')
		path_end--;
	if (path_end <= path_start)
		return purl_error(&ps, path_end, "name is missing");
	last_slash = find_last(s, path_start, path_end, '/');
	name_start = last_slash + 1;

	/* The version follows the first '@' of the last segment. */
	at = find_first(s, name_start, path_end, '@');
	if (at == name_start)
		return purl_error(&ps, name_start, "name is missing");
	if (at < path_end && at + 1 == path_end)
		return purl_error(&ps, at, "version is empty after \"@\"");

	if (purl_decode(&ps, name_start, at, &name) < 0)
		return -1;
	if (at < path_end)
	{
		char	   *version;

		if (purl_decode(&ps, at + 1, path_end, &version) < 0)
			return -1;
		if (flags & PT_VERSION_LOWER)
			ascii_lower(version);
		p->version = version;
	}

	if (last_slash > path_start)
	{
		char	   *ns;

		if (purl_segments(&ps, path_start, last_slash, false, "namespace",
						  &ns) < 0)
			return -1;
		if (ns != NULL && (flags & PT_NS_LOWER))
			ascii_lower(ns);
		if (ns != NULL && (flags & PT_NS_UPPER))
			ascii_upper(ns);
		p->namespace = ns;
	}

	if (qmark < hash &&
		purl_qualifiers(&ps, qmark + 1, hash, p) < 0)
		return -1;

	if (hash < end)
	{
		char	   *subpath;

		if (purl_segments(&ps, hash + 1, end, true, "subpath", &subpath) < 0)
			return -1;
		p->subpath = subpath;
	}

	/* Type-specific name rules, once the qualifiers are known. */
	if (flags & PT_NAME_LOWER)
		ascii_lower(name);
	if (flags & PT_NAME_DASH)
		replace_byte(name, '_', '-');
	if (flags & PT_NAME_UNDERSCORE)
		replace_byte(name, '-', '_');
	if (flags & PT_NAME_DATABRICKS)
	{
		const char *repo = sp_purl_qualifier(p, "repository_url");

		/* Databricks model names are case-insensitive; Azure ML's are not. */
		if (repo != NULL && strstr(repo, "databricks") != NULL)
			ascii_lower(name);
	}
	p->name = name;

	/* Parts that the type makes mandatory. */
	if ((flags & PT_NS_REQUIRED) && p->namespace == NULL)
		return purl_error(&ps, path_start, "type \"%s\" requires a namespace",
						  type);
	if ((flags & PT_VERSION_REQUIRED) && p->version == NULL)
		return purl_error(&ps, path_end, "type \"%s\" requires a version",
						  type);

	/*
	 * Escaping can make the canonical form up to three times longer than
	 * the input; refuse what would print beyond the limit, so that every
	 * canonical string we hand out parses again.
	 */
	if (purl_printed_len(p, true, true) > SP_PURL_MAX_LEN)
		return purl_error(&ps, 0,
						  "canonical form of purl would be longer than %d bytes",
						  SP_PURL_MAX_LEN);

	*out = p;
	return 0;
}

/* Binary search of the sorted qualifiers for key. */
const char *
sp_purl_qualifier(const SpPurl *p, const char *key)
{
	int			lo = 0;
	int			hi;

	if (p == NULL || key == NULL)
		return NULL;
	hi = p->nqualifiers - 1;
	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			c = strcmp(p->qualifiers[mid].key, key);

		if (c == 0)
			return p->qualifiers[mid].value;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

/*
 * Whether a byte is written as itself in the canonical form: ASCII letters,
 * digits, ".-_~" and ':'; '/' too where keep_slash (it separates namespace
 * and subpath segments, and reads better in qualifier URLs).  Everything
 * else is percent-encoded.
 */
static bool
purl_plain(unsigned char c, bool keep_slash)
{
	return is_alpha(c) || is_digit(c) || c == '.' || c == '-' || c == '_' ||
		c == '~' || c == ':' || (keep_slash && c == '/');
}

/* The length of src once percent-encoded. */
static size_t
purl_encoded_len(const char *src, bool keep_slash)
{
	size_t		n = 0;

	for (const unsigned char *u = (const unsigned char *) src; *u; u++)
		n += purl_plain(*u, keep_slash) ? 1 : 3;
	return n;
}

/* Append src to w percent-encoded; returns the new end. */
static char *
purl_encode(char *w, const char *src, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *u = (const unsigned char *) src; *u; u++)
	{
		unsigned char c = *u;

		if (purl_plain(c, keep_slash))
			*w++ = (char) c;
		else
		{
			*w++ = '%';
			*w++ = hex[c >> 4];
			*w++ = hex[c & 0x0F];
		}
	}
	return w;
}

/* The exact length purl_build() prints, without the terminating NUL. */
static size_t
purl_printed_len(const SpPurl *p, bool with_version, bool full)
{
	size_t		n = 4 + strlen(p->type) + 1;

	n += purl_encoded_len(p->name, false);

	if (p->namespace)
		n += purl_encoded_len(p->namespace, true) + 1;
	if (with_version && p->version)
		n += 1 + purl_encoded_len(p->version, false);
	if (full)
	{
		for (int i = 0; i < p->nqualifiers; i++)
			n += 1 + strlen(p->qualifiers[i].key) + 1 +
				purl_encoded_len(p->qualifiers[i].value, true);
		if (p->subpath)
			n += 1 + purl_encoded_len(p->subpath, true);
	}
	return n;
}

/* Print the canonical string, or only its base (see sp_purl_base). */
static char *
purl_build(const SpPurl *p, bool with_version, bool full, SpArena *a)
{
	size_t		need;
	char	   *buf;
	char	   *w;

	if (p == NULL || p->type == NULL || p->name == NULL)
		return NULL;

	need = purl_printed_len(p, with_version, full) + 1;
	buf = sp_alloc(a, need);
	if (buf == NULL)
		return NULL;
	w = buf;

	memcpy(w, "pkg:", 4);
	w += 4;
	for (const char *t = p->type; *t; t++)
		*w++ = (char) to_lower((unsigned char) *t);
	*w++ = '/';
	if (p->namespace)
	{
		w = purl_encode(w, p->namespace, true);
		*w++ = '/';
	}
	w = purl_encode(w, p->name, false);
	if (with_version && p->version)
	{
		*w++ = '@';
		w = purl_encode(w, p->version, false);
	}

	if (full)
	{
		for (int i = 0; i < p->nqualifiers; i++)
		{
			size_t		klen = strlen(p->qualifiers[i].key);

			*w++ = (i == 0) ? '?' : '&';
			memcpy(w, p->qualifiers[i].key, klen);
			w += klen;
			*w++ = '=';
			w = purl_encode(w, p->qualifiers[i].value, true);
		}
		if (p->subpath)
		{
			*w++ = '#';
			w = purl_encode(w, p->subpath, true);
		}
	}
	*w = '\0';
	return buf;
}

/* The canonical purl string; see purl.h. */
char *
sp_purl_canonical(const SpPurl *p, SpArena *a)
{
	return purl_build(p, true, true, a);
}

/* The matching key: type, namespace, name and optionally the version. */
char *
sp_purl_base(const SpPurl *p, bool with_version, SpArena *a)
{
	return purl_build(p, with_version, false, a);
}
