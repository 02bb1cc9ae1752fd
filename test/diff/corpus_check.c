/*-------------------------------------------------------------------------
 *
 * corpus_check.c
 *	  Reproduce the corpus ground truth with the version and range code.
 *
 * Loads every OSV record under <corpus>/advisories/osv and every component
 * purl of every SBOM under <corpus>/sbom (CycloneDX components, nested
 * ones included; SPDX packages' purl externalRefs), joins them on (base
 * ecosystem, package key) with the distribution release rule, evaluates
 * the ranges, and compares the resulting (sbom, bom-ref, purl, advisory,
 * status) rows with <corpus>/ground-truth/expected-matches.csv.  Prints
 * TAP.  The purl split here is deliberately minimal (the real parser is
 * purl.c's business).
 *
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include "spjson.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecosystem.h"
#include "osvrange.h"

typedef struct Advisory
{
	char	   *id;
	bool		withdrawn;
	SpOsvAffected *aff;
	int			naff;
} Advisory;

static Advisory advs[1024];
static int	nadv;
static char *rows[8192];
static int	nrows;
static int	failures;

/* Load one OSV file; a load error is a test failure. */
static void
load_osv(const char *path, SpArena *arena)
{
	json_error_t jerr;
	json_t	   *doc = json_load_file(path, 0, &jerr);
	char		err[512];
	Advisory   *a = &advs[nadv];

	if (doc == NULL)
	{
		printf("# %s: %s\n", path, jerr.text);
		failures++;
		return;
	}
	a->id = sp_strdup(arena, json_string_value(json_object_get(doc, "id")));
	a->withdrawn = json_object_get(doc, "withdrawn") != NULL;
	if (sp_osv_from_json(doc, arena, &a->aff, &a->naff, err, sizeof(err)) != 0)
	{
		printf("# %s: %s\n", path, err);
		failures++;
	}
	else
		nadv++;
	json_decref(doc);
}

/* Visit every .json file below dir. */
static void
walk(const char *dir, void (*fn) (const char *, SpArena *), SpArena *arena)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;
	char		path[1024];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
	{
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (strstr(e->d_name, ".json"))
			fn(path, arena);
		else
			walk(path, fn, arena);
	}
	closedir(d);
}

/* Percent-decode in place. */
static void
pct_decode(char *s)
{
	char	   *w = s;

	for (; *s; s++)
	{
		unsigned int c;

		if (*s == '%' && sscanf(s + 1, "%2x", &c) == 1)
		{
			*w++ = (char) c;
			s += 2;
		}
		else
			*w++ = *s;
	}
	*w = '\0';
}

/* Find qualifier key in "a=b&c=d"; returns a decoded copy or NULL. */
static char *
qualifier(const char *quals, const char *key, char *buf, size_t len)
{
	size_t		klen = strlen(key);
	const char *p = quals;

	while (p && *p)
	{
		const char *amp = strchr(p, '&');
		size_t		n = amp ? (size_t) (amp - p) : strlen(p);

		if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=')
		{
			snprintf(buf, len, "%.*s", (int) (n - klen - 1), p + klen + 1);
			pct_decode(buf);
			return buf;
		}
		p = amp ? amp + 1 : NULL;
	}
	return NULL;
}

static char cur_sbom[512];

/* Match one component purl against every advisory and record rows. */
static void
check_component(const char *bomref, const char *purl, SpArena *arena)
{
	char		buf[2048];
	char	   *type,
			   *rest,
			   *ver,
			   *quals,
			   *name,
			   *ns;
	char		distro[128],
				upstream[256],
				eco[64];
	char		key[512],
				key2[512];
	char	   *d,
			   *up;

	if (strncmp(purl, "pkg:", 4) != 0)
		return;
	snprintf(buf, sizeof(buf), "%s", purl + 4);

	/* pkg:type/ns.../name@version?qualifiers#subpath */
	if ((rest = strchr(buf, '#')) != NULL)
		*rest = '\0';
	quals = strchr(buf, '?');
	if (quals)
		*quals++ = '\0';
	ver = strrchr(buf, '@');
	if (ver == NULL)
		return;
	*ver++ = '\0';
	pct_decode(ver);
	type = buf;
	rest = strchr(buf, '/');
	if (rest == NULL)
		return;
	*rest++ = '\0';
	name = strrchr(rest, '/');
	if (name)
	{
		*name++ = '\0';
		ns = rest;
	}
	else
	{
		name = rest;
		ns = NULL;
	}
	if (ns)
		pct_decode(ns);
	pct_decode(name);
	for (char *t = type; *t; t++)
		*t = (char) (*t >= 'A' && *t <= 'Z' ? *t + 32 : *t);

	d = qualifier(quals, "distro", distro, sizeof(distro));
	up = qualifier(quals, "upstream", upstream, sizeof(upstream));
	if (sp_eco_from_purl(type, ns, d, eco, sizeof(eco)) != 0)
		return;
	if (sp_eco_package_key(type, ns, name, key, sizeof(key)) != 0)
		return;
	if (up == NULL || sp_eco_package_key(type, NULL, up, key2,
										 sizeof(key2)) != 0)
		key2[0] = '\0';

	for (int i = 0; i < nadv; i++)
	{
		bool		named = false;
		bool		hit = false;

		for (int j = 0; j < advs[i].naff; j++)
		{
			SpOsvAffected *af = &advs[i].aff[j];
			char		base[64],
						akey[512];
			SpVersion	v;
			char		err[300];

			if (af->ecosystem == NULL ||
				sp_eco_osv_key(af->ecosystem, af->name, base, sizeof(base),
							   akey, sizeof(akey)) != 0)
				continue;
			if (strcmp(base, eco) != 0 ||
				(strcmp(akey, key) != 0 && strcmp(akey, key2) != 0))
				continue;
			if (!sp_eco_release_match(af->ecosystem, d))
				continue;
			named = true;
			if (sp_version_parse(af->scheme, ver, arena, &v, err,
								 sizeof(err)) != 0)
			{
				printf("# %s %s: %s\n", purl, advs[i].id, err);
				if (sp_affected_match(af, NULL, ver))
					hit = true;
				continue;
			}
			if (sp_affected_match(af, &v, ver))
				hit = true;
		}
		if (named)
		{
			char		row[4096];

			snprintf(row, sizeof(row), "%s,%s,%s,%s,%s", cur_sbom, bomref,
					 purl, advs[i].id,
					 hit ? (advs[i].withdrawn ? "withdrawn" : "affected")
					 : "not_affected_version_out_of_range");
			rows[nrows++] = strdup(row);
		}
	}
}

