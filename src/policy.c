/*-------------------------------------------------------------------------
 *
 * policy.c
 *	  SQL entry points of the policy store and the evaluator:
 *	  policy_compile, policy_create, policy_evaluate, and the per-backend
 *	  cache of loaded policies.
 *
 * The compiler and evaluator are the plain-C core (src/core/dsl*.c); this
 * file connects them to the tables.  A stored version keeps its source, its
 * canonical IR and the IR's digest.  Runs and policy_evaluate never parse
 * source: they load the IR once per backend and keep the loaded form in a
 * cache keyed by digest, in a memory context of its own that lives as long
 * as the backend (emptied when it holds too many policies).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "arena.h"
#include "cvss.h"
#include "dsl.h"
#include "pgutil.h"
#include "policy.h"
#include "purl.h"
#include "stellapolicy.h"

PG_FUNCTION_INFO_V1(stellapolicy_policy_compile);
PG_FUNCTION_INFO_V1(stellapolicy_policy_create);
PG_FUNCTION_INFO_V1(stellapolicy_policy_evaluate);

/* Policies kept loaded per backend before the cache is emptied. */
#define POLICY_CACHE_MAX	64

typedef struct PolicyCacheEntry
{
	char		digest[72];		/* hash key */
	SpPolicy   *policy;
} PolicyCacheEntry;

static MemoryContext PolicyCacheContext = NULL;
static HTAB *PolicyCache = NULL;

/* Arena blocks of cached policies live in PolicyCacheContext. */
static void *
cache_block_alloc(size_t size)
{
	return MemoryContextAllocHuge(PolicyCacheContext, size);
}

static void
cache_block_free(void *ptr)
{
	pfree(ptr);
}

static void
policy_cache_init(void)
{
	HASHCTL		ctl;

	if (PolicyCacheContext == NULL)
		PolicyCacheContext = AllocSetContextCreate(TopMemoryContext,
												   "stellapolicy policy cache",
												   ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = 72;
	ctl.entrysize = sizeof(PolicyCacheEntry);
	ctl.hcxt = PolicyCacheContext;
	PolicyCache = hash_create("stellapolicy policies", POLICY_CACHE_MAX, &ctl,
							  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
}

/*
 * The loaded form of the IR with this digest: from the cache, or loaded now
 * and cached.  ir is read only on a miss.
 */
const SpPolicy *
sp_policy_cached(const char *digest, const char *ir, size_t irlen)
{
	PolicyCacheEntry *e;
	bool		found;
	char		key[72];

	if (PolicyCache == NULL)
		policy_cache_init();

	memset(key, 0, sizeof(key));
	strlcpy(key, digest, sizeof(key));
	e = hash_search(PolicyCache, key, HASH_FIND, NULL);
	if (e != NULL)
		return e->policy;

	/* Too many: start over rather than track use; loading is cheap. */
	if (hash_get_num_entries(PolicyCache) >= POLICY_CACHE_MAX)
	{
		MemoryContextReset(PolicyCacheContext);
		policy_cache_init();
	}

	{
		SpArena    *arena = sp_arena_create_with(cache_block_alloc, cache_block_free);
		const char *err = NULL;
		SpPolicy   *p = sp_dsl_load(ir, irlen, arena, &err);

		if (p == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("stored policy IR %s does not load: %s", digest,
							err ? err : "unknown error")));
		if (strcmp(sp_policy_digest(p), digest) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("stored policy IR does not match its digest %s", digest)));
		e = hash_search(PolicyCache, key, HASH_ENTER, &found);
		e->policy = p;
	}
	return e->policy;
}

/*
 * SQL: stellapolicy.policy_compile(source text) RETURNS jsonb
 */
