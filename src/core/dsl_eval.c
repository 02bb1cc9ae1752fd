/*-------------------------------------------------------------------------
 *
 * dsl_eval.c
 *	  Evaluator of compiled stella-dsl@1 policies, and explain traces.
 *
 * sp_dsl_evaluate() runs one tuple through a loaded SpPolicy: it computes
 * the normalised severity (base score, vendor weight, env adjustments,
 * clamped to 0..10 in thousandths), then tries the rules in order; the
 * first rule whose condition holds applies its then actions, a rule with an
 * else applies those when its condition fails, and either stops the
 * evaluation.  An expired `ignore until` makes its branch do nothing and
 * evaluation moves on.  VEX applicability and supersession are worked out
 * lazily, once per tuple, on first use.  Nothing here parses, reads a clock
 * or allocates outside the caller's scratch arena, and nothing is kept
 * between calls.
 *
 * VEX rules implemented here (docs/policy-language.md states them): a
 * statement applies when its vulnerability equals the advisory id or one
 * of its aliases (ASCII case-insensitive) and its product purl equals the
 * component purl ignoring qualifiers and subpath, a product without a
 * version matching every version.  Per issuer only the latest applicable
 * statement counts (timestamp, then statement id bytewise, greatest wins);
 * vex.status and vex.latest() read the latest of the survivors.
 *
 *-------------------------------------------------------------------------
 */
#include "dsl_int.h"

#include <stdio.h>
#include <string.h>

#include "cvss.h"

#define VEX_STACK		32

typedef enum ValKind
{
	V_NULL = 0,
	V_BOOL,
	V_NUM,
	V_STR,
	V_BAND,
	V_LIST_EXPR,				/* p: EK_ARRAY node */
	V_LIST_STRS,				/* p: const char *const *, len */
	V_STMT						/* p: const SpVexStatement * */
} ValKind;

typedef struct Val
{
	int			kind;
	int			len;
	int64_t		n;
	const char *s;
	const void *p;
} Val;

/* Why a VEX statement was or was not used (explain traces). */
typedef enum VexReason
{
	VR_APPLICABLE = 0,
	VR_OTHER_VULN,
	VR_OTHER_PRODUCT,
	VR_SUPERSEDED
} VexReason;

typedef struct RuleTrace
{
	bool		matched;
	bool		applied;
	bool		expired;		/* applied nothing: ignore until expired */
	bool		is_else;
} RuleTrace;

typedef struct Ctx
{
	const SpPolicy *p;
	const SpTuple *t;
	SpArena    *scratch;
	bool		oom;

	int32_t		score;
	SpBand		band;
	char		srcbuf[32];
	const char *source;

	/* VEX, computed on first use */
	bool		vex_done;
	int		   *app;			/* indices of applicable statements */
	int			napp;
	int			latest;			/* index or -1 */
	uint8_t    *reason;			/* per statement, when tracing */
	int		   *superseded_by;
	int			app_stack[VEX_STACK];
	const SpVexStatement *pred;	/* statement inside vex.any/all */

	RuleTrace  *trace;			/* per rule, when explaining */
} Ctx;

static Val eval(Ctx *c, const Expr *e);

static const char *const band_label[] = {"None", "Low", "Medium", "High",
"Critical"};

const char *
sp_band_name(SpBand band)
{
	if ((int) band < 0 || band > SP_BAND_CRITICAL)
		return "None";
	return band_label[band];
}

SpBand
sp_band_of_score(int32_t score)
{
	if (score >= 9000)
		return SP_BAND_CRITICAL;
	if (score >= 7000)
		return SP_BAND_HIGH;
	if (score >= 4000)
		return SP_BAND_MEDIUM;
	if (score >= 100)
		return SP_BAND_LOW;
	return SP_BAND_NONE;
}

/* ASCII case-insensitive equality of two C strings. */
static bool
ci_equal(const char *a, const char *b)
{
	for (;; a++, b++)
	{
		unsigned char x = (unsigned char) *a,
					y = (unsigned char) *b;

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char) (x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char) (y - 'A' + 'a');
		if (x != y)
			return false;
		if (x == '\0')
			return true;
	}
}

