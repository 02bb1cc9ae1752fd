/*-------------------------------------------------------------------------
 *
 * version_misc.c
 *	  RubyGems (Gem::Version) and Packagist (Composer) versions.
 *
 * Both are list-shaped: the parse builds an array of segments in the arena
 * and comparison walks two arrays.  RubyGems: "-" means ".pre.", segments
 * are digit or letter runs, trailing zeros of the numeric and of the
 * string part are dropped, strings sort before numbers.  Composer: the
 * version is normalised as VersionParser::normalize() does (four numeric
 * parts, stability suffix spelt out) and then ordered as PHP's
 * version_compare() orders it (dev < alpha < beta < RC < number < patch).
 *
 *-------------------------------------------------------------------------
 */
#include "version.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define SEG_NUM 0
#define SEG_STR 1

/* Append one segment, growing by doubling into the arena. */
static bool
seg_push(SpArena *arena, SpItemList *l, int *cap, int kind, const char *s,
		 size_t len, int rank)
{
	SpVerItem  *it;

	if (l->n == *cap)
	{
		int			ncap = *cap ? *cap * 2 : 8;
		SpVerItem  *n = sp_alloc(arena, sizeof(SpVerItem) * ncap);

		if (n == NULL)
			return false;
		if (l->n)
			memcpy(n, l->items, sizeof(SpVerItem) * l->n);
		l->items = n;
		*cap = ncap;
	}
	it = &l->items[l->n++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->rank = rank;
	if (kind == SEG_NUM)
		it->num = sp_num_make(s, len);
	it->str = s;
	it->slen = (uint32_t) len;
	return true;
}

/* ----------------------------------------------------------------
 * RubyGems
 * ----------------------------------------------------------------
 */

static bool
gem_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
		c == '\f' || c == '\0';
}

/* Check Gem::Version's pattern on [p, end). */
static bool
gem_valid(const char *p, const char *end)
{
	if (p == end)
		return true;			/* blank means "0" */
	if (!isdigit((unsigned char) *p))
		return false;
	while (p < end && isdigit((unsigned char) *p))
		p++;
	while (p < end && *p == '.')
	{
		const char *q = ++p;

		while (p < end && isalnum((unsigned char) *p))
			p++;
		if (p == q)
			return false;
	}
	if (p < end && *p == '-')
	{
		do
		{
			const char *q = ++p;

			while (p < end && (isalnum((unsigned char) *p) || *p == '-'))
				p++;
			if (p == q)
				return false;
		} while (p < end && *p == '.');
	}
	return p == end;
}

/* Drop trailing zero numbers from items[from, to); returns the new end. */
static int
gem_trim(SpVerItem *items, int from, int to)
{
	while (to > from && items[to - 1].kind == SEG_NUM &&
		   items[to - 1].num.len == 0)
		to--;
	return to;
}

/* Parse a Gem::Version into its canonical segments. */
int
sp_gem_parse(const char *s, SpArena *arena, SpVersion *out, char *eb,
			 size_t el)
{
	const char *p = s;
	const char *end = s + strlen(s);
	SpItemList *l = &out->u.list;
	SpItemList	raw = {NULL, 0};
	int			cap = 0;
	int			first_str;
	int			nnum;
	int			nstr;

	while (p < end && gem_space(*p))
		p++;
	while (end > p && gem_space(end[-1]))
		end--;
	if (!gem_valid(p, end))
		return sp_verr(eb, el, SP_SCHEME_GEM, s, "malformed version number");

	/* segments; each "-" stands for ".pre." */
	while (p < end)
	{
		const char *q = p;
		bool		ok = true;

		if (*p == '-')
		{
			ok = seg_push(arena, &raw, &cap, SEG_STR, "pre", 3, 0);
			p++;
		}
		else if (isdigit((unsigned char) *p))
		{
			while (p < end && isdigit((unsigned char) *p))
				p++;
			ok = seg_push(arena, &raw, &cap, SEG_NUM, q, p - q, 0);
		}
		else if (isalpha((unsigned char) *p))
		{
			while (p < end && isalpha((unsigned char) *p))
				p++;
			ok = seg_push(arena, &raw, &cap, SEG_STR, q, p - q, 0);
		}
		else
			p++;
		if (!ok)
			return sp_verr(eb, el, SP_SCHEME_GEM, s, "out of memory");
	}

	/* canonical segments: trailing zeros of each part dropped */
	for (first_str = 0; first_str < raw.n; first_str++)
		if (raw.items[first_str].kind == SEG_STR)
			break;
	nnum = gem_trim(raw.items, 0, first_str);
	nstr = gem_trim(raw.items, first_str, raw.n) - first_str;
	if (nnum < first_str && nstr > 0)
		memmove(raw.items + nnum, raw.items + first_str,
				sizeof(SpVerItem) * nstr);
	l->items = raw.items;
	l->n = nnum + nstr;
	return 0;
}

