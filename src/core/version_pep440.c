/*-------------------------------------------------------------------------
 *
 * version_pep440.c
 *	  PyPI versions as PEP 440 and the Python "packaging" library order them.
 *
 * The parser accepts exactly what packaging.version.Version accepts (the
 * VERSION_PATTERN regex, case-insensitive, surrounding whitespace allowed),
 * including its backtracking corners: optional separators may be taken by
 * one part or the next, so the matcher below tries alternatives in the
 * regex's order through a chain of stage functions.  Nothing is copied:
 * the parsed form is spans of the text, and comparison normalises on the
 * fly (trailing zero release segments, pre-release spellings, local labels
 * lower-cased with numeric segments compared as integers).
 *
 *-------------------------------------------------------------------------
 */
#include "version.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

typedef struct PepCtx
{
	const char *end;
	SpPep440Parts *out;
} PepCtx;

static bool stage_post(PepCtx *cx, const char *p);
static bool stage_dev(PepCtx *cx, const char *p);
static bool stage_local(PepCtx *cx, const char *p);

static bool
is_sep(char c)
{
	return c == '-' || c == '_' || c == '.';
}

/* Does the text at p start with word, ignoring case? */
static bool
word_at(PepCtx *cx, const char *p, const char *word)
{
	size_t		n = strlen(word);

	return (size_t) (cx->end - p) >= n && strncasecmp(p, word, n) == 0;
}

/* Skip a digit run; returns p unchanged if there is none. */
static const char *
digits(PepCtx *cx, const char *p)
{
	while (p < cx->end && isdigit((unsigned char) *p))
		p++;
	return p;
}

/* Optional separator then optional number, then the next stage. */
static bool
sep_num_then(PepCtx *cx, const char *p, SpNum *num,
			 bool (*next) (PepCtx *, const char *))
{
	/* the regex tries taking the separator first, then leaving it */
	for (int take = 1; take >= 0; take--)
	{
		const char *q = p;
		const char *d;

		if (take)
		{
			if (q >= cx->end || !is_sep(*q))
				continue;
			q++;
		}
		d = digits(cx, q);
		if (d > q)
		{
			*num = sp_num_make(q, d - q);
			if (next(cx, d))
				return true;
		}
		num->d = NULL;
		num->len = 0;
		if (next(cx, q))
			return true;
	}
	return false;
}

/* Pre-release: [-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?(N)? */
static bool
stage_pre(PepCtx *cx, const char *p)
{
	static const struct
	{
		const char *w;
		int			kind;
	}			words[] = {
		{"alpha", 1}, {"a", 1}, {"beta", 2}, {"b", 2},
		{"preview", 3}, {"pre", 3}, {"c", 3}, {"rc", 3}
	};

	for (int take = 1; take >= 0; take--)
	{
		const char *q = p;

		if (take)
		{
			if (q >= cx->end || !is_sep(*q))
				continue;
			q++;
		}
		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		{
			if (!word_at(cx, q, words[i].w))
				continue;
			cx->out->pre_kind = words[i].kind;
			if (sep_num_then(cx, q + strlen(words[i].w), &cx->out->pre_n,
							 stage_post))
				return true;
		}
	}

	/* no pre-release at all */
	cx->out->pre_kind = 0;
	return stage_post(cx, p);
}

/* Post-release: -N | [-_.]?(post|rev|r)[-_.]?(N)? */
static bool
stage_post(PepCtx *cx, const char *p)
{
	static const char *const words[] = {"post", "rev", "r"};

	cx->out->has_post = true;

	/* first alternative: "-N" */
	if (p < cx->end && *p == '-')
	{
		const char *d = digits(cx, p + 1);

		if (d > p + 1)
		{
			cx->out->post_n = sp_num_make(p + 1, d - p - 1);
			if (stage_dev(cx, d))
				return true;
		}
	}

	for (int take = 1; take >= 0; take--)
	{
		const char *q = p;

		if (take)
		{
			if (q >= cx->end || !is_sep(*q))
				continue;
			q++;
		}
		for (int i = 0; i < 3; i++)
		{
			if (word_at(cx, q, words[i]) &&
				sep_num_then(cx, q + strlen(words[i]), &cx->out->post_n,
							 stage_dev))
				return true;
		}
	}

	cx->out->has_post = false;
	return stage_dev(cx, p);
}

/* Development release: [-_.]?dev[-_.]?(N)? */
static bool
stage_dev(PepCtx *cx, const char *p)
{
	cx->out->has_dev = true;
	for (int take = 1; take >= 0; take--)
	{
		const char *q = p;

		if (take)
		{
			if (q >= cx->end || !is_sep(*q))
				continue;
			q++;
		}
		if (word_at(cx, q, "dev") &&
			sep_num_then(cx, q + 3, &cx->out->dev_n, stage_local))
			return true;
	}
	cx->out->has_dev = false;
	return stage_local(cx, p);
}

/* Local label: +[a-z0-9]+([-_.][a-z0-9]+)* and then the end. */
static bool
stage_local(PepCtx *cx, const char *p)
{
	const char *q;

	if (p == cx->end)
	{
		cx->out->local = NULL;
		return true;
	}
	if (*p != '+')
		return false;

	q = p + 1;
	for (;;)
	{
		const char *start = q;

		while (q < cx->end && isalnum((unsigned char) *q))
			q++;
		if (q == start)
			return false;
		if (q == cx->end)
			break;
		if (!is_sep(*q))
			return false;
		q++;
	}
	cx->out->local = p + 1;
	cx->out->loclen = (uint32_t) (cx->end - p - 1);
	return true;
}