/* ---- timestamps ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t		era;
	int64_t		yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool
digits(const char *s, size_t len, size_t pos, int n, int *out)
{
	int			v = 0,
				i;

	if (pos + (size_t) n > len)
		return false;
	for (i = 0; i < n; i++)
	{
		if (s[pos + i] < '0' || s[pos + i] > '9')
			return false;
		v = v * 10 + (s[pos + i] - '0');
	}
	*out = v;
	return true;
}

bool
sp_parse_timestamp(const char *s, size_t len, int64_t *micros)
{
	int			y,
				mo,
				d,
				h = 0,
				mi = 0,
				se = 0;
	int64_t		frac = 0;
	int			fdig = 0;
	int64_t		offset = 0;
	size_t		pos;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (!digits(s, len, 0, 4, &y) || len < 10 || s[4] != '-' ||
		!digits(s, len, 5, 2, &mo) || s[7] != '-' ||
		!digits(s, len, 8, 2, &d))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
		return false;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return false;
	pos = 10;
	if (pos < len && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' '))
	{
		pos++;
		if (!digits(s, len, pos, 2, &h) || pos + 2 >= len ||
			s[pos + 2] != ':' || !digits(s, len, pos + 3, 2, &mi))
			return false;
		pos += 5;
		if (pos < len && s[pos] == ':')
		{
			if (!digits(s, len, pos + 1, 2, &se))
				return false;
			pos += 3;
			if (pos < len && (s[pos] == '.' || s[pos] == ','))
			{
				pos++;
				while (pos < len && s[pos] >= '0' && s[pos] <= '9')
				{
					if (fdig < 6)
					{
						frac = frac * 10 + (s[pos] - '0');
						fdig++;
					}
					pos++;
				}
				if (fdig == 0)
					return false;
				while (fdig < 6)
				{
					frac *= 10;
					fdig++;
				}
			}
		}
		if (h > 23 || mi > 59 || se > 60)
			return false;
		if (pos < len && (s[pos] == 'Z' || s[pos] == 'z'))
			pos++;
		else if (pos < len && (s[pos] == '+' || s[pos] == '-'))
		{
			int			oh,
						om;
			int			sign = s[pos] == '-' ? -1 : 1;

			if (!digits(s, len, pos + 1, 2, &oh))
				return false;
			pos += 3;
			if (pos < len && s[pos] == ':')
				pos++;
			if (!digits(s, len, pos, 2, &om))
				return false;
			pos += 2;
			if (oh > 23 || om > 59)
				return false;
			offset = sign * ((int64_t) oh * 3600 + om * 60);
		}
	}
	if (pos != len)
		return false;
	*micros = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se -
				offset) * 1000000) + frac;
	return true;
}

/* Epoch microseconds as ISO-8601 UTC text. */
/* v (0 <= v < 10^width) as exactly width decimal digits. */
static char *
put_digits(char *p, int64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--)
	{
		p[i] = (char) ('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

static void
sb_timestamp(StrBuf *sb, int64_t us)
{
	int64_t		secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
	int64_t		rem = us - secs * 1000000;
	int64_t		days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	int64_t		sod = secs - days * 86400;
	int64_t		z = days + 719468;
	int64_t		era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t		doe = z - era * 146097;
	int64_t		yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t		y = yoe + era * 400;
	int64_t		doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t		mp = (5 * doy + 2) / 153;
	int64_t		d = doy - (153 * mp + 2) / 5 + 1;
	int64_t		m = mp < 10 ? mp + 3 : mp - 9;
	char		buf[160];

	y += m <= 2;
	if (y >= 0 && y <= 9999)
	{
		/* The common case by hand: this runs once per verdict. */
		char	   *p = buf;

		*p++ = '"';
		p = put_digits(p, y, 4);
		*p++ = '-';
		p = put_digits(p, m, 2);
		*p++ = '-';
		p = put_digits(p, d, 2);
		*p++ = 'T';
		p = put_digits(p, sod / 3600, 2);
		*p++ = ':';
		p = put_digits(p, sod / 60 % 60, 2);
		*p++ = ':';
		p = put_digits(p, sod % 60, 2);
		if (rem)
		{
			*p++ = '.';
			p = put_digits(p, rem, 6);
		}
		*p++ = 'Z';
		*p++ = '"';
		*p = '\0';
	}
	else if (rem)
		snprintf(buf, sizeof(buf),
				 "\"%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%06lldZ\"",
				 (long long) y, (long long) m, (long long) d,
				 (long long) (sod / 3600), (long long) (sod / 60 % 60),
				 (long long) (sod % 60), (long long) rem);
	else
		snprintf(buf, sizeof(buf),
				 "\"%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ\"",
				 (long long) y, (long long) m, (long long) d,
				 (long long) (sod / 3600), (long long) (sod / 60 % 60),
				 (long long) (sod % 60));
	sb_puts(sb, buf);
}

/* ---- severity ---- */

int32_t
sp_advisory_base_score(const SpSeverityVector *vectors, int n_vectors,
					   const char *word)
{
	int			version;
	int			i;

	/* The newest CVSS version that parses wins. */
	for (version = 4; version >= 2; version--)
		for (i = 0; i < n_vectors; i++)
		{
			int32_t		score;
			char		err[96];

			if ((int) vectors[i].type != version || vectors[i].vector == NULL)
				continue;
			if (sp_cvss_score_version(version, vectors[i].vector, &score,
									  err, sizeof(err)) == 0)
				return score;
		}
	if (word != NULL)
	{
		if (ci_equal(word, "LOW"))
			return 2000;
		if (ci_equal(word, "MODERATE") || ci_equal(word, "MEDIUM"))
			return 5000;
		if (ci_equal(word, "HIGH"))
			return 8000;
		if (ci_equal(word, "CRITICAL"))
			return 9500;
	}
	return SP_SCORE_UNKNOWN;
}

static bool truthy(Val v);

/* Base score + vendor weight + env adjustments, clamped to 0..10. */
static void
compute_severity(Ctx *c)
{
	const SpTuple *t = c->t;
	int64_t		score;
	int			i;

	score = t->base_score;
	if (score == SP_SCORE_UNKNOWN)
		score = sp_advisory_base_score(t->vectors, t->n_vectors,
									   t->severity_word);
	if (score == SP_SCORE_UNKNOWN)
		score = 0;

	for (i = 0; i < c->p->nweights; i++)
		if (c->source != NULL && strcmp(c->p->weights[i].source, c->source) == 0)
		{
			score += c->p->weights[i].weight;
			break;
		}
	for (i = 0; i < c->p->nadjusts; i++)
		if (truthy(eval(c, c->p->adjusts[i].cond)))
			score += c->p->adjusts[i].delta;

	if (score < 0)
		score = 0;
	if (score > 10000)
		score = 10000;
	c->score = (int32_t) score;
	c->band = sp_band_of_score(c->score);
}

/* advisory.source: as given, or the id's prefix before the first '-'. */
static void
compute_source(Ctx *c)
{
	const char *id = c->t->advisory_id;
	const char *dash;
	size_t		n;

	if (c->t->advisory_source != NULL || id == NULL)
	{
		c->source = c->t->advisory_source;
		return;
	}
	dash = strchr(id, '-');
	n = dash ? (size_t) (dash - id) : strlen(id);
	if (n < sizeof(c->srcbuf))
	{
		memcpy(c->srcbuf, id, n);
		c->srcbuf[n] = '\0';
		c->source = c->srcbuf;
	}
	else
	{
		c->source = sp_strndup(c->scratch, id, n);
		if (c->source == NULL)
			c->oom = true;
	}
}

/* ---- VEX ---- */

/* Length of a purl without its qualifiers and subpath. */
static size_t
purl_base_len(const char *p)
{
	size_t		n = strcspn(p, "?#");

	return n;
}

/* Position of the version '@' within the first n bytes, or n. */
static size_t
purl_version_at(const char *p, size_t n)
{
	size_t		slash = 0,
				i;

	for (i = 0; i < n; i++)
		if (p[i] == '/')
			slash = i;
	for (i = slash; i < n; i++)
		if (p[i] == '@')
			return i;
	return n;
}

static bool
product_matches(const char *product, const char *purl)
{
	size_t		pn,
				cn,
				pv;

	if (product == NULL || purl == NULL)
		return false;
	pn = purl_base_len(product);
	cn = purl_base_len(purl);
	pv = purl_version_at(product, pn);
	if (pv == pn)
	{
		/* No version in the product: compare names only. */
		cn = purl_version_at(purl, cn);
	}
	return pn == cn && memcmp(product, purl, pn) == 0;
}

static bool
vuln_matches(const SpTuple *t, const char *vuln)
{
	int			i;

	if (vuln == NULL)
		return false;
	if (t->advisory_id != NULL && ci_equal(vuln, t->advisory_id))
		return true;
	for (i = 0; i < t->n_aliases; i++)
		if (t->aliases[i] != NULL && ci_equal(vuln, t->aliases[i]))
			return true;
	return false;
}

/* True when statement a is later than b: timestamp, then id bytewise. */
static bool
stmt_later(const SpVexStatement *a, const SpVexStatement *b)
{
	int			cmp;

	if (a->timestamp != b->timestamp)
		return a->timestamp > b->timestamp;
	cmp = strcmp(a->id ? a->id : "", b->id ? b->id : "");
	return cmp > 0;
}

static bool
same_issuer(const SpVexStatement *a, const SpVexStatement *b)
{
	return strcmp(a->issuer ? a->issuer : "", b->issuer ? b->issuer : "") == 0;
}

/* Work out applicable, non-superseded statements and the latest one. */
static void
compute_vex(Ctx *c)
{
	const SpTuple *t = c->t;
	int			n = t->n_vex;
	int			i,
				j;

	c->vex_done = true;
	c->napp = 0;
	c->latest = -1;
	if (n <= 0)
		return;
	c->app = n <= VEX_STACK ? c->app_stack :
		sp_alloc(c->scratch, sizeof(int) * (size_t) n);
	if (c->app == NULL)
	{
		c->oom = true;
		return;
	}

	for (i = 0; i < n; i++)
	{
		const SpVexStatement *s = &t->vex[i];
		VexReason	why = VR_APPLICABLE;

		if (!vuln_matches(t, s->vulnerability))
			why = VR_OTHER_VULN;
		else if (!product_matches(s->product, t->purl))
			why = VR_OTHER_PRODUCT;
		if (c->reason)
			c->reason[i] = (uint8_t) why;
		if (why == VR_APPLICABLE)
			c->app[c->napp++] = i;
	}

	/*
	 * Per issuer, drop every statement a later one supersedes.  Marks go
	 * into dead[] first so that the scan never reads a removed entry.
	 */
	{
		bool		dead_stack[VEX_STACK];
		bool	   *dead = c->napp <= VEX_STACK ? dead_stack :
			sp_alloc(c->scratch, sizeof(bool) * (size_t) c->napp);
		int			k;

		if (dead == NULL)
		{
			c->oom = true;
			c->napp = 0;
			return;
		}
		for (i = 0; i < c->napp; i++)
		{
			const SpVexStatement *s = &t->vex[c->app[i]];
			int			by = -1;

			for (j = 0; j < c->napp; j++)
			{
				const SpVexStatement *o = &t->vex[c->app[j]];

				if (j != i && same_issuer(s, o) && stmt_later(o, s) &&
					(by < 0 || stmt_later(o, &t->vex[by])))
					by = c->app[j];
			}
			dead[i] = by >= 0;
			if (by >= 0 && c->reason)
			{
				c->reason[c->app[i]] = VR_SUPERSEDED;
				c->superseded_by[c->app[i]] = by;
			}
		}
		for (i = 0, k = 0; i < c->napp; i++)
			if (!dead[i])
				c->app[k++] = c->app[i];
		c->napp = k;
	}

	for (i = 0; i < c->napp; i++)
		if (c->latest < 0 || stmt_later(&t->vex[c->app[i]], &t->vex[c->latest]))
			c->latest = c->app[i];
}

static const SpVexStatement *
latest_stmt(Ctx *c)
{
	if (!c->vex_done)
		compute_vex(c);
	return c->latest >= 0 ? &c->t->vex[c->latest] : NULL;
}

/* ---- values ---- */

static Val
v_null(void)
{
	Val			v;

	memset(&v, 0, sizeof(v));
	return v;
}

static Val
v_bool(bool b)
{
	Val			v = v_null();

	v.kind = V_BOOL;
	v.n = b;
	return v;
}

static Val
v_str(const char *s)
{
	Val			v = v_null();

	if (s != NULL)
	{
		v.kind = V_STR;
		v.s = s;
	}
	return v;
}

static Val
v_num(int64_t n)
{
	Val			v = v_null();

	v.kind = V_NUM;
	v.n = n;
	return v;
}

static Val
v_band(int64_t b)
{
	Val			v = v_null();

	v.kind = V_BAND;
	v.n = b;
	return v;
}

static Val
v_strs(const char *const *a, int n)
{
	Val			v = v_null();

	v.kind = V_LIST_STRS;
	v.p = a;
	v.len = a ? n : 0;
	return v;
}

static bool
truthy(Val v)
{
	return v.kind == V_BOOL && v.n != 0;
}

/* Band rank of a value, converting band names; -1 if not a band. */
static int
as_band(Val v)
{
	if (v.kind == V_BAND)
		return (int) v.n;
	if (v.kind == V_STR)
		return sp_band_from_name(v.s, strlen(v.s));
	return -1;
}

static bool
val_equal(Val a, Val b)
{
	if (a.kind == V_NULL || b.kind == V_NULL)
		return a.kind == b.kind;
	if (a.kind == V_BAND || b.kind == V_BAND)
	{
		int			x = as_band(a),
					y = as_band(b);

		return x >= 0 && x == y;
	}
	if (a.kind != b.kind)
		return false;
	switch (a.kind)
	{
		case V_BOOL:
		case V_NUM:
			return a.n == b.n;
		case V_STR:
			return strcmp(a.s, b.s) == 0;
		case V_STMT:
			return a.p == b.p;
		default:
			return false;
	}
}

/* Ordering: -2 when the values cannot be ordered. */
static int
val_order(Val a, Val b)
{
	if (a.kind == V_BAND || b.kind == V_BAND)
	{
		int			x = as_band(a),
					y = as_band(b);

		if (x < 0 || y < 0)
			return -2;
		return x < y ? -1 : x > y;
	}
	if (a.kind == V_NUM && b.kind == V_NUM)
		return a.n < b.n ? -1 : a.n > b.n;
	if (a.kind == V_STR && b.kind == V_STR)
	{
		int			r = strcmp(a.s, b.s);

		return r < 0 ? -1 : r > 0;
	}
	return -2;
}

static bool
eval_in(Ctx *c, Val l, Val r)
{
	int			i;

	if (l.kind == V_NULL)
		return false;
	if (r.kind == V_LIST_STRS)
	{
		const char *const *a = r.p;

		if (l.kind != V_STR)
		{
			for (i = 0; i < r.len; i++)
				if (a[i] && val_equal(l, v_str(a[i])))
					return true;
			return false;
		}
		for (i = 0; i < r.len; i++)
			if (a[i] && strcmp(a[i], l.s) == 0)
				return true;
		return false;
	}
	if (r.kind == V_LIST_EXPR)
	{
		const Expr *arr = r.p;

		for (i = 0; i < arr->nargs; i++)
			if (val_equal(l, eval(c, arr->args[i])))
				return true;
	}
	return false;
}

static bool
list_has_ci(const char *const *a, int n, const char *s)
{
	int			i;

	for (i = 0; i < n; i++)
		if (a[i] && ci_equal(a[i], s))
			return true;
	return false;
}

static Val
eval_field(Ctx *c, int id)
{
	const SpTuple *t = c->t;

	switch (id)
	{
		case F_SBOM_ID:
			return v_str(t->sbom_id);
		case F_SBOM_TAGS:
			return v_strs(t->sbom_tags, t->n_sbom_tags);
		case F_COMP_PURL:
			return v_str(t->purl);
		case F_COMP_NAME:
			return v_str(t->name);
		case F_COMP_VERSION:
			return v_str(t->version);
		case F_COMP_ECOSYSTEM:
			return v_str(t->ecosystem);
		case F_COMP_SCOPE:
			return v_str(t->scope);
		case F_COMP_LICENSES:
			return v_strs(t->licenses, t->n_licenses);
		case F_ADV_ID:
			return v_str(t->advisory_id);
		case F_ADV_SOURCE:
			return v_str(c->source);
		case F_ADV_ALIASES:
			return v_strs(t->aliases, t->n_aliases);
		case F_ADV_TAGS:
			return v_strs(t->advisory_tags, t->n_advisory_tags);
		case F_ADV_PUBLISHED:
			return v_str(t->published);
		case F_ADV_MODIFIED:
			return v_str(t->modified);
		case F_SEV_SCORE:
			return v_num(c->score);
		case F_SEV_NORMALIZED:
			return v_band(c->band);
		case F_VEX_STATUS:
			{
				const SpVexStatement *s = latest_stmt(c);

				return v_str(s ? s->status : NULL);
			}
		case F_VEX_JUSTIFICATION:
			{
				const SpVexStatement *s = latest_stmt(c);

				return v_str(s ? s->justification : NULL);
			}
	}
	return v_null();
}

static Val
stmt_member(const SpVexStatement *s, int id)
{
	if (s == NULL)
		return v_null();
	switch (id)
	{
		case SM_STATEMENT_ID:
			return v_str(s->id);
		case SM_STATUS:
			return v_str(s->status);
		case SM_JUSTIFICATION:
			return v_str(s->justification);
		case SM_ISSUER:
			return v_str(s->issuer);
	}
	return v_null();
}

static Val
eval_func(Ctx *c, const Expr *e)
{
	Val			a;
	int			i;

	if (e->id == FN_COALESCE)
	{
		for (i = 0; i < e->nargs; i++)
		{
			a = eval(c, e->args[i]);
			if (a.kind != V_NULL)
				return a;
		}
		return v_null();
	}
	a = eval(c, e->args[0]);
	switch (e->id)
	{
		case FN_SEVERITY_BAND:
			{
				int			b = as_band(a);

				return b >= 0 ? v_band(b) : v_null();
			}
		case FN_CVSS:
		case FN_NORMALIZE_CVSS:
			{
				int32_t		score;
				char		err[96];

				if (a.kind != V_STR ||
					sp_cvss_base_score(a.s, &score, err, sizeof(err)) != 0)
					return v_null();
				return e->id == FN_CVSS ? v_num(score) :
					v_band(sp_band_of_score(score));
			}
		case FN_EXISTS:
			return v_bool(a.kind != V_NULL);
		case FN_LOWERCASE:
			{
				size_t		n,
							j;
				char	   *d;

				if (a.kind != V_STR)
					return a.kind == V_NULL ? a : v_null();
				n = strlen(a.s);
				for (j = 0; j < n; j++)
					if (a.s[j] >= 'A' && a.s[j] <= 'Z')
						break;
				if (j == n)
					return a;	/* already lower case: no copy */
				d = sp_strndup(c->scratch, a.s, n);
				if (d == NULL)
				{
					c->oom = true;
					return v_null();
				}
				for (; j < n; j++)
					if (d[j] >= 'A' && d[j] <= 'Z')
						d[j] = (char) (d[j] - 'A' + 'a');
				return v_str(d);
			}
		case FN_SBOM_HAS_TAG:
			return v_bool(a.kind == V_STR &&
						  list_has_ci(c->t->sbom_tags, c->t->n_sbom_tags, a.s));
		case FN_ADV_HAS_TAG:
			return v_bool(a.kind == V_STR &&
						  list_has_ci(c->t->advisory_tags,
									  c->t->n_advisory_tags, a.s));
	}
	return v_null();
}

static Val
eval(Ctx *c, const Expr *e)
{
	int			i;

	switch ((ExprKind) e->kind)
	{
		case EK_NULL:
			return v_null();
		case EK_BOOL:
			return v_bool(e->num != 0);
		case EK_NUM:
			return v_num(e->num);
		case EK_STR:
			return v_str(e->str);
		case EK_BAND:
			return v_band(e->num);
		case EK_ARRAY:
			{
				Val			v = v_null();

				v.kind = V_LIST_EXPR;
				v.p = e;
				v.len = e->nargs;
				return v;
			}
		case EK_FIELD:
			return eval_field(c, e->id);
		case EK_ENV:
			for (i = 0; i < c->t->n_env; i++)
			{
				const SpEnvEntry *en = &c->t->env[i];

				if (en->key == NULL || strcmp(en->key, e->str) != 0)
					continue;
				switch (en->type)
				{
					case SP_ENV_STRING:
						return v_str(en->str);
					case SP_ENV_NUMBER:
						return v_num(en->num);
					case SP_ENV_BOOL:
						return v_bool(en->b);
					default:
						return v_null();
				}
			}
			return v_null();
		case EK_PRED:
			return stmt_member(c->pred, e->id);
		case EK_FUNC:
			return eval_func(c, e);
		case EK_VEX_ANY:
		case EK_VEX_ALL:
			{
				bool		any = e->kind == EK_VEX_ANY;
				const SpVexStatement *saved = c->pred;
				bool		result = !any;

				if (!c->vex_done)
					compute_vex(c);
				if (c->napp == 0)
					return v_bool(false);
				for (i = 0; i < c->napp; i++)
				{
					bool		r;

					c->pred = &c->t->vex[c->app[i]];
					r = truthy(eval(c, e->a));
					if (any && r)
					{
						result = true;
						break;
					}
					if (!any && !r)
					{
						result = false;
						break;
					}
				}
				c->pred = saved;
				return v_bool(result);
			}
		case EK_VEX_LATEST:
			{
				Val			v = v_null();
				const SpVexStatement *s = latest_stmt(c);

				if (s != NULL)
				{
					v.kind = V_STMT;
					v.p = s;
				}
				return v;
			}
		case EK_STMT_MEMBER:
			{
				Val			o = eval(c, e->a);

				return o.kind == V_STMT ? stmt_member(o.p, e->id) : v_null();
			}
		case EK_AND:
			for (i = 0; i < e->nargs; i++)
				if (!truthy(eval(c, e->args[i])))
					return v_bool(false);
			return v_bool(true);
		case EK_OR:
			for (i = 0; i < e->nargs; i++)
				if (truthy(eval(c, e->args[i])))
					return v_bool(true);
			return v_bool(false);
		case EK_NOT:
			return v_bool(!truthy(eval(c, e->a)));
		case EK_CMP:
			{
				Val			l = eval(c, e->a);
				Val			r = eval(c, e->b);
				int			o;

				if (e->op == OP_EQ)
					return v_bool(val_equal(l, r));
				if (e->op == OP_NE)
					return v_bool(!val_equal(l, r));
				o = val_order(l, r);
				if (o == -2)
					return v_bool(false);
				switch (e->op)
				{
					case OP_LT:
						return v_bool(o < 0);
					case OP_LE:
						return v_bool(o <= 0);
					case OP_GT:
						return v_bool(o > 0);
					default:
						return v_bool(o >= 0);
				}
			}
		case EK_IN:
			{
				bool		r = eval_in(c, eval(c, e->a), eval(c, e->b));

				return v_bool(e->negate ? !r : r);
			}
		default:
			return v_null();
	}
}

/* ---- value to JSON (annotations) ---- */

static void
sb_val_json(StrBuf *sb, Ctx *c, Val v)
{
	int			i;

	switch (v.kind)
	{
		case V_NULL:
			sb_puts(sb, "null");
			break;
		case V_BOOL:
			sb_puts(sb, v.n ? "true" : "false");
			break;
		case V_NUM:
			sb_fixed(sb, v.n);
			break;
		case V_STR:
			sb_json_str(sb, v.s, strlen(v.s));
			break;
		case V_BAND:
			sb_putc(sb, '"');
			sb_puts(sb, sp_band_name((SpBand) v.n));
			sb_putc(sb, '"');
			break;
		case V_LIST_STRS:
		case V_LIST_EXPR:
			sb_putc(sb, '[');
			for (i = 0; i < v.len; i++)
			{
				if (i > 0)
					sb_putc(sb, ',');
				if (v.kind == V_LIST_STRS)
					sb_val_json(sb, c, v_str(((const char *const *) v.p)[i]));
				else
					sb_val_json(sb, c, eval(c, ((const Expr *) v.p)->args[i]));
			}
			sb_putc(sb, ']');
			break;
		case V_STMT:
			{
				const SpVexStatement *s = v.p;

				sb_puts(sb, "{\"issuer\":");
				sb_val_json(sb, c, v_str(s->issuer));
				sb_puts(sb, ",\"justification\":");
				sb_val_json(sb, c, v_str(s->justification));
				sb_puts(sb, ",\"statementId\":");
				sb_val_json(sb, c, v_str(s->id));
				sb_puts(sb, ",\"status\":");
				sb_val_json(sb, c, v_str(s->status));
				sb_putc(sb, '}');
				break;
			}
	}
}

/* ---- actions ---- */

static void
add_warning(Ctx *c, SpVerdict *out, const char *msg)
{
	const char **w = sp_alloc(c->scratch,
							  sizeof(char *) * (size_t) (out->n_warnings + 1));

	if (w == NULL)
	{
		c->oom = true;
		return;
	}
	if (out->n_warnings > 0)
		memcpy(w, out->warnings, sizeof(char *) * (size_t) out->n_warnings);
	w[out->n_warnings++] = msg;
	out->warnings = w;
}

static void
add_annotation(Ctx *c, SpVerdict *out, const char *key, const char *json)
{
	SpAnnotation *a;
	int			i,
				pos;

	/* Keep the array sorted by key; a repeated key keeps the last value. */
	for (pos = 0; pos < out->n_annotations; pos++)
	{
		int			cmp = strcmp(out->annotations[pos].key, key);

		if (cmp == 0)
		{
			out->annotations[pos].json = json;
			return;
		}
		if (cmp > 0)
			break;
	}
	a = sp_alloc(c->scratch, sizeof(SpAnnotation) *
				 (size_t) (out->n_annotations + 1));
	if (a == NULL)
	{
		c->oom = true;
		return;
	}
	for (i = 0; i < pos; i++)
		a[i] = out->annotations[i];
	a[pos].key = key;
	a[pos].json = json;
	for (i = pos; i < out->n_annotations; i++)
		a[i + 1] = out->annotations[i];
	out->annotations = a;
	out->n_annotations++;
}

/* requireVex: an applicable not_affected statement from a listed vendor. */
static bool
require_vex_met(Ctx *c, const Action *a)
{
	int			i,
				j;

	if (!c->vex_done)
		compute_vex(c);
	for (i = 0; i < c->napp; i++)
	{
		const SpVexStatement *s = &c->t->vex[c->app[i]];
		bool		vendor_ok = a->nvendors == 0,
					just_ok = a->njusts == 0;

		if (s->status == NULL || strcmp(s->status, "not_affected") != 0)
			continue;
		for (j = 0; j < a->nvendors && !vendor_ok; j++)
			vendor_ok = s->issuer != NULL && strcmp(s->issuer, a->vendors[j]) == 0;
		for (j = 0; j < a->njusts && !just_ok; j++)
			just_ok = s->justification != NULL &&
				strcmp(s->justification, a->justs[j]) == 0;
		if (vendor_ok && just_ok)
			return true;
	}
	return false;
}

static void
apply_actions(Ctx *c, const Action *acts, int n, SpVerdict *out)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		const Action *a = &acts[i];
		Val			v;

		switch (a->kind)
		{
			case A_STATUS:
				v = eval(c, a->value);
				if (v.kind == V_STR)
					out->status = v.s;
				else
					add_warning(c, out,
								"status expression gave no string; status unchanged");
				break;
			case A_ESCALATE:
				{
					int			b = as_band(eval(c, a->value));

					if (b > (int) out->band)
						out->band = (SpBand) b;
					break;
				}
			case A_WARN:
				v = eval(c, a->value);
				out->status = "warned";
				add_warning(c, out, v.kind == V_STR ? v.s : "warning");
				break;
			case A_IGNORE:
				out->status = "ignored";
				out->quiet = true;
				out->has_quiet_until = true;
				out->quiet_until = a->until;
				break;
			case A_REQUIRE_VEX:
				out->status = require_vex_met(c, a) ? "not_affected" : "blocked";
				break;
			case A_ANNOTATE:
				{
					StrBuf		sb;

					sb_init(&sb, c->scratch, 32);
					sb_val_json(&sb, c, eval(c, a->value));
					if (sb.failed)
						c->oom = true;
					else
						add_annotation(c, out, a->key, sb.data);
					break;
				}
		}
	}
}