Datum
stellapolicy_policy_compile(PG_FUNCTION_ARGS)
{
	text	   *src = PG_GETARG_TEXT_PP(0);
	SpArena    *arena = sp_arena_create_with(palloc, pfree);
	SpCompileResult *res = sp_dsl_compile(VARDATA_ANY(src), VARSIZE_ANY_EXHDR(src), arena);
	char	   *json;
	Datum		result;

	if (res == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory compiling the policy")));
	json = sp_dsl_compile_result_json(res, arena);
	result = DirectFunctionCall1(jsonb_in, CStringGetDatum(json));
	sp_arena_destroy(arena);
	PG_RETURN_DATUM(result);
}

/* ERR_POL_001 with every diagnostic in the detail, one a line. */
static void
report_compile_errors(const char *policy_id, const SpCompileResult *res)
{
	StringInfoData detail;

	initStringInfo(&detail);
	for (int i = 0; i < res->ndiags; i++)
		appendStringInfo(&detail, "%sline %d, column %d: %s",
						 i ? "\n" : "", res->diags[i].line,
						 res->diags[i].column, res->diags[i].message);
	ereport(ERROR,
			(errcode(ERRCODE_SP_POLICY_COMPILE),
			 errmsg("ERR_POL_001: policy \"%s\" does not compile (%d error%s)",
					policy_id, res->ndiags, res->ndiags == 1 ? "" : "s"),
			 errdetail("%s", detail.data),
			 errhint("stellapolicy.policy_compile() returns the diagnostics as JSON.")));
}

/*
 * SQL: stellapolicy.policy_create(policy_id text, source text) RETURNS integer
 *
 * Compiles the source and stores it as the next draft version of the
 * policy; a source that does not compile is refused (ERR_POL_001).
 */
Datum
stellapolicy_policy_create(PG_FUNCTION_ARGS)
{
	char	   *policy_id;
	text	   *src;
	const char *tenant;
	SpArena    *arena;
	SpCompileResult *res = NULL;
	SpPolicy   *policy;
	Oid			t[6] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		v[6];
	int			rc;
	int32		version;
	bool		isnull;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("policy id and source must not be null")));
	policy_id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	src = PG_GETARG_TEXT_PP(1);
	tenant = sp_current_tenant();

	/* Ids are used in partition names and logs: keep them plain. */
	{
		size_t		n = strlen(policy_id);
		bool		ok = n >= 1 && n <= 128 && isalnum((unsigned char) policy_id[0]);

		for (size_t i = 0; ok && i < n; i++)
			ok = isalnum((unsigned char) policy_id[i]) || strchr("._:-", policy_id[i]) != NULL;
		if (!ok)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid policy id \"%s\"", policy_id),
					 errdetail("A policy id is 1 to 128 letters, digits and . _ : -, starting with a letter or digit.")));
	}

	arena = sp_arena_create_with(palloc, pfree);
	policy = sp_dsl_compile_load(VARDATA_ANY(src), VARSIZE_ANY_EXHDR(src), arena, &res);
	if (policy == NULL)
	{
		if (res == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory compiling the policy")));
		report_compile_errors(policy_id, res);
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* One creator at a time per policy, so versions are dense. */
	v[0] = CStringGetTextDatum(psprintf("%s\x1f%s", tenant, policy_id));
	rc = SPI_execute_with_args("SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended($1, 7))",
							   1, t, v, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "advisory lock failed");

	v[0] = CStringGetTextDatum(tenant);
	v[1] = CStringGetTextDatum(policy_id);
	v[2] = CStringGetTextDatum(sp_policy_name(policy));
	v[3] = PointerGetDatum(src);
	v[4] = CStringGetTextDatum(res->ir_json);
	v[5] = CStringGetTextDatum(res->digest);
	rc = SPI_execute_with_args(
							   "WITH nv AS ( "
							   "  INSERT INTO stellapolicy.policy_version (tenant, policy_id, version, name, source, ir, ir_canonical, digest, created_by) "
							   "  SELECT $1, $2, coalesce(max(version), 0) + 1, $3, $4, $5::jsonb, $5, $6, stellapolicy.acting_role() "
							   "  FROM stellapolicy.policy_version WHERE tenant = $1 AND policy_id = $2 "
							   "  RETURNING version) "
							   "INSERT INTO stellapolicy.policy_transition (tenant, policy_id, version, from_status, to_status, actor) "
							   "SELECT $1, $2, version, NULL, 'draft', stellapolicy.acting_role() FROM nv RETURNING version",
							   6, t, v, NULL, false, 0);
	if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "policy insert failed");
	version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	PG_RETURN_INT32(version);
}

/* ---------- policy_evaluate ---------- */

/* Unix epoch microseconds of a timestamptz. */
int64
sp_unix_micros(TimestampTz ts)
{
	return ts + SP_UNIX_EPOCH_OFFSET;
}

/*
 * A decimal number as thousandths, rounded half away from zero; false when
 * the text is not a plain decimal in range.
 */
bool
sp_decimal_thousandths(const char *s, int64 *out)
{
	bool		neg = false;
	int64		whole = 0;
	int64		frac = 0;
	int			fd = 0;
	bool		any = false;
	int			round_digit = -1;

	if (*s == '-' || *s == '+')
		neg = (*s++ == '-');
	for (; isdigit((unsigned char) *s); s++, any = true)
	{
		if (whole > (INT64CONST(1) << 40))
			return false;
		whole = whole * 10 + (*s - '0');
	}
	if (*s == '.')
	{
		for (s++; isdigit((unsigned char) *s); s++, any = true)
		{
			if (fd < 3)
				frac = frac * 10 + (*s - '0'), fd++;
			else if (round_digit < 0)
				round_digit = *s - '0';
		}
	}
	if (!any || *s != '\0')
		return false;
	while (fd < 3)
		frac *= 10, fd++;
	*out = whole * 1000 + frac + (round_digit >= 5 ? 1 : 0);
	if (neg)
		*out = -*out;
	return true;
}

