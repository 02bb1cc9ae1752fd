/*-------------------------------------------------------------------------
 *
 * osvrange.c
 *	  OSV range evaluation, loading affected[] from jansson, and "vers:".
 *
 * Loading does all the work that can fail or allocate: bounds are parsed
 * with the ecosystem's comparator and events sorted, so sp_affected_match()
 * and sp_vers_match() are plain loops over pre-parsed versions.  Errors
 * name the JSON path ("affected[0].ranges[1].events[2].fixed") and, for a
 * bad bound, the comparator's message.
 *
 *-------------------------------------------------------------------------
 */
#include "osvrange.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int
fail(char *errbuf, size_t errlen, const char *path, const char *what)
{
	if (errbuf && errlen > 0)
		snprintf(errbuf, errlen, "%s: %s", path, what);
	return -1;
}

/* Order events by version ("introduced 0" lowest), ties by kind. */
static int
event_order(const void *pa, const void *pb)
{
	const SpOsvEvent *a = pa;
	const SpOsvEvent *b = pb;
	int			c;

	if (a->zero || b->zero)
		c = (a->zero && b->zero) ? 0 : (a->zero ? -1 : 1);
	else
		c = sp_version_cmp_parsed(&a->ver, &b->ver);
	if (c == 0 && a->kind != b->kind)
		c = a->kind < b->kind ? -1 : 1;
	return c;
}

/* Parse bounds and sort events; see osvrange.h. */
int
sp_affected_prepare(SpOsvAffected *aff, SpArena *arena, char *errbuf,
					size_t errlen)
{
	char		msg[300];
	char		path[96];

	for (int r = 0; r < aff->nranges; r++)
	{
		SpOsvRange *rg = &aff->ranges[r];

		if (rg->type == SP_RANGE_GIT)
			continue;			/* commit ids: nothing to parse or sort */
		for (int e = 0; e < rg->nevents; e++)
		{
			SpOsvEvent *ev = &rg->events[e];

			ev->zero = (ev->kind == SP_EV_INTRODUCED &&
						strcmp(ev->text, "0") == 0);
			if (ev->zero)
				continue;
			if (sp_version_parse(rg->scheme, ev->text, arena, &ev->ver,
								 msg, sizeof(msg)) != 0)
			{
				snprintf(path, sizeof(path), "ranges[%d].events[%d]", r, e);
				return fail(errbuf, errlen, path, msg);
			}
		}
		qsort(rg->events, rg->nevents, sizeof(SpOsvEvent), event_order);
	}

	/* the versions list is an enumeration: unparsable entries match by text */
	for (int i = 0; i < aff->nversions; i++)
	{
		SpOsvVersion *ov = &aff->versions[i];

		ov->parsed = (sp_version_parse(aff->scheme, ov->text, arena, &ov->ver,
									   NULL, 0) == 0);
	}
	return 0;
}

/* Walk one sorted range as the OSV schema's evaluation describes. */
static bool
range_includes(const SpOsvRange *rg, const SpVersion *v)
{
	bool		affected = false;
	bool		has_limit = false;
	bool		below_limit = false;

	for (int e = 0; e < rg->nevents; e++)
	{
		const SpOsvEvent *ev = &rg->events[e];

		switch (ev->kind)
		{
			case SP_EV_INTRODUCED:
				if (ev->zero || sp_version_cmp_parsed(v, &ev->ver) >= 0)
					affected = true;
				break;
			case SP_EV_FIXED:
				if (sp_version_cmp_parsed(v, &ev->ver) >= 0)
					affected = false;
				break;
			case SP_EV_LAST_AFFECTED:
				if (sp_version_cmp_parsed(v, &ev->ver) > 0)
					affected = false;
				break;
			case SP_EV_LIMIT:
				has_limit = true;
				if (sp_version_cmp_parsed(v, &ev->ver) < 0)
					below_limit = true;
				break;
		}
	}

	/* limit: versions at or above every limit are outside the range */
	return affected && (!has_limit || below_limit);
}

/* Is v affected by this affected[] element?  See osvrange.h. */
bool
sp_affected_match(const SpOsvAffected *aff, const SpVersion *v,
				  const char *vtext)
{
	for (int i = 0; i < aff->nversions; i++)
	{
		const SpOsvVersion *ov = &aff->versions[i];

		if (vtext && strcmp(ov->text, vtext) == 0)
			return true;
		if (ov->parsed && v && sp_version_cmp_parsed(v, &ov->ver) == 0)
			return true;
	}
	if (v == NULL)
		return false;
	for (int r = 0; r < aff->nranges; r++)
	{
		const SpOsvRange *rg = &aff->ranges[r];

		/* ranges are parsed with the affected[] scheme or Go's for SEMVER */
		if (rg->type == SP_RANGE_GIT || rg->scheme != v->scheme)
			continue;
		if (range_includes(rg, v))
			return true;
	}
	return false;
}