/* Gem::Version#<=> on canonical segments (missing counts as 0). */
int
sp_gem_cmp(const SpVersion *va, const SpVersion *vb)
{
	const SpItemList *a = &va->u.list;
	const SpItemList *b = &vb->u.list;
	int			n = a->n > b->n ? a->n : b->n;
	SpVerItem	zero;

	memset(&zero, 0, sizeof(zero));
	for (int i = 0; i < n; i++)
	{
		const SpVerItem *x = i < a->n ? &a->items[i] : &zero;
		const SpVerItem *y = i < b->n ? &b->items[i] : &zero;
		int			c;

		if (x->kind != y->kind)
			return x->kind == SEG_STR ? -1 : 1;
		if (x->kind == SEG_NUM)
			c = sp_numcmp(x->num, y->num);
		else
		{
			size_t		m = x->slen < y->slen ? x->slen : y->slen;

			c = memcmp(x->str, y->str, m);
			if (c == 0 && x->slen != y->slen)
				c = x->slen < y->slen ? -1 : 1;
		}
		if (c)
			return c < 0 ? -1 : 1;
	}
	return 0;
}

/* ----------------------------------------------------------------
 * Composer
 * ----------------------------------------------------------------
 */

/* PHP version_compare() ranks of special forms; "#" is any number. */
static int
php_form_rank(const char *s, size_t len)
{
	static const struct
	{
		const char *name;
		int			rank;
	}			forms[] = {
		{"dev", 0}, {"alpha", 1}, {"a", 1}, {"beta", 2}, {"b", 2},
		{"RC", 3}, {"rc", 3}, {"#", 4}, {"pl", 5}, {"p", 5}
	};

	/* PHP matches by prefix: "patch" is "p" */
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
	{
		size_t		n = strlen(forms[i].name);

		if (len >= n && strncmp(s, forms[i].name, n) == 0)
			return forms[i].rank;
	}
	return -1;
}

/* Expand a Composer stability word to its normal spelling. */
static const char *
composer_stability(const char *s, size_t len)
{
	if (len == 1 && (*s == 'a' || *s == 'A'))
		return "alpha";
	if (len == 1 && (*s == 'b' || *s == 'B'))
		return "beta";
	if ((len == 1 && (*s == 'p' || *s == 'P')) ||
		(len == 2 && strncasecmp(s, "pl", 2) == 0))
		return "patch";
	if (len == 2 && strncasecmp(s, "rc", 2) == 0)
		return "RC";
	if (len == 5 && strncasecmp(s, "alpha", 5) == 0)
		return "alpha";
	if (len == 4 && strncasecmp(s, "beta", 4) == 0)
		return "beta";
	if (len == 5 && strncasecmp(s, "patch", 5) == 0)
		return "patch";
	if (len == 6 && strncasecmp(s, "stable", 6) == 0)
		return "stable";
	return NULL;
}

/*
 * Normalise like VersionParser::normalize() for numbered versions:
 * v?N(.N){0,3} padded to four parts, then [._-]?(stability)(N...)?, then
 * [.-]?dev.  Branch names (dev-*) and dates beyond four parts are refused.
 * Then split the result the way version_compare() canonicalises it.
 *
 * XXX should dev-<branch> versions sort as Composer's Constraint does
 * instead of being refused?
 */
