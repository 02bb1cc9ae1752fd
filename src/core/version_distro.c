/*-------------------------------------------------------------------------
 *
 * version_distro.c
 *	  Operating-system package versions: dpkg (Debian, Ubuntu), RPM (Red
 *	  Hat and friends, SUSE) and apk (Alpine).
 *
 * dpkg follows parseversion() and verrevcmp() of dpkg 1.21: what dpkg
 * reports as an error or a warning is refused here.  RPM follows
 * rpmverCmp()/rpmvercmp() of rpm 4.18 ("~" sorts before anything, "^"
 * after the base version but before anything else).  apk follows the token
 * machine of apk-tools 2.x.  All three keep spans of the text; nothing is
 * copied or allocated.
 *
 *-------------------------------------------------------------------------
 */
#include "version.h"

#include <string.h>

static bool
c_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool
c_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
c_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
		c == '\f';
}

/* ----------------------------------------------------------------
 * dpkg
 * ----------------------------------------------------------------
 */

/* Parse [epoch:]upstream[-revision] with dpkg's checks. */
int
sp_dpkg_parse(const char *s, SpVersion *out, char *eb, size_t el)
{
	SpEvrParts *evr = &out->u.evr;
	const char *p = s;
	const char *end;
	const char *colon;
	const char *hyphen;

	/* dpkg trims surrounding blanks but refuses embedded ones */
	while (c_space(*p))
		p++;
	end = p + strlen(p);
	while (end > p && c_space(end[-1]))
		end--;
	if (p == end)
		return sp_verr(eb, el, SP_SCHEME_DPKG, s, "version string is empty");
	for (const char *q = p; q < end; q++)
		if (c_space(*q))
			return sp_verr(eb, el, SP_SCHEME_DPKG, s,
						   "version string has embedded spaces");

	/* epoch: digits before the first colon, at most INT_MAX */
	colon = memchr(p, ':', end - p);
	if (colon)
	{
		SpNum		e;

		if (colon == p)
			return sp_verr(eb, el, SP_SCHEME_DPKG, s, "epoch in version is empty");
		for (const char *q = p; q < colon; q++)
			if (!c_digit(*q))
				return sp_verr(eb, el, SP_SCHEME_DPKG, s,
							   "epoch in version is not number");
		e = sp_num_make(p, colon - p);
		if (sp_numcmp(e, sp_num_make("2147483647", 10)) > 0)
			return sp_verr(eb, el, SP_SCHEME_DPKG, s,
						   "epoch in version is too big");
		evr->epoch = p;
		evr->elen = (uint32_t) (colon - p);
		p = colon + 1;
	}

	/* revision: after the last hyphen */
	hyphen = NULL;
	for (const char *q = p; q < end; q++)
		if (*q == '-')
			hyphen = q;
	evr->ver = p;
	evr->vlen = (uint32_t) ((hyphen ? hyphen : end) - p);
	if (hyphen)
	{
		evr->rel = hyphen + 1;
		evr->rlen = (uint32_t) (end - hyphen - 1);
		if (evr->rlen == 0)
			return sp_verr(eb, el, SP_SCHEME_DPKG, s,
						   "revision number is empty");
	}
	if (evr->vlen == 0)
		return sp_verr(eb, el, SP_SCHEME_DPKG, s, "version number is empty");

	/* what dpkg only warns about cannot come from a real package either */
	if (!c_digit(evr->ver[0]))
		return sp_verr(eb, el, SP_SCHEME_DPKG, s,
					   "version number does not start with digit");
	for (uint32_t i = 0; i < evr->vlen; i++)
	{
		char		c = evr->ver[i];

		if (!c_digit(c) && !c_alpha(c) && strchr(".-+~:", c) == NULL)
			return sp_verr(eb, el, SP_SCHEME_DPKG, s,
						   "invalid character in version number");
	}
	for (uint32_t i = 0; i < evr->rlen; i++)
	{
		char		c = evr->rel[i];

		if (!c_digit(c) && !c_alpha(c) && strchr(".+~", c) == NULL)
			return sp_verr(eb, el, SP_SCHEME_DPKG, s,
						   "invalid character in revision number");
	}
	return 0;
}

/* dpkg's character weight: '~' first, then end, letters, other symbols. */
static int
dpkg_order(int c)
{
	if (c_digit(c))
		return 0;
	if (c_alpha(c))
		return c;
	if (c == '~')
		return -1;
	if (c)
		return c + 256;
	return 0;
}

/* verrevcmp over two spans. */
static int
dpkg_verrevcmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t		i = 0,
				j = 0;