/* An expired ignore in a branch makes the whole branch a no-op. */
static bool
branch_expired(const Ctx *c, const Action *acts, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		if (acts[i].kind == A_IGNORE && c->t->eval_time >= acts[i].until)
			return true;
	return false;
}

static int
run(Ctx *c, SpVerdict *out)
{
	const SpPolicy *p = c->p;
	int			i;

	compute_source(c);
	compute_severity(c);

	memset(out, 0, sizeof(*out));
	out->status = p->default_status;
	out->score = c->score;
	out->band = c->band;
	out->rule_index = -1;

	for (i = 0; i < p->nrules; i++)
	{
		const Rule *r = &p->rules[i];
		bool		m = truthy(eval(c, r->when));
		const Action *acts = m ? r->then_acts : r->else_acts;
		int			n = m ? r->nthen : r->nelse;

		if (c->trace)
			c->trace[i].matched = m;
		if (!m && !r->has_else)
			continue;
		if (branch_expired(c, acts, n))
		{
			if (c->trace)
				c->trace[i].expired = true;
			continue;
		}
		apply_actions(c, acts, n, out);
		out->rule = r->name;
		out->rule_index = i;
		out->used_else = !m;
		out->rationale = r->because;
		if (c->trace)
		{
			c->trace[i].applied = true;
			c->trace[i].is_else = !m;
		}
		break;
	}
	return c->oom ? -1 : 0;
}