/* The comparator of an affected entry's ecosystem; see osvrange.h. */
SpScheme
sp_affected_scheme(const char *ecosystem)
{
	SpScheme	scheme;

	/* XXX unknown ecosystems fall back to the generic comparator */
	if (ecosystem == NULL || sp_scheme_from_name(ecosystem, &scheme) != 0)
		return SP_SCHEME_GENERIC;
	return scheme;
}

/* A range's type and comparator from its OSV type name; see osvrange.h. */
int
sp_range_kind(const char *type, SpScheme affected_scheme, SpOsvRange *rg)
{
	if (strcmp(type, "SEMVER") == 0)
	{
		rg->type = SP_RANGE_SEMVER;
		rg->scheme = affected_scheme == SP_SCHEME_GO ? SP_SCHEME_GO
			: SP_SCHEME_SEMVER;
	}
	else if (strcmp(type, "ECOSYSTEM") == 0)
	{
		rg->type = SP_RANGE_ECOSYSTEM;
		rg->scheme = affected_scheme;
	}
	else if (strcmp(type, "GIT") == 0)
		rg->type = SP_RANGE_GIT;
	else
		return -1;
	return 0;
}

/* The event kinds by name, in SpEventKind order. */
const char *const sp_event_names[4] = {
	"introduced", "last_affected", "fixed", "limit"
};

/* Load "ranges[r]" into rg. */
static int
range_from_json(json_t *jr, const char path[160], SpArena *arena,
				const SpOsvAffected *aff, SpOsvRange *rg, char *eb,
				size_t el)
{
	json_t	   *type = json_object_get(jr, "type");
	json_t	   *events = json_object_get(jr, "events");
	char		sub[256];

	if (!json_is_object(jr))
		return fail(eb, el, path, "range is not an object");
	if (!json_is_string(type))
	{
		snprintf(sub, sizeof(sub), "%.150s.type", path);
		return fail(eb, el, sub, "missing or not a string");
	}
	if (sp_range_kind(json_string_value(type), aff->scheme, rg) != 0)
	{
		snprintf(sub, sizeof(sub), "%.150s.type", path);
		return fail(eb, el, sub, "unknown range type");
	}

	if (!json_is_array(events) || json_array_size(events) == 0)
	{
		snprintf(sub, sizeof(sub), "%.150s.events", path);
		return fail(eb, el, sub, "missing or empty array");
	}
	rg->nevents = (int) json_array_size(events);
	rg->events = sp_alloc(arena, sizeof(SpOsvEvent) * rg->nevents);
	if (rg->events == NULL)
		return fail(eb, el, path, "out of memory");

	for (int e = 0; e < rg->nevents; e++)
	{
		json_t	   *je = json_array_get(events, e);
		SpOsvEvent *ev = &rg->events[e];
		int			found = 0;

		snprintf(sub, sizeof(sub), "%.150s.events[%d]", path, e);
		if (!json_is_object(je))
			return fail(eb, el, sub, "event is not an object");
		for (int k = 0; k < 4; k++)
		{
			json_t	   *jv = json_object_get(je, sp_event_names[k]);

			if (jv == NULL)
				continue;
			if (!json_is_string(jv))
			{
				snprintf(sub, sizeof(sub), "%.150s.events[%d].%s", path, e,
						 sp_event_names[k]);
				return fail(eb, el, sub, "not a string");
			}
			ev->kind = (SpEventKind) k;
			ev->text = sp_strdup(arena, json_string_value(jv));
			found++;
		}
		if (found != 1)
			return fail(eb, el, sub,
						"needs exactly one of introduced, fixed, last_affected, limit");
	}
	return 0;
}

