/*-------------------------------------------------------------------------
 *
 * simulate.c
 *	  stella_policy_simulate: evaluate a candidate policy version against a
 *	  base version over some SBOMs, write nothing, and describe the
 *	  difference.
 *
 * Both versions go through the run engine with the same inputs (SBOM
 * revisions, cursors taken now, env, the transaction's time), so the diff
 * is exactly the difference between two real runs on those inputs.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "pgutil.h"
#include "policy.h"
#include "run.h"
#include "stellapolicy.h"

PG_FUNCTION_INFO_V1(stellapolicy_simulate);

/* Examples listed in a simulation's diff. */
#define SIMULATE_EXAMPLES 25

typedef struct Version
{
	int			version;
	char	   *digest;
	char	   *ir;
	char	   *status;
} Version;

/* A version of the policy: the given one, or the newest draft / the active one. */
static bool
load_version(const char *tenant, const char *policy_id, int version, bool given,
			 const char *which, Version *out)
{
	Oid			t[3] = {TEXTOID, TEXTOID, INT4OID};
	Datum		v[3];
	int			rc;

	v[0] = CStringGetTextDatum(tenant);
	v[1] = CStringGetTextDatum(policy_id);
	v[2] = Int32GetDatum(version);
	rc = SPI_execute_with_args(given
							   ? "SELECT version, digest, ir_canonical, status FROM stellapolicy.policy_version "
							   "WHERE tenant = $1 AND policy_id = $2 AND version = $3"
							   : strcmp(which, "draft") == 0
							   ? "SELECT version, digest, ir_canonical, status FROM stellapolicy.policy_version "
							   "WHERE tenant = $1 AND policy_id = $2 AND status = 'draft' AND $3 IS NOT NULL "
							   "ORDER BY version DESC LIMIT 1"
							   : "SELECT version, digest, ir_canonical, status FROM stellapolicy.policy_version "
							   "WHERE tenant = $1 AND policy_id = $2 AND status = 'active' AND $3 IS NOT NULL",
							   3, t, v, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "policy lookup failed");
	if (SPI_processed == 0)
	{
		if (given)
			ereport(ERROR,
					(errcode(ERRCODE_NO_DATA_FOUND),
					 errmsg("policy \"%s\" version %d does not exist", policy_id, version)));
		return false;
	}
	{
		bool		isnull;
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	td = SPI_tuptable->tupdesc;

		out->version = DatumGetInt32(SPI_getbinval(tup, td, 1, &isnull));
		out->digest = pstrdup(SPI_getvalue(tup, td, 2));
		out->ir = pstrdup(SPI_getvalue(tup, td, 3));
		out->status = pstrdup(SPI_getvalue(tup, td, 4));
	}
	return true;
}

static const char *status_names[] = {"affected", "not_affected", "fixed", "under_investigation",
"blocked", "warned", "ignored", NULL};

/* {"counts by status":..,"counts by band":..,"ruleHits":..,"hash":..} */
static void
side_json(StringInfo buf, const Version *ver, const RunOutput *out)
{
	int			bands[5] = {0};
	const SpPolicy *p = sp_policy_cached(ver->digest, ver->ir, strlen(ver->ir));
	int			other = 0;

	for (int i = 0; i < out->nfindings; i++)
		bands[out->findings[i].band]++;
	appendStringInfo(buf, "{\"version\": %d, \"status\": ", ver->version);
	escape_json(buf, ver->status);
	appendStringInfo(buf, ", \"digest\": \"%s\", \"hash\": \"%s\", \"findings\": %d, \"countsByBand\": {",
					 ver->digest, out->hash, out->nfindings);
	for (int b = 0; b < 5; b++)
		appendStringInfo(buf, "%s\"%s\": %d", b ? ", " : "", sp_band_name((SpBand) b), bands[b]);
	appendStringInfoString(buf, "}, \"countsByStatus\": {");
	for (int s = 0; status_names[s]; s++)
	{
		int			c = 0;

		for (int i = 0; i < out->nfindings; i++)
			if (strcmp(out->findings[i].status, status_names[s]) == 0)
				c++;
		appendStringInfo(buf, "%s\"%s\": %d", s ? ", " : "", status_names[s], c);
	}
	for (int i = 0; i < out->nfindings; i++)
	{
		bool		known = false;

		for (int s = 0; status_names[s] && !known; s++)
			known = strcmp(out->findings[i].status, status_names[s]) == 0;
		if (!known)
			other++;
	}
	appendStringInfo(buf, ", \"other\": %d}, \"ruleHits\": {", other);
	for (int r = 0; r < out->nrules; r++)
	{
		appendStringInfoString(buf, r ? ", " : "");
		escape_json(buf, sp_policy_rule_name(p, r));
		appendStringInfo(buf, ": %d", out->rule_hits[r]);
	}
	appendStringInfo(buf, "%s\"(default)\": %d}}", out->nrules ? ", " : "", out->rule_hits[out->nrules]);
}

static void
example(StringInfo buf, int *shown, const char *kind, const RunFinding *before,
		const RunFinding *after)
{
	const RunFinding *f = after ? after : before;

	if (*shown >= SIMULATE_EXAMPLES)
		return;
	appendStringInfoString(buf, *shown ? ", {\"kind\": " : "{\"kind\": ");
	escape_json(buf, kind);
	appendStringInfoString(buf, ", \"sbomId\": ");
	escape_json(buf, f->sbom_id);
	appendStringInfoString(buf, ", \"findingKey\": ");
	escape_json(buf, f->key);
	appendStringInfo(buf, ", \"before\": %s, \"after\": %s",
					 before ? before->verdict_json : "null", after ? after->verdict_json : "null");
	if (after && after->explain)
		appendStringInfo(buf, ", \"explain\": %s", after->explain);
	appendStringInfoChar(buf, '}');
	(*shown)++;
}