int
sp_dsl_evaluate(const SpPolicy *policy, const SpTuple *tuple, SpVerdict *out,
				SpArena *scratch)
{
	Ctx			c;

	memset(&c, 0, sizeof(c));
	c.p = policy;
	c.t = tuple;
	c.scratch = scratch;
	c.latest = -1;
	return run(&c, out);
}

/* ---- JSON output ---- */

static void
verdict_json(StrBuf *sb, const SpVerdict *v)
{
	int			i;

	sb_puts(sb, "{\"annotations\":{");
	for (i = 0; i < v->n_annotations; i++)
	{
		if (i > 0)
			sb_putc(sb, ',');
		sb_json_str(sb, v->annotations[i].key, strlen(v->annotations[i].key));
		sb_putc(sb, ':');
		sb_puts(sb, v->annotations[i].json);
	}
	sb_puts(sb, "},\"band\":\"");
	sb_puts(sb, sp_band_name(v->band));
	sb_puts(sb, "\",\"quiet\":");
	sb_puts(sb, v->quiet ? "true" : "false");
	sb_puts(sb, ",\"quietUntil\":");
	if (v->has_quiet_until)
		sb_timestamp(sb, v->quiet_until);
	else
		sb_puts(sb, "null");
	sb_puts(sb, ",\"rationale\":");
	if (v->rationale)
		sb_json_str(sb, v->rationale, strlen(v->rationale));
	else
		sb_puts(sb, "null");
	sb_puts(sb, ",\"rule\":");
	if (v->rule)
		sb_json_str(sb, v->rule, strlen(v->rule));
	else
		sb_puts(sb, "null");
	sb_puts(sb, ",\"score\":");
	sb_int(sb, v->score);
	sb_puts(sb, ",\"status\":");
	sb_json_str(sb, v->status ? v->status : "", strlen(v->status ? v->status : ""));
	sb_puts(sb, ",\"warnings\":[");
	for (i = 0; i < v->n_warnings; i++)
	{
		if (i > 0)
			sb_putc(sb, ',');
		sb_json_str(sb, v->warnings[i], strlen(v->warnings[i]));
	}
	sb_puts(sb, "]}");
}