#define AT(s, n, k) ((k) < (n) ? (unsigned char) (s)[k] : 0)
	while (i < alen || j < blen)
	{
		int			first_diff = 0;

		/* the non-digit prefix, character by character */
		while ((i < alen && !c_digit(AT(a, alen, i))) ||
			   (j < blen && !c_digit(AT(b, blen, j))))
		{
			int			ac = dpkg_order(AT(a, alen, i));
			int			bc = dpkg_order(AT(b, blen, j));

			if (ac != bc)
				return ac < bc ? -1 : 1;
			i++;
			j++;
		}

		/* then the numeric part by value */
		while (AT(a, alen, i) == '0')
			i++;
		while (AT(b, blen, j) == '0')
			j++;
		while (c_digit(AT(a, alen, i)) && c_digit(AT(b, blen, j)))
		{
			if (!first_diff)
				first_diff = AT(a, alen, i) - AT(b, blen, j);
			i++;
			j++;
		}
		if (c_digit(AT(a, alen, i)))
			return 1;
		if (c_digit(AT(b, blen, j)))
			return -1;
		if (first_diff)
			return first_diff < 0 ? -1 : 1;
	}
#undef AT
	return 0;
}

/* Compare epoch, upstream version, revision. */
int
sp_dpkg_cmp(const SpVersion *va, const SpVersion *vb)
{
	const SpEvrParts *a = &va->u.evr;
	const SpEvrParts *b = &vb->u.evr;
	int			c;

	c = sp_numcmp(sp_num_make(a->epoch ? a->epoch : "", a->elen),
				  sp_num_make(b->epoch ? b->epoch : "", b->elen));
	if (c)
		return c;
	c = dpkg_verrevcmp(a->ver, a->vlen, b->ver, b->vlen);
	if (c)
		return c;
	return dpkg_verrevcmp(a->rel ? a->rel : "", a->rlen,
						  b->rel ? b->rel : "", b->rlen);
}

/* ----------------------------------------------------------------
 * RPM
 * ----------------------------------------------------------------
 */

/* Split [epoch:]version[-release] the way rpm's parseEVR() does. */
int
sp_rpm_parse(const char *s, SpVersion *out, char *eb, size_t el)
{
	SpEvrParts *evr = &out->u.evr;
	const char *p = s;
	const char *end = s + strlen(s);
	const char *hyphen = NULL;

	/* rpm's version parser refuses only the empty string */
	if (*s == '\0')
		return sp_verr(eb, el, SP_SCHEME_RPM, s, "empty version");

	while (c_digit(*p))
		p++;
	for (const char *q = p; q < end; q++)
		if (*q == '-')
			hyphen = q;

	if (*p == ':')
	{
		evr->epoch = (p == s) ? "0" : s;
		evr->elen = (p == s) ? 1 : (uint32_t) (p - s);
		evr->ver = p + 1;
	}
	else
		evr->ver = s;
	evr->vlen = (uint32_t) ((hyphen ? hyphen : end) - evr->ver);
	if (hyphen)
	{
		evr->rel = hyphen + 1;
		evr->rlen = (uint32_t) (end - hyphen - 1);
	}
	return 0;
}

static bool
rpm_alnum(int c)
{
	return c_digit(c) || c_alpha(c);
}

/* rpmvercmp over two spans. */
static int
rpm_vercmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t		i = 0,
				j = 0;

	if (alen == blen && memcmp(a, b, alen) == 0)
		return 0;