/* Walk CycloneDX components recursively. */
static void
cdx_components(json_t *arr, SpArena *arena)
{
	size_t		i;
	json_t	   *c;

	json_array_foreach(arr, i, c)
	{
		json_t	   *purl = json_object_get(c, "purl");
		json_t	   *ref = json_object_get(c, "bom-ref");

		if (json_is_string(purl))
			check_component(json_is_string(ref) ? json_string_value(ref) : "",
							json_string_value(purl), arena);
		if (json_object_get(c, "components"))
			cdx_components(json_object_get(c, "components"), arena);
	}
}

/* Load one SBOM and check its components. */
static void
load_sbom(const char *path, SpArena *arena)
{
	json_error_t jerr;
	json_t	   *doc = json_load_file(path, 0, &jerr);
	const char *rel = strstr(path, "sbom/");
	size_t		i,
				k;
	json_t	   *p,
			   *r;

	if (doc == NULL)
		return;
	snprintf(cur_sbom, sizeof(cur_sbom), "%s", rel ? rel : path);
	if (json_object_get(doc, "components"))
		cdx_components(json_object_get(doc, "components"), arena);
	json_array_foreach(json_object_get(doc, "packages"), i, p)
	{
		json_array_foreach(json_object_get(p, "externalRefs"), k, r)
		{
			json_t	   *t = json_object_get(r, "referenceType");

			if (json_is_string(t) && strcmp(json_string_value(t), "purl") == 0)
				check_component(json_string_value(json_object_get(p, "SPDXID")),
								json_string_value(json_object_get(r, "referenceLocator")),
								arena);
		}
	}
	json_decref(doc);
}

static int
strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Run the check; argv[1] is the corpus directory. */
int
main(int argc, char **argv)
{
	const char *corpus = argc > 1 ? argv[1] : "/work/shared/corpus";
	char		path[1024];
	char		line[4096];
	char	   *expected[8192];
	int			nexp = 0;
	int			missing = 0,
				extra = 0;
	SpArena    *arena = sp_arena_create();
	FILE	   *f;
	int			i,
				j;

	printf("1..3\n");
	snprintf(path, sizeof(path), "%s/advisories/osv", corpus);
	walk(path, load_osv, arena);
	printf("%s 1 - %d OSV records load without error\n",
		   failures ? "not ok" : "ok", nadv);

	snprintf(path, sizeof(path), "%s/sbom", corpus);
	walk(path, load_sbom, arena);

	snprintf(path, sizeof(path), "%s/ground-truth/expected-matches.csv", corpus);
	f = fopen(path, "r");
	if (f == NULL)
	{
		printf("not ok 2 - cannot read %s\nnot ok 3 - no ground truth\n", path);
		return 1;
	}
	while (fgets(line, sizeof(line), f))
	{
		line[strcspn(line, "\r\n")] = '\0';
		if (strncmp(line, "sbom_file,", 10) == 0 || line[0] == '\0')
			continue;
		expected[nexp++] = strdup(line);
	}
	fclose(f);

	/* duplicates (the same nested component twice) count once */
	qsort(rows, nrows, sizeof(char *), strp_cmp);
	for (i = 0, j = 0; i < nrows; i++)
		if (j == 0 || strcmp(rows[j - 1], rows[i]) != 0)
			rows[j++] = rows[i];
	nrows = j;
	qsort(expected, nexp, sizeof(char *), strp_cmp);

	for (i = 0, j = 0; i < nexp || j < nrows;)
	{
		int			c = (i >= nexp) ? 1 : (j >= nrows) ? -1
			: strcmp(expected[i], rows[j]);

		if (c < 0)
		{
			printf("# missing:  %s\n", expected[i++]);
			missing++;
		}
		else if (c > 0)
		{
			printf("# extra:    %s\n", rows[j++]);
			extra++;
		}
		else
			i++, j++;
	}
	printf("# expected %d rows, produced %d, missing %d, extra %d\n",
		   nexp, nrows, missing, extra);
	printf("%s 2 - every expected row is produced\n", missing ? "not ok" : "ok");
	printf("%s 3 - no unexpected row is produced\n", extra ? "not ok" : "ok");
	sp_arena_destroy(arena);
	return (failures || missing || extra) ? 1 : 0;
}
