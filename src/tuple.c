/*-------------------------------------------------------------------------
 *
 * tuple.c
 *	  Build the evaluator's tuple (SBOM, component, advisory, VEX, env)
 *	  from the tables, for one (SBOM, purl, advisory).
 *
 * Used by policy_evaluate; runs build tuples in bulk elsewhere.  Every
 * lookup is in the current tenant and uses parameters.  The VEX statements
 * handed to the evaluator are all those naming the advisory (by id or
 * alias) or the component's package: the evaluator itself decides which
 * apply, so that an explain trace can say why the others do not.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "match.h"
#include "pgutil.h"
#include "policy.h"

static char *
getstr(HeapTuple tup, TupleDesc td, int col)
{
	return SPI_getvalue(tup, td, col);
}

/* A text[] column as a NULL-terminated C array; *n its length. */
static const char *const *
getarr(HeapTuple tup, TupleDesc td, int col, int *n)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, td, col, &isnull);

	*n = 0;
	if (isnull)
		return NULL;
	return (const char *const *) sp_text_array_elems(d, n);
}

static int
run(const char *sql, int nargs, Oid *types, Datum *values)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, NULL, true, 0);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "tuple lookup failed: %s", SPI_result_code_string(rc));
	return (int) SPI_processed;
}

/*
 * OSV severity entries ({type, score} as parallel arrays) as CVSS vectors
 * for the evaluator; types that are not CVSS are not scores and are left
 * out.  Returns the number of vectors.
 */
int
sp_severity_vectors(Jsonb *severity, SpSeverityVector **out)
{
	int			n = JB_ROOT_IS_ARRAY(severity) && !JB_ROOT_IS_SCALAR(severity)
		? JB_ROOT_COUNT(severity) : 0;
	SpSeverityVector *vec = palloc0(sizeof(SpSeverityVector) * Max(n, 1));
	int			k = 0;

	for (int i = 0; i < n; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(&severity->root, i);
		JsonbValue	tv;
		JsonbValue	sv;
		JsonbValue *type;
		JsonbValue *score;

		if (e == NULL || e->type != jbvBinary || !JsonContainerIsObject(e->val.binary.data))
			continue;
		type = getKeyJsonValueFromContainer(e->val.binary.data, "type", 4, &tv);
		score = getKeyJsonValueFromContainer(e->val.binary.data, "score", 5, &sv);
		if (type == NULL || type->type != jbvString || score == NULL || score->type != jbvString)
			continue;
#define IS(lit) (type->val.string.len == sizeof(lit) - 1 && \
				 memcmp(type->val.string.val, lit, sizeof(lit) - 1) == 0)
		if (IS("CVSS_V2"))
			vec[k].type = SP_CVSS_V2;
		else if (IS("CVSS_V3"))
			vec[k].type = SP_CVSS_V3;
		else if (IS("CVSS_V4"))
			vec[k].type = SP_CVSS_V4;
		else
			continue;
#undef IS
		vec[k++].vector = pnstrdup(score->val.string.val, score->val.string.len);
	}
	*out = vec;
	return k;
}

/* The env object: lower-cased keys, each once; scalars only. */
void
sp_env_entries(Datum env, SpEnvEntry **entries, int *n)
{
	Oid			t[1] = {JSONBOID};
	Datum		v[1] = {env};
	int			rows;
	SPITupleTable *tt;
	SpEnvEntry *out;

	rows = run("SELECT pg_catalog.jsonb_typeof($1)", 1, t, v);
	if (rows != 1 || strcmp(getstr(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), "object") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("env must be a JSON object")));

	/*
	 * Keys fold as the compiler folds env.<key>: ASCII letters only, so the
	 * same request gives the same env under any database collation.
	 */
	rows = run("SELECT pg_catalog.lower(key COLLATE \"C\"), pg_catalog.jsonb_typeof(value), value #>> '{}', key "
			   "FROM pg_catalog.jsonb_each($1) ORDER BY 1, key COLLATE \"C\"",
			   1, t, v);
	tt = SPI_tuptable;
	out = palloc0(sizeof(SpEnvEntry) * Max(rows, 1));
	for (int i = 0; i < rows; i++)
	{
		char	   *key = getstr(tt->vals[i], tt->tupdesc, 1);
		char	   *type = getstr(tt->vals[i], tt->tupdesc, 2);
		char	   *val = getstr(tt->vals[i], tt->tupdesc, 3);

		if (i > 0 && strcmp(key, out[i - 1].key) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("env key \"%s\" is given twice", key),
					 errdetail("Env keys are case-insensitive: they are lower-cased.")));
		out[i].key = key;
		if (strcmp(type, "string") == 0)
		{
			out[i].type = SP_ENV_STRING;
			out[i].str = val;
		}
		else if (strcmp(type, "number") == 0)
		{
			out[i].type = SP_ENV_NUMBER;
			if (!sp_decimal_thousandths(val, &out[i].num))
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("env value \"%s\" for key \"%s\" is out of range", val, key),
						 errdetail("Env numbers are kept in thousandths (fixed point).")));
		}
		else if (strcmp(type, "boolean") == 0)
		{
			out[i].type = SP_ENV_BOOL;
			out[i].b = (strcmp(val, "true") == 0);
		}
		else if (strcmp(type, "null") == 0)
			out[i].type = SP_ENV_NULL;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("env value for key \"%s\" is %s", key, type),
					 errdetail("Env values must be strings, numbers, booleans or null.")));
	}
	*entries = out;
	*n = rows;
}