#define CA (i < alen ? (unsigned char) a[i] : 0)
#define CB (j < blen ? (unsigned char) b[j] : 0)
	while (i < alen || j < blen)
	{
		size_t		si,
					sj;
		bool		isnum;
		size_t		la,
					lb;
		int			c;

		/* separators are skipped; "~" and "^" are not separators */
		while (i < alen && !rpm_alnum(CA) && CA != '~' && CA != '^')
			i++;
		while (j < blen && !rpm_alnum(CB) && CB != '~' && CB != '^')
			j++;

		/* "~" sorts before everything, even the end */
		if (CA == '~' || CB == '~')
		{
			if (CA != '~')
				return 1;
			if (CB != '~')
				return -1;
			i++, j++;
			continue;
		}

		/* "^" sorts after the end but before anything else */
		if (CA == '^' || CB == '^')
		{
			if (i >= alen)
				return -1;
			if (j >= blen)
				return 1;
			if (CA != '^')
				return 1;
			if (CB != '^')
				return -1;
			i++, j++;
			continue;
		}

		if (!(i < alen && j < blen))
			break;

		/* the next all-digit or all-letter run on both sides */
		si = i;
		sj = j;
		isnum = c_digit(CA);
		if (isnum)
		{
			while (i < alen && c_digit(CA))
				i++;
			while (j < blen && c_digit(CB))
				j++;
		}
		else
		{
			while (i < alen && c_alpha(CA))
				i++;
			while (j < blen && c_alpha(CB))
				j++;
		}
		if (j == sj)
			return isnum ? 1 : -1;	/* numbers beat letters */

		if (isnum)
		{
			SpNum		na = sp_num_make(a + si, i - si);
			SpNum		nb = sp_num_make(b + sj, j - sj);

			c = sp_numcmp(na, nb);
		}
		else
		{
			la = i - si;
			lb = j - sj;
			c = memcmp(a + si, b + sj, la < lb ? la : lb);
			if (c == 0 && la != lb)
				c = la < lb ? -1 : 1;
		}
		if (c)
			return c < 0 ? -1 : 1;
	}
	if (i >= alen && j >= blen)
		return 0;
	return i < alen ? 1 : -1;
#undef CA
#undef CB
}

/* rpmverCmp: epoch (missing is 0), version, then release. */
int
sp_rpm_cmp(const SpVersion *va, const SpVersion *vb)
{
	const SpEvrParts *a = &va->u.evr;
	const SpEvrParts *b = &vb->u.evr;
	int			c;

	c = rpm_vercmp(a->epoch ? a->epoch : "0", a->epoch ? a->elen : 1,
				   b->epoch ? b->epoch : "0", b->epoch ? b->elen : 1);
	if (c)
		return c;
	c = rpm_vercmp(a->ver, a->vlen, b->ver, b->vlen);
	if (c)
		return c;
	if (a->rel && b->rel)
		return rpm_vercmp(a->rel, a->rlen, b->rel, b->rlen);

	/* rpm.ver ranks a version with a release (even "") above one without */
	if (a->rel || b->rel)
		return a->rel ? 1 : -1;
	return 0;
}

/* ----------------------------------------------------------------
 * apk
 * ----------------------------------------------------------------
 */

enum
{
	TK_INVALID = -1,
	TK_DIGIT_OR_ZERO,
	TK_DIGIT,
	TK_LETTER,
	TK_SUFFIX,
	TK_SUFFIX_NO,
	TK_REVISION_NO,
	TK_END
};

typedef struct ApkCur
{
	const char *p;
	const char *end;
	int			type;
} ApkCur;

/* Read the separator after a token and decide the next token's type. */
static void
apk_next_type(ApkCur *c)
{
	int			n = TK_INVALID;
	int			t = c->type;

	if (c->p >= c->end)
		n = TK_END;
	else if ((t == TK_DIGIT || t == TK_DIGIT_OR_ZERO) &&
			 *c->p >= 'a' && *c->p <= 'z')
		n = TK_LETTER;
	else if (t == TK_LETTER && c_digit(*c->p))
		n = TK_DIGIT;
	else if (t == TK_SUFFIX && c_digit(*c->p))
		n = TK_SUFFIX_NO;
	else
	{
		switch (*c->p)
		{
			case '.':
				n = TK_DIGIT_OR_ZERO;
				break;
			case '_':
				n = TK_SUFFIX;
				break;
			case '-':
				if (c->end - c->p > 1 && c->p[1] == 'r')
				{
					n = TK_REVISION_NO;
					c->p++;
				}
				break;
		}
		c->p++;
	}

	/* tokens only move forward, apart from a few legal repeats */
	if (n < t &&
		!((n == TK_DIGIT_OR_ZERO && t == TK_DIGIT) ||
		  (n == TK_SUFFIX && t == TK_SUFFIX_NO) ||
		  (n == TK_DIGIT && t == TK_LETTER)))
		n = TK_INVALID;
	c->type = n;
}

/*
 * Read one token's value and advance.  Numbers are compared as digit runs;
 * a number after a dot that starts with zeros counts as minus the number
 * of zeros, then its remaining digits as a further token, as apk does.
 */