Datum
stellapolicy_policy_evaluate(PG_FUNCTION_ARGS)
{
	const char *tenant = sp_current_tenant();
	char	   *policy_id;
	int32		version;
	char	   *sbom_id;
	char	   *purl_in;
	char	   *advisory_id;
	bool		explain = PG_ARGISNULL(6) ? false : PG_GETARG_BOOL(6);
	int64		eval_time;
	SpArena    *arena = sp_arena_create_with(palloc, pfree);
	SpPurl	   *p;
	char		err[256];
	char	   *purl;
	const SpPolicy *policy;
	SpTuple		tuple;
	SpVerdict	verdict;
	char	   *json;
	Datum		result;
	SpEvalInput input;
	MemoryContext callercxt = CurrentMemoryContext;

	for (int i = 0; i < 5; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("policy id, version, SBOM id, purl and advisory id must not be null")));
	policy_id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	version = PG_GETARG_INT32(1);
	sbom_id = text_to_cstring(PG_GETARG_TEXT_PP(2));
	purl_in = text_to_cstring(PG_GETARG_TEXT_PP(3));
	advisory_id = text_to_cstring(PG_GETARG_TEXT_PP(4));
	eval_time = sp_unix_micros(PG_ARGISNULL(7) ? GetCurrentTransactionStartTimestamp()
							   : PG_GETARG_TIMESTAMPTZ(7));

	if (sp_purl_parse(purl_in, arena, &p, err, sizeof(err)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid purl \"%s\": %s", purl_in, err)));
	purl = sp_purl_canonical(p, arena);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* The policy version, loaded through the cache. */
	{
		Oid			t[3] = {TEXTOID, TEXTOID, INT4OID};
		Datum		v[3];
		int			rc;
		char	   *digest;
		char	   *ir;

		v[0] = CStringGetTextDatum(tenant);
		v[1] = CStringGetTextDatum(policy_id);
		v[2] = Int32GetDatum(version);
		rc = SPI_execute_with_args("SELECT digest, ir_canonical FROM stellapolicy.policy_version "
								   "WHERE tenant = $1 AND policy_id = $2 AND version = $3",
								   3, t, v, NULL, true, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "policy lookup failed");
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_NO_DATA_FOUND),
					 errmsg("policy \"%s\" version %d does not exist", policy_id, version)));
		digest = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		ir = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		policy = sp_policy_cached(digest, ir, strlen(ir));
	}

	/* The tuple, from the tables. */
	memset(&input, 0, sizeof(input));
	input.tenant = tenant;
	input.sbom_id = sbom_id;
	input.purl = purl;
	input.advisory_id = advisory_id;
	input.env = PG_ARGISNULL(5) ? (Datum) 0 : PG_GETARG_DATUM(5);
	input.env_null = PG_ARGISNULL(5);
	input.eval_time = eval_time;
	sp_build_tuple(&input, &tuple, arena);

	if (explain)
		json = sp_dsl_explain(policy, &tuple,
							  psprintf("%s|%s|%s", sbom_id, purl, tuple.advisory_id), arena);
	else
	{
		if (sp_dsl_evaluate(policy, &tuple, &verdict, arena) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory evaluating the policy")));
		json = sp_verdict_json(&verdict, arena);
	}

	/*
	 * Build the result in the caller's context: the arena's later blocks
	 * and everything SPI returned go away with SPI_finish (which is also
	 * why the arena is left to the memory context rather than destroyed).
	 */
	{
		MemoryContext old = MemoryContextSwitchTo(callercxt);

		result = DirectFunctionCall1(jsonb_in, CStringGetDatum(json));
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(stellapolicy_cvss_score);

/*
 * SQL: stellapolicy.cvss_score(vector text) RETURNS numeric
 *
 * The base score of a CVSS v2, v3.0, v3.1 or v4.0 vector (one decimal), as
 * the evaluator computes it.
 */
Datum
stellapolicy_cvss_score(PG_FUNCTION_ARGS)
{
	char	   *vector = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int32		score;
	char		err[256];

	if (sp_cvss_base_score(vector, &score, err, sizeof(err)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid CVSS vector \"%s\": %s", vector, err)));
	PG_RETURN_NUMERIC(int64_div_fast_to_numeric(score / 100, 1));
}