void
sp_build_tuple(const SpEvalInput *in, SpTuple *tuple, SpArena *arena)
{
	Oid			t[5] = {TEXTOID, TEXTOID, TEXTOID, TEXTARRAYOID, TEXTOID};
	Datum		v[5];
	SPITupleTable *tt;
	int			n;
	char	   *ids[1];
	const char *const *aliases;
	int			naliases;

	memset(tuple, 0, sizeof(*tuple));
	v[0] = CStringGetTextDatum(in->tenant);

	/* SBOM: the current revision. */
	v[1] = CStringGetTextDatum(in->sbom_id);
	if (run("SELECT tags FROM stellapolicy.sbom WHERE tenant = $1 AND sbom_id = $2 AND is_current",
			2, t, v) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("SBOM \"%s\" does not exist", in->sbom_id)));
	tuple->sbom_id = in->sbom_id;
	tuple->sbom_tags = getarr(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &tuple->n_sbom_tags);

	/* Component: the purl as given, else the same purl without qualifiers. */
	v[2] = CStringGetTextDatum(in->purl);
	if (run("SELECT c.purl, c.name, coalesce(c.match_version, c.version), c.purl_type, c.scope, c.licenses "
			"FROM stellapolicy.component c JOIN stellapolicy.sbom s USING (tenant, sbom_id, revision) "
			"WHERE c.tenant = $1 AND c.sbom_id = $2 AND s.is_current "
			"  AND (c.purl = $3 OR pg_catalog.regexp_replace(c.purl, '[?#].*$', '') = "
			"                      pg_catalog.regexp_replace($3, '[?#].*$', '')) "
			"ORDER BY c.purl = $3 DESC, c.ordinal LIMIT 1", 3, t, v) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("component \"%s\" is not in SBOM \"%s\"", in->purl, in->sbom_id)));
	tt = SPI_tuptable;
	tuple->purl = getstr(tt->vals[0], tt->tupdesc, 1);
	tuple->name = getstr(tt->vals[0], tt->tupdesc, 2);
	tuple->version = getstr(tt->vals[0], tt->tupdesc, 3);
	tuple->ecosystem = getstr(tt->vals[0], tt->tupdesc, 4);
	tuple->scope = getstr(tt->vals[0], tt->tupdesc, 5);
	tuple->licenses = getarr(tt->vals[0], tt->tupdesc, 6, &tuple->n_licenses);

	/* Advisory: its current revision and the tags on its id or aliases. */
	v[1] = CStringGetTextDatum(in->advisory_id);
	if (run("SELECT a.advisory_id, a.source, a.aliases, "
			"  pg_catalog.to_char(a.published AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
			"  pg_catalog.to_char(a.modified AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
			"  a.severity_word, stellapolicy.advisory_tags(a.advisory_id), a.severity "
			"FROM stellapolicy.advisory_raw a "
			"WHERE a.tenant = $1 AND a.advisory_id = $2 "
			"ORDER BY a.modified DESC, a.content_digest COLLATE \"C\" DESC LIMIT 1", 2, t, v) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("advisory \"%s\" does not exist", in->advisory_id)));
	tt = SPI_tuptable;
	tuple->advisory_id = getstr(tt->vals[0], tt->tupdesc, 1);
	tuple->advisory_source = getstr(tt->vals[0], tt->tupdesc, 2);
	tuple->aliases = getarr(tt->vals[0], tt->tupdesc, 3, &tuple->n_aliases);
	tuple->published = getstr(tt->vals[0], tt->tupdesc, 4);
	tuple->modified = getstr(tt->vals[0], tt->tupdesc, 5);
	tuple->severity_word = getstr(tt->vals[0], tt->tupdesc, 6);
	tuple->advisory_tags = getarr(tt->vals[0], tt->tupdesc, 7, &tuple->n_advisory_tags);
	{
		bool		isnull;
		Datum		sev = SPI_getbinval(tt->vals[0], tt->tupdesc, 8, &isnull);
		SpSeverityVector *vec;
		int			k = sp_severity_vectors(DatumGetJsonbP(sev), &vec);

		tuple->vectors = vec;
		tuple->n_vectors = k;
		tuple->base_score = sp_advisory_base_score(vec, k, tuple->severity_word);
	}

	/*
	 * VEX: statements naming the advisory or an alias, or about the
	 * component's package.  A statement found through one of its own
	 * aliases is handed over under the id that matched.
	 */
	aliases = tuple->aliases;
	naliases = tuple->n_aliases;
	{
		char	  **all = palloc(sizeof(char *) * (naliases + 1));

		all[0] = (char *) tuple->advisory_id;
		for (int i = 0; i < naliases; i++)
			all[i + 1] = (char *) aliases[i];
		v[3] = sp_text_array(all, naliases + 1);
	}
	v[2] = CStringGetTextDatum(tuple->purl);
	v[4] = CStringGetTextDatum(in->sbom_id);
	(void) ids;
	n = run("SELECT v.statement_pk, coalesce(v.document_id, v.document_digest) || '#' || v.statement_id, "
			"  v.issuer, v.status, v.justification, "
			"  (extract(epoch FROM v.statement_time) * 1000000)::bigint, "
			"  CASE WHEN v.vulnerability = ANY ($4) THEN v.vulnerability "
			"       ELSE coalesce((SELECT x FROM unnest(v.vuln_aliases) x WHERE x = ANY ($4) LIMIT 1), v.vulnerability) END, "
			"  coalesce(v.product_purl, v.product_ref), v.product_versions "
			"FROM stellapolicy.vex_statement v "
			"WHERE v.tenant = $1 AND (v.vulnerability = ANY ($4) OR v.vuln_aliases && $4 "
			"   OR pg_catalog.regexp_replace(v.product_purl, '[@?#].*$', '') = "
			"      pg_catalog.regexp_replace($3, '[@?#].*$', '')) "
			/* a statement inside another product does not concern this SBOM */
			"  AND (v.product_context IS NULL OR EXISTS (SELECT 1 FROM stellapolicy.sbom s "
			"       WHERE s.tenant = $1 AND s.sbom_id = $5 AND s.is_current "
			"         AND pg_catalog.regexp_replace(s.subject_purl, '[@?#].*$', '') = "
			"             pg_catalog.regexp_replace(v.product_context, '[@?#].*$', '') "
			"         AND (v.product_context !~ '@' OR "
			"              pg_catalog.regexp_replace(s.subject_purl, '[?#].*$', '') = "
			"              pg_catalog.regexp_replace(v.product_context, '[?#].*$', '')))) "
			"ORDER BY v.statement_pk", 5, t, v);
	tt = SPI_tuptable;
	{
		SpVexStatement *vex = palloc0(sizeof(SpVexStatement) * Max(n, 1));
		int			kept = 0;

		for (int r = 0; r < n; r++)
		{
			bool		vnull;
			Datum		pv = SPI_getbinval(tt->vals[r], tt->tupdesc, 9, &vnull);
			char	   *ts;
			int			i = kept;

			/* A statement limited to other versions does not concern this one. */
			if (!vnull && !sp_vex_versions_include(DatumGetJsonbP(pv), tuple->version, arena))
				continue;
			kept++;
			ts = getstr(tt->vals[r], tt->tupdesc, 6);

			vex[i].id = getstr(tt->vals[r], tt->tupdesc, 2);
			vex[i].issuer = getstr(tt->vals[r], tt->tupdesc, 3);
			vex[i].status = getstr(tt->vals[r], tt->tupdesc, 4);
			vex[i].justification = getstr(tt->vals[r], tt->tupdesc, 5);
			vex[i].timestamp = ts ? (int64) strtoll(ts, NULL, 10) : 0;
			vex[i].vulnerability = getstr(tt->vals[r], tt->tupdesc, 7);
			vex[i].product = getstr(tt->vals[r], tt->tupdesc, 8);
		}
		tuple->vex = vex;
		tuple->n_vex = kept;
	}

	/* Env and time. */
	if (!in->env_null)
	{
		SpEnvEntry *env;
		int			nenv;

		sp_env_entries(in->env, &env, &nenv);
		tuple->env = env;
		tuple->n_env = nenv;
	}
	tuple->eval_time = in->eval_time;
}