static void
apk_token(ApkCur *c, SpNum *num, long *v)
{
	static const char *const pre[] = {"alpha", "beta", "pre", "rc"};
	static const char *const post[] = {"cvs", "svn", "git", "hg", "p"};
	const char *q = c->p;
	int			next = TK_INVALID;

	*v = 0;
	num->d = NULL;
	num->len = 0;
	if (c->p >= c->end)
	{
		c->type = TK_END;
		return;
	}

	switch (c->type)
	{
		case TK_DIGIT_OR_ZERO:
			if (*q == '0')
			{
				while (q < c->end && *q == '0')
					q++;
				*v = -(long) (q - c->p);
				next = TK_DIGIT;
				break;
			}
			/* FALLTHROUGH */
		case TK_DIGIT:
		case TK_SUFFIX_NO:
		case TK_REVISION_NO:
			while (q < c->end && c_digit(*q))
				q++;
			*num = sp_num_make(c->p, q - c->p);
			*v = 1;				/* compare by num */
			break;
		case TK_LETTER:
			*v = (unsigned char) *q++;
			break;
		case TK_SUFFIX:
			for (int i = 0; i < 4; i++)
			{
				size_t		n = strlen(pre[i]);

				if ((size_t) (c->end - q) >= n && memcmp(q, pre[i], n) == 0)
				{
					*v = i - 4;
					q += n;
					goto suffix_done;
				}
			}
			for (int i = 0; i < 5; i++)
			{
				size_t		n = strlen(post[i]);

				if ((size_t) (c->end - q) >= n && memcmp(q, post[i], n) == 0)
				{
					*v = i;
					q += n;
					goto suffix_done;
				}
			}
			c->type = TK_INVALID;
			return;
	suffix_done:
			break;
		default:
			c->type = TK_INVALID;
			return;
	}
	c->p = q;
	if (c->p >= c->end)
		c->type = TK_END;
	else if (next != TK_INVALID)
		c->type = next;
	else
		apk_next_type(c);
}

/* Compare the values of two tokens of the same type. */
static int
apk_val_cmp(int type, SpNum an, long av, SpNum bn, long bv)
{
	bool		anum = (type != TK_LETTER && type != TK_SUFFIX && av == 1);
	bool		bnum = (type != TK_LETTER && type != TK_SUFFIX && bv == 1);

	if (anum && bnum)
		return sp_numcmp(an, bn);
	if (anum)
		return 1;				/* a number beats a run of leading zeros */
	if (bnum)
		return -1;
	return av < bv ? -1 : (av > bv ? 1 : 0);
}

/*
 * Check that the whole string tokenises; this is apk's validity rule.
 * TODO check the apk-tools 3 corner cases once a reference is available.
 */
int
sp_apk_parse(const char *s, SpVersion *out, char *eb, size_t el)
{
	ApkCur		c = {s, s + strlen(s), TK_DIGIT};
	SpNum		n;
	long		v;

	if (*s == '\0' || !c_digit(*s))
		return sp_verr(eb, el, SP_SCHEME_APK, s, "must start with a digit");
	while (c.type != TK_END && c.type != TK_INVALID)
		apk_token(&c, &n, &v);
	if (c.type == TK_INVALID)
		return sp_verr(eb, el, SP_SCHEME_APK, s, "not an apk version");
	out->u.raw.s = s;
	out->u.raw.len = (uint32_t) strlen(s);
	return 0;
}

/* apk_version_compare: token by token, then the end rules for suffixes. */
int
sp_apk_cmp(const SpVersion *va, const SpVersion *vb)
{
	ApkCur		a = {va->u.raw.s, va->u.raw.s + va->u.raw.len, TK_DIGIT};
	ApkCur		b = {vb->u.raw.s, vb->u.raw.s + vb->u.raw.len, TK_DIGIT};
	SpNum		an = {NULL, 0},
				bn = {NULL, 0};
	long		av = 0,
				bv = 0;
	int			c = 0;

	while (a.type == b.type && a.type != TK_END && a.type != TK_INVALID &&
		   c == 0)
	{
		int			type = a.type;

		apk_token(&a, &an, &av);
		apk_token(&b, &bn, &bv);
		c = apk_val_cmp(type == TK_DIGIT_OR_ZERO ? TK_DIGIT : type,
						an, av, bn, bv);
	}
	if (c)
		return c;
	if (a.type == b.type)
		return 0;

	/* one side goes on: it is newer, unless it goes on with a pre-suffix */
	if (a.type == TK_SUFFIX)
	{
		ApkCur		t = a;

		apk_token(&t, &an, &av);
		if (av < 0)
			return -1;
	}
	if (b.type == TK_SUFFIX)
	{
		ApkCur		t = b;

		apk_token(&t, &bn, &bv);
		if (bv < 0)
			return 1;
	}
	if (a.type > b.type)
		return -1;
	if (b.type > a.type)
		return 1;
	return 0;
}