static bool
py_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
		c == '\f';
}

/* Parse a PEP 440 version exactly as packaging.version.Version would. */
int
sp_pep440_parse(const char *s, SpVersion *out, char *eb, size_t el)
{
	PepCtx		cx;
	const char *p = s;
	const char *end = s + strlen(s);
	const char *q;
	SpPep440Parts *pp = &out->u.pep;

	while (p < end && py_space(*p))
		p++;
	while (end > p && py_space(end[-1]))
		end--;
	cx.end = end;
	cx.out = pp;

	if (p < end && (*p == 'v' || *p == 'V'))
		p++;

	/* epoch "N!" */
	q = digits(&cx, p);
	if (q > p && q < end && *q == '!')
	{
		pp->epoch = sp_num_make(p, q - p);
		p = q + 1;
	}

	/* release N(.N)* */
	pp->release = p;
	q = digits(&cx, p);
	if (q == p)
		return sp_verr(eb, el, SP_SCHEME_PEP440, s,
					   "expected a release number");
	while (q + 1 < end && *q == '.' && isdigit((unsigned char) q[1]))
		q = digits(&cx, q + 1);
	pp->rellen = (uint32_t) (q - p);

	if (!stage_pre(&cx, q))
		return sp_verr(eb, el, SP_SCHEME_PEP440, s, "not a PEP 440 version");
	return 0;
}

/* Next release segment as a number; zero once the span is exhausted. */
static SpNum
next_release(const char **p, const char *end)
{
	const char *q = *p;
	SpNum		n = {NULL, 0};

	if (q >= end)
		return n;
	while (q < end && *q != '.')
		q++;
	n = sp_num_make(*p, q - *p);
	*p = (q < end) ? q + 1 : end;
	return n;
}

/* Next local segment; false when exhausted. */
static bool
next_local(const char **p, const char *end, const char **seg, size_t *len)
{
	const char *q = *p;

	if (q >= end)
		return false;
	while (q < end && !is_sep(*q))
		q++;
	*seg = *p;
	*len = q - *p;
	*p = (q < end) ? q + 1 : end;
	return true;
}

static bool
all_digit_span(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char) s[i]))
			return false;
	return true;
}

/* Compare local labels: integers beat strings, strings compare lower-case. */
static int
local_cmp(const SpPep440Parts *a, const SpPep440Parts *b)
{
	const char *pa = a->local,
			   *ea = a->local + a->loclen;
	const char *pb = b->local,
			   *eb = b->local + b->loclen;

	if (!a->local || !b->local)
		return a->local ? 1 : (b->local ? -1 : 0);

	for (;;)
	{
		const char *sa,
				   *sb;
		size_t		la,
					lb;
		bool		ha = next_local(&pa, ea, &sa, &la);
		bool		hb = next_local(&pb, eb, &sb, &lb);
		bool		na,
					nb;
		int			c;

		if (!ha || !hb)
			return ha ? 1 : (hb ? -1 : 0);
		na = all_digit_span(sa, la);
		nb = all_digit_span(sb, lb);
		if (na != nb)
			return na ? 1 : -1;
		if (na)
			c = sp_numcmp(sp_num_make(sa, la), sp_num_make(sb, lb));
		else
		{
			c = strncasecmp(sa, sb, la < lb ? la : lb);
			if (c == 0 && la != lb)
				c = la < lb ? -1 : 1;
		}
		if (c)
			return c < 0 ? -1 : 1;
	}
}

/* Rank of the pre-release part in packaging's sort key. */
static int
pre_rank(const SpPep440Parts *v)
{
	if (v->pre_kind == 0)
		return (!v->has_post && v->has_dev) ? 0 : 4;
	return v->pre_kind;
}

/* Compare two PEP 440 versions by packaging's _cmpkey. */
int
sp_pep440_cmp(const SpVersion *va, const SpVersion *vb)
{
	const SpPep440Parts *a = &va->u.pep;
	const SpPep440Parts *b = &vb->u.pep;
	const char *ra = a->release,
			   *rea = a->release + a->rellen;
	const char *rb = b->release,
			   *reb = b->release + b->rellen;
	int			c;

	if ((c = sp_numcmp(a->epoch, b->epoch)) != 0)
		return c;

	/* release, trailing zeros ignored */
	while (ra < rea || rb < reb)
	{
		c = sp_numcmp(next_release(&ra, rea), next_release(&rb, reb));
		if (c)
			return c;
	}

	if (pre_rank(a) != pre_rank(b))
		return pre_rank(a) < pre_rank(b) ? -1 : 1;
	if (a->pre_kind && (c = sp_numcmp(a->pre_n, b->pre_n)) != 0)
		return c;

	if (a->has_post != b->has_post)
		return a->has_post ? 1 : -1;
	if (a->has_post && (c = sp_numcmp(a->post_n, b->post_n)) != 0)
		return c;

	if (a->has_dev != b->has_dev)
		return a->has_dev ? -1 : 1;
	if (a->has_dev && (c = sp_numcmp(a->dev_n, b->dev_n)) != 0)
		return c;

	return local_cmp(a, b);
}