int
sp_composer_parse(const char *s, SpArena *arena, SpVersion *out, char *eb,
				  size_t el)
{
	const char *p = s;
	const char *end = s + strlen(s);
	SpItemList *l = &out->u.list;
	int			cap = 0;
	int			parts = 0;
	const char *at;

	l->items = NULL;
	l->n = 0;

	while (p < end && isspace((unsigned char) *p))
		p++;
	while (end > p && isspace((unsigned char) end[-1]))
		end--;

	/* "@stable" style flags are not part of the version */
	at = memchr(p, '@', end - p);
	if (at)
		end = at;
	if (p < end && (*p == 'v' || *p == 'V'))
		p++;

	/* up to four numeric parts, missing ones are zero */
	while (parts < 4)
	{
		const char *q = p;

		while (p < end && isdigit((unsigned char) *p))
			p++;
		if (p == q)
		{
			if (parts == 0)
				return sp_verr(eb, el, SP_SCHEME_COMPOSER, s,
							   "invalid version string");
			p = q - 1;			/* give the dot back */
			break;
		}
		if (!seg_push(arena, l, &cap, SEG_NUM, q, p - q, 4))
			return sp_verr(eb, el, SP_SCHEME_COMPOSER, s, "out of memory");
		parts++;
		if (parts == 4 || p >= end || *p != '.')
			break;
		p++;
	}
	while (parts < 4)
	{
		if (!seg_push(arena, l, &cap, SEG_NUM, "0", 1, 4))
			return sp_verr(eb, el, SP_SCHEME_COMPOSER, s, "out of memory");
		parts++;
	}

	/* stability suffix with optional numbers */
	if (p < end && (*p == '.' || *p == '_' || *p == '-'))
	{
		const char *save = p++;
		const char *q = p;
		const char *word;

		while (p < end && isalpha((unsigned char) *p))
			p++;
		word = composer_stability(q, p - q);
		if (word == NULL)
			p = save;
		else if (strcmp(word, "stable") != 0)
		{
			if (!seg_push(arena, l, &cap, SEG_STR, word, strlen(word),
						  php_form_rank(word, strlen(word))))
				return sp_verr(eb, el, SP_SCHEME_COMPOSER, s, "out of memory");
		}
		while (word && p < end)
		{
			const char *d = p;

			if (*d == '.' || *d == '-')
				d++;
			q = d;
			while (d < end && isdigit((unsigned char) *d))
				d++;
			if (d == q)
				break;
			if (!seg_push(arena, l, &cap, SEG_NUM, q, d - q, 4))
				return sp_verr(eb, el, SP_SCHEME_COMPOSER, s, "out of memory");
			p = d;
		}
	}
	else if (p < end && isalpha((unsigned char) *p))
	{
		/* "1.0RC1": the separator is optional */
		const char *q = p;
		const char *word;

		while (p < end && isalpha((unsigned char) *p))
			p++;
		word = composer_stability(q, p - q);
		if (word == NULL)
			p = q;
		else
		{
			if (strcmp(word, "stable") != 0 &&
				!seg_push(arena, l, &cap, SEG_STR, word, strlen(word),
						  php_form_rank(word, strlen(word))))
				return sp_verr(eb, el, SP_SCHEME_COMPOSER, s, "out of memory");
			q = p;
			while (p < end && isdigit((unsigned char) *p))
				p++;
			if (p > q &&
				!seg_push(arena, l, &cap, SEG_NUM, q, p - q, 4))
				return sp_verr(eb, el, SP_SCHEME_COMPOSER, s, "out of memory");
		}
	}

	/* trailing -dev */
	if (p < end)
	{
		const char *q = (*p == '.' || *p == '-') ? p + 1 : p;

		if (end - q == 3 && strncasecmp(q, "dev", 3) == 0)
		{
			if (!seg_push(arena, l, &cap, SEG_STR, "dev", 3, 0))
				return sp_verr(eb, el, SP_SCHEME_COMPOSER, s, "out of memory");
			p = end;
		}
	}
	if (p != end)
		return sp_verr(eb, el, SP_SCHEME_COMPOSER, s, "invalid version string");
	return 0;
}

/* version_compare() on two normalised Composer versions. */
int
sp_composer_cmp(const SpVersion *va, const SpVersion *vb)
{
	const SpItemList *a = &va->u.list;
	const SpItemList *b = &vb->u.list;
	int			i;

	for (i = 0; i < a->n && i < b->n; i++)
	{
		const SpVerItem *x = &a->items[i];
		const SpVerItem *y = &b->items[i];
		int			c;

		if (x->kind == SEG_NUM && y->kind == SEG_NUM)
			c = sp_numcmp(x->num, y->num);
		else
			c = x->rank < y->rank ? -1 : (x->rank > y->rank);
		if (c)
			return c;
	}

	/* a longer tail: a number makes it newer, a word is ranked against "#" */
	if (i < a->n)
		return a->items[i].kind == SEG_NUM ? 1 : (a->items[i].rank < 4 ? -1 : 1);
	if (i < b->n)
		return b->items[i].kind == SEG_NUM ? -1 : (b->items[i].rank < 4 ? 1 : -1);
	return 0;
}