/* Load one affected[] element; see osvrange.h. */
int
sp_affected_from_json(json_t *elem, const char *path, SpArena *arena,
					  SpOsvAffected *out, char *errbuf, size_t errlen)
{
	json_t	   *pkg = json_object_get(elem, "package");
	json_t	   *ranges = json_object_get(elem, "ranges");
	json_t	   *versions = json_object_get(elem, "versions");
	char		sub[160];
	char		msg[400];

	memset(out, 0, sizeof(*out));
	if (!json_is_object(elem))
		return fail(errbuf, errlen, path, "not an object");

	/* package: ecosystem decides the comparator */
	out->scheme = SP_SCHEME_GENERIC;
	if (pkg != NULL)
	{
		json_t	   *eco = json_object_get(pkg, "ecosystem");
		json_t	   *name = json_object_get(pkg, "name");

		if (!json_is_string(eco) || !json_is_string(name))
		{
			snprintf(sub, sizeof(sub), "%s.package", path);
			return fail(errbuf, errlen, sub,
						"ecosystem and name must be strings");
		}
		out->ecosystem = sp_strdup(arena, json_string_value(eco));
		out->name = sp_strdup(arena, json_string_value(name));

		out->scheme = sp_affected_scheme(out->ecosystem);
	}

	if (ranges != NULL)
	{
		if (!json_is_array(ranges))
		{
			snprintf(sub, sizeof(sub), "%s.ranges", path);
			return fail(errbuf, errlen, sub, "not an array");
		}
		out->nranges = (int) json_array_size(ranges);
		out->ranges = sp_alloc(arena, sizeof(SpOsvRange) * (out->nranges + 1));
		for (int r = 0; r < out->nranges; r++)
		{
			snprintf(sub, sizeof(sub), "%s.ranges[%d]", path, r);
			if (range_from_json(json_array_get(ranges, r), sub, arena, out,
								&out->ranges[r], errbuf, errlen) != 0)
				return -1;
		}
	}

	if (versions != NULL)
	{
		if (!json_is_array(versions))
		{
			snprintf(sub, sizeof(sub), "%s.versions", path);
			return fail(errbuf, errlen, sub, "not an array");
		}
		out->nversions = (int) json_array_size(versions);
		out->versions = sp_alloc(arena,
								 sizeof(SpOsvVersion) * (out->nversions + 1));
		for (int i = 0; i < out->nversions; i++)
		{
			json_t	   *jv = json_array_get(versions, i);

			if (!json_is_string(jv))
			{
				snprintf(sub, sizeof(sub), "%s.versions[%d]", path, i);
				return fail(errbuf, errlen, sub, "not a string");
			}
			out->versions[i].text = sp_strdup(arena, json_string_value(jv));
		}
	}

	if (sp_affected_prepare(out, arena, msg, sizeof(msg)) != 0)
	{
		snprintf(sub, sizeof(sub), "%s", path);
		if (errbuf && errlen > 0)
			snprintf(errbuf, errlen, "%s.%s", sub, msg);
		return -1;
	}
	return 0;
}

/* Load every affected[] element of an OSV document. */
int
sp_osv_from_json(json_t *doc, SpArena *arena, SpOsvAffected **out,
				 int *nout, char *errbuf, size_t errlen)
{
	json_t	   *aff = json_object_get(doc, "affected");
	char		path[32];
	int			n;

	*out = NULL;
	*nout = 0;
	if (aff == NULL)
		return 0;
	if (!json_is_array(aff))
		return fail(errbuf, errlen, "affected", "not an array");
	n = (int) json_array_size(aff);
	*out = sp_alloc(arena, sizeof(SpOsvAffected) * (n + 1));
	if (*out == NULL)
		return fail(errbuf, errlen, "affected", "out of memory");
	for (int i = 0; i < n; i++)
	{
		snprintf(path, sizeof(path), "affected[%d]", i);
		if (sp_affected_from_json(json_array_get(aff, i), path, arena,
								  &(*out)[i], errbuf, errlen) != 0)
			return -1;
	}
	*nout = n;
	return 0;
}

/* ----------------------------------------------------------------
 * vers:
 * ----------------------------------------------------------------
 */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Order constraints by version for the vers algorithm. */
static int
cons_order(const void *pa, const void *pb)
{
	const SpVersConstraint *a = pa;
	const SpVersConstraint *b = pb;

	return sp_version_cmp_parsed(&a->ver, &b->ver);
}