char *
sp_verdict_json(const SpVerdict *verdict, SpArena *arena)
{
	StrBuf		sb;

	sb_init(&sb, arena, 256);
	verdict_json(&sb, verdict);
	return sb.failed ? NULL : sb.data;
}

static void
sb_nstr(StrBuf *sb, const char *s)
{
	if (s)
		sb_json_str(sb, s, strlen(s));
	else
		sb_puts(sb, "null");
}

static void
sb_str_array(StrBuf *sb, const char *const *a, int n)
{
	int			i;

	sb_putc(sb, '[');
	for (i = 0; a && i < n; i++)
	{
		if (i > 0)
			sb_putc(sb, ',');
		sb_nstr(sb, a[i]);
	}
	sb_putc(sb, ']');
}

/* Does an expression read VEX? (explain: which rules VEX influenced) */
static bool
expr_reads_vex(const Expr *e)
{
	int			i;

	if (e == NULL)
		return false;
	if (e->kind == EK_VEX_ANY || e->kind == EK_VEX_ALL ||
		e->kind == EK_VEX_LATEST ||
		(e->kind == EK_FIELD &&
		 (e->id == F_VEX_STATUS || e->id == F_VEX_JUSTIFICATION)))
		return true;
	if (expr_reads_vex(e->a) || expr_reads_vex(e->b))
		return true;
	for (i = 0; i < e->nargs; i++)
		if (expr_reads_vex(e->args[i]))
			return true;
	return false;
}

