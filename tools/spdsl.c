/*-------------------------------------------------------------------------
 *
 * spdsl.c
 *	  Command-line front end of the stella-dsl@1 compiler and evaluator.
 *
 *	  spdsl compile POLICY             print the compile result JSON
 *	  spdsl eval POLICY TUPLE [--explain [FINDING_ID]]
 *	                                   print the verdict (or explain trace)
 *
 * The tuple is a JSON file: {"sbom":{"id","tags"}, "component":{"purl",
 * "name","version","ecosystem","scope","licenses"}, "advisory":{"id",
 * "source","aliases","tags","published","modified","severity":[{"type",
 * "score"}],"severityWord"}, "vex":[{"id","issuer","status",
 * "justification","timestamp","vulnerability","product"}], "env":{...},
 * "evaluationTime":"<ISO-8601>"}.  The tool is for developers and tests;
 * the extension fills SpTuple from SQL instead.
 *
 *-------------------------------------------------------------------------
 */
#include "spjson.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/dsl.h"

/* Read a whole file; NULL on failure. */
static char *
read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf = NULL;
	size_t		cap = 0,
				n = 0;

	if (f == NULL)
		return NULL;
	for (;;)
	{
		size_t		got;

		if (n + 65536 > cap)
		{
			cap = cap ? cap * 2 : 131072;
			buf = realloc(buf, cap);
			if (buf == NULL)
				break;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	*len = n;
	return buf;
}

static const char *
jstr(SpArena *a, json_t *o, const char *key)
{
	json_t	   *v = json_object_get(o, key);

	return json_is_string(v) ? sp_strdup(a, json_string_value(v)) : NULL;
}

static const char *const *
jstrs(SpArena *a, json_t *o, const char *key, int *n)
{
	json_t	   *arr = json_object_get(o, key);
	const char **out;
	size_t		i;

	*n = 0;
	if (!json_is_array(arr))
		return NULL;
	out = sp_alloc(a, sizeof(char *) * (json_array_size(arr) + 1));
	for (i = 0; i < json_array_size(arr); i++)
		if (json_is_string(json_array_get(arr, i)))
			out[(*n)++] = sp_strdup(a, json_string_value(json_array_get(arr, i)));
	return out;
}

/* A JSON number as thousandths, from its decimal text (no floats). */
static int64_t
thousandths(json_t *v)
{
	char	   *text = json_dumps(v, JSON_ENCODE_ANY);
	const char *p = text;
	int64_t		ip = 0,
				frac = 0;
	int			fd = 0,
				neg = 0;

	if (*p == '-')
		neg = 1, p++;
	while (*p >= '0' && *p <= '9')
		ip = ip * 10 + (*p++ - '0');
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (fd < 3)
				frac = frac * 10 + (*p - '0'), fd++;
	while (fd++ < 3)
		frac *= 10;
	sp_json_free(text);
	return (ip * 1000 + frac) * (neg ? -1 : 1);
}

static bool
load_tuple(const char *path, SpArena *a, SpTuple *t)
{
	json_error_t err;
	json_t	   *root = json_load_file(path, 0, &err);
	json_t	   *o,
			   *arr,
			   *v;
	const char *key;
	size_t		i;

	memset(t, 0, sizeof(*t));
	t->base_score = SP_SCORE_UNKNOWN;
	if (root == NULL)
	{
		fprintf(stderr, "spdsl: %s: %s\n", path, err.text);
		return false;
	}
	o = json_object_get(root, "sbom");
	t->sbom_id = jstr(a, o, "id");
	t->sbom_tags = jstrs(a, o, "tags", &t->n_sbom_tags);
	o = json_object_get(root, "component");
	t->purl = jstr(a, o, "purl");
	t->name = jstr(a, o, "name");
	t->version = jstr(a, o, "version");
	t->ecosystem = jstr(a, o, "ecosystem");
	t->scope = jstr(a, o, "scope");
	t->licenses = jstrs(a, o, "licenses", &t->n_licenses);
	o = json_object_get(root, "advisory");
	t->advisory_id = jstr(a, o, "id");
	t->advisory_source = jstr(a, o, "source");
	t->aliases = jstrs(a, o, "aliases", &t->n_aliases);
	t->advisory_tags = jstrs(a, o, "tags", &t->n_advisory_tags);
	t->published = jstr(a, o, "published");
	t->modified = jstr(a, o, "modified");
	t->severity_word = jstr(a, o, "severityWord");
	arr = json_object_get(o, "severity");
	if (json_is_array(arr))
	{
		SpSeverityVector *sv = sp_alloc(a, sizeof(*sv) * (json_array_size(arr) + 1));

		for (i = 0; i < json_array_size(arr); i++)
		{
			json_t	   *s = json_array_get(arr, i);
			const char *type = jstr(a, s, "type");

			sv[t->n_vectors].vector = jstr(a, s, "score");
			sv[t->n_vectors].type = type && strcmp(type, "CVSS_V4") == 0 ? SP_CVSS_V4 :
				type && strcmp(type, "CVSS_V2") == 0 ? SP_CVSS_V2 : SP_CVSS_V3;
			t->n_vectors++;
		}
		t->vectors = sv;
	}
	arr = json_object_get(root, "vex");
	if (json_is_array(arr))
	{
		SpVexStatement *vs = sp_alloc(a, sizeof(*vs) * (json_array_size(arr) + 1));

		for (i = 0; i < json_array_size(arr); i++)
		{
			json_t	   *s = json_array_get(arr, i);
			const char *ts = jstr(a, s, "timestamp");

			vs[i].id = jstr(a, s, "id");
			vs[i].issuer = jstr(a, s, "issuer");
			vs[i].status = jstr(a, s, "status");
			vs[i].justification = jstr(a, s, "justification");
			vs[i].vulnerability = jstr(a, s, "vulnerability");
			vs[i].product = jstr(a, s, "product");
			if (ts && !sp_parse_timestamp(ts, strlen(ts), &vs[i].timestamp))
				fprintf(stderr, "spdsl: bad timestamp %s\n", ts);
		}
		t->vex = vs;
		t->n_vex = (int) json_array_size(arr);
	}
	o = json_object_get(root, "env");
	if (json_is_object(o))
	{
		SpEnvEntry *env = sp_alloc(a, sizeof(*env) * (json_object_size(o) + 1));

		json_object_foreach(o, key, v)
		{
			SpEnvEntry *e = &env[t->n_env++];
			char	   *k = sp_strdup(a, key);
			char	   *p;

			for (p = k; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char) (*p - 'A' + 'a');
			e->key = k;
			if (json_is_string(v))
				e->type = SP_ENV_STRING, e->str = sp_strdup(a, json_string_value(v));
			else if (json_is_number(v))
				e->type = SP_ENV_NUMBER, e->num = thousandths(v);
			else if (json_is_boolean(v))
				e->type = SP_ENV_BOOL, e->b = json_is_true(v);
			else
				e->type = SP_ENV_NULL;
		}
		t->env = env;
	}
	{
		const char *et = jstr(a, root, "evaluationTime");

		if (et && !sp_parse_timestamp(et, strlen(et), &t->eval_time))
			fprintf(stderr, "spdsl: bad evaluationTime %s\n", et);
	}
	json_decref(root);
	return true;
}

int
main(int argc, char **argv)
{
	SpArena    *arena;
	char	   *src;
	size_t		len;
	SpCompileResult *res;
	SpPolicy   *policy;

	if (argc < 3 || (strcmp(argv[1], "compile") != 0 &&
					 strcmp(argv[1], "eval") != 0) ||
		(strcmp(argv[1], "eval") == 0 && argc < 4))
	{
		fprintf(stderr,
				"usage: spdsl compile POLICY\n"
				"       spdsl eval POLICY TUPLE.json [--explain [FINDING_ID]]\n");
		return 2;
	}
	arena = sp_arena_create();
	src = read_file(argv[2], &len);
	if (src == NULL)
	{
		fprintf(stderr, "spdsl: cannot read %s\n", argv[2]);
		return 2;
	}
	if (strcmp(argv[1], "compile") == 0)
	{
		res = sp_dsl_compile(src, len, arena);
		puts(sp_dsl_compile_result_json(res, arena));
		return res->ok ? 0 : 1;
	}

	policy = sp_dsl_compile_load(src, len, arena, &res);
	if (policy == NULL)
	{
		puts(sp_dsl_compile_result_json(res, arena));
		return 1;
	}
	{
		SpTuple		t;
		SpVerdict	v;

		if (!load_tuple(argv[3], arena, &t))
			return 2;
		if (argc >= 5 && strcmp(argv[4], "--explain") == 0)
		{
			puts(sp_dsl_explain(policy, &t, argc >= 6 ? argv[5] : NULL,
								arena));
			return 0;
		}
		if (sp_dsl_evaluate(policy, &t, &v, arena) != 0)
		{
			fprintf(stderr, "spdsl: out of memory\n");
			return 1;
		}
		puts(sp_verdict_json(&v, arena));
	}
	free(src);
	sp_arena_destroy(arena);
	return 0;
}