/*
 * SQL: stellapolicy.stella_policy_simulate(policy_id text, version integer,
 *		sbom_set text[], env jsonb, capture_explain boolean,
 *		base_version integer) RETURNS jsonb
 */
Datum
stellapolicy_simulate(PG_FUNCTION_ARGS)
{
	const char *tenant = sp_current_tenant();
	char	   *policy_id;
	bool		explain = PG_ARGISNULL(4) ? false : PG_GETARG_BOOL(4);
	Version		cand;
	Version		base;
	bool		have_base;
	RunInput	in;
	RunOutput	co;
	RunOutput	bo;
	StringInfoData res;
	StringInfoData examples;
	int			added = 0,
				removed = 0,
				changed = 0,
				same = 0,
				shown = 0;
	int			i = 0,
				j = 0;
	MemoryContext callercxt = CurrentMemoryContext;
	Datum		result;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("policy id must not be null")));
	policy_id = text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	if (!load_version(tenant, policy_id, PG_ARGISNULL(1) ? 0 : PG_GETARG_INT32(1),
					  !PG_ARGISNULL(1), "draft", &cand))
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("policy \"%s\" has no draft version to simulate", policy_id),
				 errhint("Name the version to simulate.")));
	have_base = load_version(tenant, policy_id, PG_ARGISNULL(5) ? 0 : PG_GETARG_INT32(5),
							 !PG_ARGISNULL(5), "active", &base);

	/* The same inputs for both sides. */
	memset(&in, 0, sizeof(in));
	in.tenant = tenant;
	in.policy_id = policy_id;
	in.run_id = "simulation";
	in.eval_time = sp_unix_micros(GetCurrentTransactionStartTimestamp());
	/* The env a real run would record, sealed key included. */
	in.env = sp_env_requested_jsonb(PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3));
	in.adv_cursor = sp_current_cursor(tenant, false);
	in.vex_cursor = sp_current_cursor(tenant, true);
	in.explain = explain;
	in.keep_verdicts = true;	/* the diff's examples show them */
	if (!PG_ARGISNULL(2))
		in.sbom_ids = sp_text_array_elems(PG_GETARG_DATUM(2), &in.nsboms);
	else
	{
		Oid			t[1] = {TEXTOID};
		Datum		v[1] = {CStringGetTextDatum(tenant)};

		if (SPI_execute_with_args("SELECT array_agg(sbom_id ORDER BY sbom_id COLLATE \"C\") "
								  "FROM stellapolicy.golden_sbom WHERE tenant = $1",
								  1, t, v, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "golden set lookup failed");
		{
			bool		isnull;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			if (isnull)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("no SBOMs to simulate over"),
						 errhint("Name them in sbom_set, or add a golden set with stellapolicy.golden_sbom_add().")));
			in.sbom_ids = sp_text_array_elems(d, &in.nsboms);
		}
	}

	in.version = cand.version;
	in.digest = cand.digest;
	in.ir = cand.ir;
	sp_run_evaluate(&in, &co);
	memset(&bo, 0, sizeof(bo));
	bo.rule_hits = palloc0(sizeof(int));
	if (have_base)
	{
		RunInput	bin = in;

		bin.version = base.version;
		bin.digest = base.digest;
		bin.ir = base.ir;
		bin.explain = false;
		sp_run_evaluate(&bin, &bo);
	}

	/* The difference, finding by finding. */
	initStringInfo(&examples);
	while (i < co.nfindings || j < bo.nfindings)
	{
		RunFinding *a = i < co.nfindings ? &co.findings[i] : NULL;
		RunFinding *b = j < bo.nfindings ? &bo.findings[j] : NULL;
		int			c = a == NULL ? 1 : b == NULL ? -1 :
			sp_finding_key_cmp(a->sbom_id, a->key, b->sbom_id, b->key);

		if (c < 0)
		{
			added++;
			example(&examples, &shown, "added", NULL, a);
			i++;
		}
		else if (c > 0)
		{
			removed++;
			example(&examples, &shown, "removed", b, NULL);
			j++;
		}
		else
		{
			if (strcmp(a->status, b->status) != 0 || a->band != b->band)
			{
				changed++;
				example(&examples, &shown, "changed", b, a);
			}
			else
				same++;
			i++;
			j++;
		}
	}

	initStringInfo(&res);
	appendStringInfoString(&res, "{\"schemaVersion\": \"stellapolicy.simulation@1\", \"policyId\": ");
	escape_json(&res, policy_id);
	appendStringInfo(&res, ", \"inputs\": %s, \"candidate\": ", co.inputs_json);
	side_json(&res, &cand, &co);
	appendStringInfoString(&res, ", \"base\": ");
	if (have_base)
		side_json(&res, &base, &bo);
	else
		appendStringInfoString(&res, "null");
	appendStringInfo(&res, ", \"diff\": {\"added\": %d, \"removed\": %d, \"changed\": %d, "
					 "\"unchanged\": %d, \"examples\": [%s], \"examplesShown\": %d}}",
					 added, removed, changed, same, examples.data, shown);

	{
		MemoryContext old = MemoryContextSwitchTo(callercxt);

		result = DirectFunctionCall1(jsonb_in, CStringGetDatum(res.data));
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	PG_RETURN_DATUM(result);
}