static bool
rule_reads_vex(const Rule *r, bool use_else, const Action **req)
{
	const Action *acts = use_else ? r->else_acts : r->then_acts;
	int			n = use_else ? r->nelse : r->nthen;
	bool		reads = expr_reads_vex(r->when);
	int			i;

	*req = NULL;
	for (i = 0; i < n; i++)
	{
		if (acts[i].kind == A_REQUIRE_VEX)
		{
			*req = &acts[i];
			reads = true;
		}
		if (expr_reads_vex(acts[i].value))
			reads = true;
	}
	return reads;
}

static bool
in_list(const char **list, int n, const char *s)
{
	int			i;

	if (n == 0)
		return true;
	for (i = 0; i < n; i++)
		if (s != NULL && strcmp(list[i], s) == 0)
			return true;
	return false;
}

char *
sp_dsl_explain(const SpPolicy *policy, const SpTuple *tuple,
			   const char *finding_id, SpArena *arena)
{
	Ctx			c;
	SpVerdict	v;
	StrBuf		sb;
	const Action *req = NULL;
	bool		vex_used = false;
	int			n = tuple->n_vex > 0 ? tuple->n_vex : 1;
	int			i,
				first;

	memset(&c, 0, sizeof(c));
	c.p = policy;
	c.t = tuple;
	c.scratch = arena;
	c.latest = -1;
	c.trace = sp_alloc(arena, sizeof(RuleTrace) *
					   (size_t) (policy->nrules > 0 ? policy->nrules : 1));
	c.reason = sp_alloc(arena, (size_t) n);
	c.superseded_by = sp_alloc(arena, sizeof(int) * (size_t) n);
	if (c.trace == NULL || c.reason == NULL || c.superseded_by == NULL)
		return NULL;
	if (run(&c, &v) != 0)
		return NULL;
	if (!c.vex_done)
		compute_vex(&c);
	if (v.rule_index >= 0)
		vex_used = rule_reads_vex(&policy->rules[v.rule_index], v.used_else,
								  &req);

	sb_init(&sb, arena, 1024);
	sb_puts(&sb, "{\"evidence\":[{\"aliases\":");
	sb_str_array(&sb, tuple->aliases, tuple->n_aliases);
	sb_puts(&sb, ",\"baseScore\":");
	{
		int32_t		base = tuple->base_score;

		if (base == SP_SCORE_UNKNOWN)
			base = sp_advisory_base_score(tuple->vectors, tuple->n_vectors,
										  tuple->severity_word);
		if (base == SP_SCORE_UNKNOWN)
			sb_puts(&sb, "null");
		else
			sb_int(&sb, base);
	}
	sb_puts(&sb, ",\"component\":");
	sb_nstr(&sb, tuple->purl);
	sb_puts(&sb, ",\"id\":");
	sb_nstr(&sb, tuple->advisory_id);
	sb_puts(&sb, ",\"normalizedScore\":");
	sb_int(&sb, c.score);
	sb_puts(&sb, ",\"source\":");
	sb_nstr(&sb, c.source);
	sb_puts(&sb, ",\"type\":\"advisory\"}");

	for (i = 0; i < tuple->n_vex; i++)
	{
		const SpVexStatement *s = &tuple->vex[i];
		const char *why;
		bool		accepted = c.reason[i] == VR_APPLICABLE;

		switch (c.reason[i])
		{
			case VR_OTHER_VULN:
				why = "other vulnerability";
				break;
			case VR_OTHER_PRODUCT:
				why = "other product";
				break;
			case VR_SUPERSEDED:
				why = "superseded by a later statement";
				break;
			default:
				why = "applicable";
				break;
		}
		if (accepted && req != NULL &&
			!in_list(req->vendors, req->nvendors, s->issuer))
		{
			accepted = false;
			why = "issuer not accepted by requireVex";
		}
		else if (accepted && req != NULL &&
				 !in_list(req->justs, req->njusts, s->justification))
		{
			accepted = false;
			why = "justification not accepted by requireVex";
		}
		sb_puts(&sb, ",{\"accepted\":");
		sb_puts(&sb, accepted ? "true" : "false");
		sb_puts(&sb, ",\"issuer\":");
		sb_nstr(&sb, s->issuer);
		sb_puts(&sb, ",\"justification\":");
		sb_nstr(&sb, s->justification);
		sb_puts(&sb, ",\"product\":");
		sb_nstr(&sb, s->product);
		sb_puts(&sb, ",\"reason\":");
		sb_nstr(&sb, why);
		sb_puts(&sb, ",\"statementId\":");
		sb_nstr(&sb, s->id);
		sb_puts(&sb, ",\"status\":");
		sb_nstr(&sb, s->status);
		if (c.reason[i] == VR_SUPERSEDED)
		{
			sb_puts(&sb, ",\"supersededBy\":");
			sb_nstr(&sb, tuple->vex[c.superseded_by[i]].id);
		}
		sb_puts(&sb, ",\"timestamp\":");
		sb_timestamp(&sb, s->timestamp);
		sb_puts(&sb, ",\"type\":\"vex\",\"vulnerability\":");
		sb_nstr(&sb, s->vulnerability);
		sb_putc(&sb, '}');
	}

	sb_puts(&sb, "],\"findingId\":");
	sb_nstr(&sb, finding_id);
	sb_puts(&sb, ",\"policy\":{\"digest\":");
	sb_nstr(&sb, policy->digest);
	sb_puts(&sb, ",\"name\":");
	sb_nstr(&sb, policy->name);
	sb_puts(&sb, "},\"ruleChain\":[");
	first = 1;
	for (i = 0; i < policy->nrules; i++)
	{
		const Rule *r = &policy->rules[i];
		char	   *cond = sp_expr_text(r->when, arena);

		if (!first)
			sb_putc(&sb, ',');
		first = 0;
		sb_puts(&sb, "{\"applied\":");
		sb_puts(&sb, c.trace[i].applied ? "true" : "false");
		sb_puts(&sb, ",\"branch\":");
		sb_puts(&sb, c.trace[i].applied ?
				(c.trace[i].is_else ? "\"else\"" : "\"then\"") : "null");
		sb_puts(&sb, ",\"condition\":");
		sb_nstr(&sb, cond);
		sb_puts(&sb, ",\"id\":");
		sb_int(&sb, i + 1);
		sb_puts(&sb, ",\"matched\":");
		sb_puts(&sb, c.trace[i].matched ? "true" : "false");
		sb_puts(&sb, ",\"name\":");
		sb_nstr(&sb, r->name);
		sb_puts(&sb, ",\"note\":");
		sb_puts(&sb, c.trace[i].expired ?
				"\"ignore until has expired; evaluation continued\"" : "null");
		sb_puts(&sb, ",\"priority\":");
		if (r->has_priority)
			sb_int(&sb, r->priority);
		else
			sb_puts(&sb, "null");
		sb_putc(&sb, '}');
		if (c.trace[i].applied)
			break;
	}
	sb_puts(&sb, "],\"schemaVersion\":\"scheduler.policy-explain-trace@1\"");
	sb_puts(&sb, ",\"verdict\":");
	verdict_json(&sb, &v);
	sb_puts(&sb, ",\"vexImpacts\":[");
	first = 1;
	for (i = 0; vex_used && i < c.napp; i++)
	{
		const SpVexStatement *s = &tuple->vex[c.app[i]];

		if (!first)
			sb_putc(&sb, ',');
		first = 0;
		sb_puts(&sb, "{\"latest\":");
		sb_puts(&sb, c.app[i] == c.latest ? "true" : "false");
		sb_puts(&sb, ",\"rule\":");
		sb_nstr(&sb, v.rule);
		sb_puts(&sb, ",\"statementId\":");
		sb_nstr(&sb, s->id);
		sb_puts(&sb, ",\"status\":");
		sb_nstr(&sb, s->status);
		sb_puts(&sb, ",\"verdictStatus\":");
		sb_nstr(&sb, v.status);
		sb_putc(&sb, '}');
	}
	sb_puts(&sb, "]}");
	return sb.failed ? NULL : sb.data;
}