/* Parse a vers string; see osvrange.h. */
int
sp_vers_parse(const char *s, SpArena *arena, SpVers *out, char *errbuf,
			  size_t errlen)
{
	const char *slash;
	const char *p;
	char		type[32];
	char		msg[300];
	int			cap = 1;

	memset(out, 0, sizeof(*out));
	if (strncasecmp(s, "vers:", 5) != 0)
		return fail(errbuf, errlen, s, "vers range must start with \"vers:\"");
	slash = strchr(s + 5, '/');
	if (slash == NULL || slash == s + 5 || slash - s - 5 >= (long) sizeof(type))
		return fail(errbuf, errlen, s, "missing versioning scheme");
	memcpy(type, s + 5, slash - s - 5);
	type[slash - s - 5] = '\0';
	if (sp_scheme_from_name(type, &out->scheme) != 0)
		return fail(errbuf, errlen, s, "unknown versioning scheme");

	for (p = slash + 1; *p; p++)
		if (*p == '|')
			cap++;
	out->cons = sp_alloc(arena, sizeof(SpVersConstraint) * cap);
	if (out->cons == NULL)
		return fail(errbuf, errlen, s, "out of memory");

	/* constraints separated by "|"; blanks are insignificant */
	p = slash + 1;
	for (;;)
	{
		const char *end = strchr(p, '|');
		size_t		len = end ? (size_t) (end - p) : strlen(p);
		char	   *buf = sp_alloc(arena, len + 1);
		size_t		o = 0;
		const char *v;
		SpVersConstraint *c = &out->cons[out->ncons];

		if (buf == NULL)
			return fail(errbuf, errlen, s, "out of memory");
		for (size_t i = 0; i < len; i++)
			if (!isspace((unsigned char) p[i]))
				buf[o++] = p[i];
		buf[o] = '\0';

		if (strcmp(buf, "*") == 0)
		{
			if (out->ncons > 0 || end != NULL)
				return fail(errbuf, errlen, s, "\"*\" must stand alone");
			out->star = true;
			return 0;
		}
		v = buf;
		if (strncmp(v, ">=", 2) == 0)
			c->op = SP_VERS_GE, v += 2;
		else if (strncmp(v, "<=", 2) == 0)
			c->op = SP_VERS_LE, v += 2;
		else if (strncmp(v, "!=", 2) == 0)
			c->op = SP_VERS_NE, v += 2;
		else if (*v == '<')
			c->op = SP_VERS_LT, v++;
		else if (*v == '>')
			c->op = SP_VERS_GT, v++;
		else if (*v == '=')
			c->op = SP_VERS_EQ, v++;
		else
			c->op = SP_VERS_EQ;

		/* versions are percent-encoded in vers */
		{
			char	   *d = (char *) v;
			char	   *w = d;

			for (; *d; d++)
			{
				if (*d == '%' && hexval(d[1]) >= 0 && hexval(d[2]) >= 0)
				{
					*w++ = (char) (hexval(d[1]) * 16 + hexval(d[2]));
					d += 2;
				}
				else
					*w++ = *d;
			}
			*w = '\0';
		}
		if (*v == '\0')
			return fail(errbuf, errlen, s, "empty constraint");
		c->text = v;
		if (sp_version_parse(out->scheme, v, arena, &c->ver, msg,
							 sizeof(msg)) != 0)
			return fail(errbuf, errlen, s, msg);
		out->ncons++;
		if (end == NULL)
			break;
		p = end + 1;
	}
	qsort(out->cons, out->ncons, sizeof(SpVersConstraint), cons_order);
	return 0;
}

/* Does v satisfy one comparator? */
static bool
cons_ok(const SpVersConstraint *c, const SpVersion *v)
{
	int			r = sp_version_cmp_parsed(v, &c->ver);

	switch (c->op)
	{
		case SP_VERS_EQ:
			return r == 0;
		case SP_VERS_NE:
			return r != 0;
		case SP_VERS_LT:
			return r < 0;
		case SP_VERS_LE:
			return r <= 0;
		case SP_VERS_GT:
			return r > 0;
		default:
			return r >= 0;
	}
}

/* The vers specification's containment check over sorted constraints. */
bool
sp_vers_match(const SpVers *vers, const SpVersion *v)
{
	const SpVersConstraint *prev = NULL;
	const SpVersConstraint *first = NULL;

	if (vers->star)
		return true;

	/* equalities decide at once */
	for (int i = 0; i < vers->ncons; i++)
	{
		const SpVersConstraint *c = &vers->cons[i];

		if (c->op == SP_VERS_EQ && cons_ok(c, v))
			return true;
		if (c->op == SP_VERS_NE && !cons_ok(c, v))
			return false;
	}

	/* the remaining comparators, in version order, pair up into intervals */
	for (int i = 0; i < vers->ncons; i++)
	{
		const SpVersConstraint *c = &vers->cons[i];
		bool		lower = (c->op == SP_VERS_GT || c->op == SP_VERS_GE);

		if (c->op == SP_VERS_EQ || c->op == SP_VERS_NE)
			continue;
		if (first == NULL)
		{
			first = c;
			if (!lower && cons_ok(c, v))
				return true;	/* open below: "<2.0" */
		}
		if (prev && (prev->op == SP_VERS_GT || prev->op == SP_VERS_GE) &&
			!lower && cons_ok(prev, v) && cons_ok(c, v))
			return true;
		prev = c;
	}
	if (prev && (prev->op == SP_VERS_GT || prev->op == SP_VERS_GE) &&
		cons_ok(prev, v))
		return true;			/* open above: ">=3.0" */
	return false;
}
