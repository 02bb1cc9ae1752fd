/*-------------------------------------------------------------------------
 *
 * run_sql.c
 *	  stella_policy_run and the run record.
 *
 * A run request is checked (mode, priority, env, SBOM set, an active policy
 * version, the determinism guard), given its id and recorded as queued.
 * With wait => true the calling backend executes it at once: the run goes
 * to running, the engine evaluates and writes inside a subtransaction, and
 * the run ends succeeded with its stats, cursors and hash, or failed with
 * its error, the subtransaction rolled back so findings stay as they were.
 * Without wait it stays queued for the background workers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "pgutil.h"
#include "policy.h"
#include "progress.h"
#include "run.h"
#include "stellapolicy.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(stellapolicy_run);

static int
exec(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
	 bool read_only)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls, read_only, 0);

	if (rc < 0)
		elog(ERROR, "run bookkeeping failed: %s", SPI_result_code_string(rc));
	return rc;
}

/* run:<policy>:<UTC ISO-8601>:<4 hex> */
static char *
new_run_id(const char *policy_id)
{
	uint16		r;

	if (!pg_strong_random(&r, sizeof(r)))
		r = (uint16) pg_prng_uint32(&pg_global_prng_state);
	return psprintf("run:%s:%s:%04x", policy_id,
					sp_iso_micros(sp_unix_micros(GetCurrentTimestamp())), r);
}

/* Refuse runs of a policy whose determinism guard is set (ERR_POL_004). */
void
sp_check_guard(const char *tenant, const char *policy_id)
{
	Oid			t[2] = {TEXTOID, TEXTOID};
	Datum		v[2] = {CStringGetTextDatum(tenant), CStringGetTextDatum(policy_id)};

	exec("SELECT run_id, recorded_hash, replayed_hash FROM stellapolicy.policy_guard "
		 "WHERE tenant = $1 AND policy_id = $2 AND cleared_at IS NULL", 2, t, v, NULL, true);
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_SP_DETERMINISM_GUARD),
				 errmsg("ERR_POL_004: runs of policy \"%s\" are stopped by the determinism guard", policy_id),
				 errdetail("The replay of run %s gave hash %s, not the recorded %s.",
						   SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
						   SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3),
						   SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2)),
				 errhint("Investigate, then clear it with stellapolicy.stella_policy_guard_clear(policy_id, reason).")));
}

/* The stats object of a run record (camelCase, as the status DTO shows it). */
static char *
stats_json(const RunOutput *out, int64 tuples)
{
	return psprintf("{\"components\": " INT64_FORMAT ", \"tuples\": " INT64_FORMAT
					", \"rulesFired\": " INT64_FORMAT ", \"findingsWritten\": " INT64_FORMAT
					", \"findingsChanged\": " INT64_FORMAT ", \"findingsRemoved\": " INT64_FORMAT
					", \"vexOverrides\": " INT64_FORMAT "}",
					out->components, tuples, out->rules_fired, out->written,
					out->changed, out->removed, out->vex_overrides);
}

/*
 * Would another attempt at the run likely succeed?  Serialization failures
 * and deadlocks, lock timeouts, resource shortages, I/O and connection
 * errors; never an error in the policy or the inputs.
 */
static bool
transient_error(int code)
{
	int			cat = ERRCODE_TO_CATEGORY(code);

	return cat == ERRCODE_TO_CATEGORY(ERRCODE_TRANSACTION_ROLLBACK) ||
		cat == ERRCODE_TO_CATEGORY(ERRCODE_INSUFFICIENT_RESOURCES) ||
		cat == ERRCODE_TO_CATEGORY(ERRCODE_SYSTEM_ERROR) ||
		cat == ERRCODE_TO_CATEGORY(ERRCODE_CONNECTION_EXCEPTION) ||
		code == ERRCODE_LOCK_NOT_AVAILABLE;
}

/* A JSON array of C strings. */
static void
json_text_array(StringInfo buf, char **v, int n)
{
	appendStringInfoChar(buf, '[');
	for (int i = 0; i < n; i++)
	{
		if (i)
			appendStringInfoString(buf, ", ");
		escape_json(buf, v[i]);
	}
	appendStringInfoChar(buf, ']');
}

/*
 * The input lock of a tenant.  Change numbers are taken when a row is
 * inserted, but transactions commit in any order: a cursor read while an
 * ingest is still open could lie above that ingest's change numbers, and a
 * replay, which reads as of the cursor later, would see rows the run did
 * not.  So every insert into the inputs that cursors count (advisory
 * revisions and tags, VEX statements and resolutions) first takes this lock
 * in share mode until its transaction ends (input_write_lock() in SQL),
 * before its rows get their numbers.  The key is the two-int4 advisory key
 * (SP_INPUT_LOCK_KEY, hashtext(tenant)), as pg_locks shows it.
 */
static void
input_lock_tag(LOCKTAG *tag, const char *tenant)
{
	int32		h = DatumGetInt32(DirectFunctionCall1Coll(hashtext, C_COLLATION_OID,
														  CStringGetTextDatum(tenant)));

	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, (uint32) SP_INPUT_LOCK_KEY, (uint32) h, 2);
}

/*
 * A run's cursors, and the snapshot it reads with.  The cursors come from
 * one snapshot; every change number at or below them was taken by a
 * transaction that had committed by then, or that still held its tenant's
 * input lock: the run waits for those to end (as CREATE INDEX CONCURRENTLY
 * waits for lockers, never queuing a lock of its own, so ingests that start
 * meanwhile go on), then pushes a fresh snapshot that sees what they
 * committed.  Later ingests get higher numbers, which the cursors leave out.
 * Returns the pg_current_snapshot() text of the first snapshot, in cxt: the
 * incremental cursor, which may under-state what the run read (the next
 * incremental run then evaluates some of it again), never over-state it.
 */
static char *
take_cursors(RunInput *in, MemoryContext cxt)
{
	LOCKTAG		tag;
	char	   *snapshot;

	PushActiveSnapshot(GetTransactionSnapshot());
	in->adv_cursor = sp_current_cursor(in->tenant, false);
	in->vex_cursor = sp_current_cursor(in->tenant, true);
	exec("SELECT pg_catalog.pg_current_snapshot()::text", 0, NULL, NULL, NULL, true);
	snapshot = MemoryContextStrdup(cxt, SPI_getvalue(SPI_tuptable->vals[0],
													 SPI_tuptable->tupdesc, 1));
	PopActiveSnapshot();

	/*
	 * Each holder in turn, with a heartbeat after each wait: several long
	 * ingests in a row are not a stuck worker.
	 */
	input_lock_tag(&tag, in->tenant);
	for (VirtualTransactionId *h = GetLockConflicts(&tag, ExclusiveLock, NULL);
		 VirtualTransactionIdIsValid(*h); h++)
	{
		(void) VirtualXactLock(*h, true);
		sp_run_checkpoint();
	}

	PushActiveSnapshot(GetTransactionSnapshot());
	return snapshot;
}

/*
 * An incremental run's scope: the changes its snapshot sees that the
 * policy's previous run did not (incremental_scope() in SQL).  Sets the
 * scope and SBOM set of in, and returns the "scope" object of the record,
 * or "null" when the policy has no previous run and the whole tenant is
 * evaluated.
 */
static char *
incremental_scope(RunInput *in, const char *snapshot)
{
	Oid			t[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		v[3];
	HeapTuple	tup;
	TupleDesc	td;
	bool		isnull;
	char	   *previous;
	int64		changes;
	StringInfoData buf;

	v[0] = CStringGetTextDatum(in->tenant);
	v[1] = CStringGetTextDatum(in->policy_id);
	v[2] = CStringGetTextDatum(snapshot);
	exec("SELECT previous, changes, sboms, advisories, scan_sboms, all_sboms "
		 "FROM stellapolicy.incremental_scope($1, $2, $3)", 3, t, v, NULL, true);
	tup = SPI_tuptable->vals[0];
	td = SPI_tuptable->tupdesc;
	previous = SPI_getvalue(tup, td, 1);
	if (previous == NULL)
		return "null";

	changes = DatumGetInt64(SPI_getbinval(tup, td, 2, &isnull));
	in->scoped = true;
	in->scope_sboms = sp_text_array_elems(SPI_getbinval(tup, td, 3, &isnull), &in->n_scope_sboms);
	in->scope_advs = sp_text_array_elems(SPI_getbinval(tup, td, 4, &isnull), &in->n_scope_advs);
	if (DatumGetBool(SPI_getbinval(tup, td, 6, &isnull)))
		in->all_sboms = true;
	else
	{
		in->all_sboms = false;
		in->sbom_ids = sp_text_array_elems(SPI_getbinval(tup, td, 5, &isnull), &in->nsboms);
		in->sbom_revisions = NULL;
	}

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"previousSnapshot\": ");
	escape_json(&buf, previous);
	appendStringInfo(&buf, ", \"changes\": " INT64_FORMAT ", \"sboms\": ", changes);
	json_text_array(&buf, in->scope_sboms, in->n_scope_sboms);
	appendStringInfoString(&buf, ", \"advisories\": ");
	json_text_array(&buf, in->scope_advs, in->n_scope_advs);
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/*
 * Execute a recorded run now (inside SPI) and record how it ended.  A
 * call from a session (wait => true) moves a queued run to running; a
 * worker's run was leased (leased = true) and is already running under
 * its pid.  The engine runs in a subtransaction, so on failure its writes
 * are rolled back and the error is recorded: a worker's run that failed
 * for a transient reason goes back to the queue with backoff while it has
 * attempts left, a canceled one ends canceled.  Returns true on success.
 *
 * Runs of one policy are serialised by an advisory lock, taken before the
 * run's snapshot, so each run sees everything its predecessor wrote and
 * the snapshot it records (the cursor of incremental runs) is exact.
 */
static bool
execute_run(const char *run_id, bool leased)
{
	Oid			t[10];
	Datum		v[10];
	char		nl[10];
	RunInput	in;
	RunOutput	out;
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool ok = true;
	char	   *volatile errmsg_text = NULL;
	volatile int errcode_value = 0;
	char	   *volatile snapshot = NULL;
	char	   *volatile scope_json = "null";
	HeapTuple	tup;
	TupleDesc	td;
	bool		isnull;
	Datum		sbom_set;
	bool		sbom_null;
	char	   *tenant;
	char	   *mode;
	int			attempts;
	instr_time	started;
	const char *status;

	memset(&in, 0, sizeof(in));
	INSTR_TIME_SET_CURRENT(started);
#define RUN_COLUMNS \
	"tenant, policy_id, policy_version, policy_digest, " \
	"  (SELECT ir_canonical FROM stellapolicy.policy_version pv WHERE pv.tenant = policy_runs.tenant " \
	"     AND pv.policy_id = policy_runs.policy_id AND pv.version = policy_runs.policy_version), " \
	"  ARRAY(SELECT jsonb_array_elements_text(CASE WHEN jsonb_typeof(inputs->'sbomSelection') = 'array' " \
	"        THEN inputs->'sbomSelection' ELSE '[]' END)), inputs->'env', " \
	"  (extract(epoch FROM evaluation_time) * 1000000)::bigint, capture_explain, " \
	"  jsonb_typeof(inputs->'sbomSelection') = 'array', mode, attempts, cancel_requested "
	t[0] = TEXTOID;
	v[0] = CStringGetTextDatum(run_id);
	t[1] = INT4OID;
	v[1] = Int32GetDatum(MyProcPid);
	if (leased)
		exec("SELECT " RUN_COLUMNS "FROM stellapolicy.policy_runs "
			 "WHERE run_id = $1 AND status = 'running' AND lease_owner = $2",
			 2, t, v, NULL, false);
	else
		exec("UPDATE stellapolicy.policy_runs SET status = 'running', started_at = clock_timestamp(), "
			 "  attempts = attempts + 1 WHERE run_id = $1 AND status IN ('queued', 'running') "
			 "RETURNING " RUN_COLUMNS, 1, t, v, NULL, false);
#undef RUN_COLUMNS
	if (SPI_processed != 1)
	{
		if (leased)
		{
			/* The lease was given back or the run canceled meanwhile. */
			ereport(LOG,
					(errmsg("stellapolicy run skipped run_id=%s reason=\"lease no longer held\"", run_id)));
			return false;
		}
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("run \"%s\" is not queued", run_id)));
	}
	tup = SPI_copytuple(SPI_tuptable->vals[0]);
	td = CreateTupleDescCopy(SPI_tuptable->tupdesc);
	tenant = SPI_getvalue(tup, td, 1);
	in.tenant = tenant;
	in.policy_id = SPI_getvalue(tup, td, 2);
	in.version = DatumGetInt32(SPI_getbinval(tup, td, 3, &isnull));
	in.digest = SPI_getvalue(tup, td, 4);
	in.ir = SPI_getvalue(tup, td, 5);
	in.run_id = run_id;
	sbom_set = SPI_getbinval(tup, td, 6, &sbom_null);
	in.env = SPI_getbinval(tup, td, 7, &isnull);
	if (isnull)
		in.env = (Datum) 0;
	in.eval_time = DatumGetInt64(SPI_getbinval(tup, td, 8, &isnull));
	in.explain = DatumGetBool(SPI_getbinval(tup, td, 9, &isnull));
	in.all_sboms = !DatumGetBool(SPI_getbinval(tup, td, 10, &isnull));
	if (!in.all_sboms)
		in.sbom_ids = sp_text_array_elems(sbom_set, &in.nsboms);
	mode = SPI_getvalue(tup, td, 11);
	attempts = DatumGetInt32(SPI_getbinval(tup, td, 12, &isnull));

	ereport(LOG,
			(errmsg("stellapolicy run started run_id=%s tenant=%s policy=%s version=%d mode=%s attempt=%d",
					run_id, tenant, in.policy_id, in.version, mode, attempts)));
	sp_progress_start(run_id, tenant, in.policy_id, mode);

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		Oid			lt[2] = {TEXTOID, TEXTOID};
		Datum		lv[2] = {CStringGetTextDatum(tenant), CStringGetTextDatum(in.policy_id)};

		if (leased && DatumGetBool(SPI_getbinval(tup, td, 13, &isnull)))
		{
			sp_run_checkpoint();
			ereport(ERROR,
					(errcode(ERRCODE_QUERY_CANCELED),
					 errmsg("run \"%s\" was canceled", run_id)));
		}

		/* One run of a policy at a time; then a snapshot that sees the last one. */
		exec("SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended($1 || chr(31) || $2, 17))",
			 2, lt, lv, NULL, false);
		sp_run_checkpoint();	/* a lock wait is not a stuck worker */

		/*
		 * The cursors and the snapshot, with the tenant's ingests that were
		 * open at the cursors waited for: every change number at or below a
		 * cursor is then committed, and seen.
		 */
		snapshot = take_cursors(&in, oldcxt);

		/* A guard set after the run was queued stops it too. */
		sp_check_guard(tenant, in.policy_id);

		/*
		 * A run evaluates the version active when it starts: one activated
		 * while the run waited in the queue replaces the version recorded
		 * then, so that a late run never writes an archived version's
		 * verdicts over the new one's.
		 */
		exec("SELECT version, digest, ir_canonical FROM stellapolicy.policy_version "
			 "WHERE tenant = $1 AND policy_id = $2 AND status = 'active'",
			 2, lt, lv, NULL, true);
		if (SPI_processed != 1)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("policy \"%s\" has no active version", in.policy_id),
					 errdetail("The run was queued for version %d, which is no longer active.",
							   in.version)));
		{
			bool		vnull;
			int			active = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
															 SPI_tuptable->tupdesc, 1, &vnull));

			if (active != in.version)
			{
				ereport(LOG,
						(errmsg("stellapolicy run version run_id=%s queued=%d active=%d",
								run_id, in.version, active)));
				in.version = active;
				in.digest = MemoryContextStrdup(oldcxt, SPI_getvalue(SPI_tuptable->vals[0],
																	 SPI_tuptable->tupdesc, 2));
				in.ir = MemoryContextStrdup(oldcxt, SPI_getvalue(SPI_tuptable->vals[0],
																 SPI_tuptable->tupdesc, 3));
			}
		}
		if (strcmp(mode, "incremental") == 0)
		{
			char	   *sj = incremental_scope(&in, snapshot);

			scope_json = MemoryContextStrdup(oldcxt, sj);
		}

		sp_run_evaluate(&in, &out);
		sp_run_write(&in, &out, run_id);
		PopActiveSnapshot();

		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		errcode_value = edata->sqlerrcode;
		errmsg_text = edata->sqlerrcode != 0
			? psprintf("%s: %s", unpack_sql_state(edata->sqlerrcode), edata->message)
			: pstrdup(edata->message);
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();

	/* The record: stats, cursors, hash, or the error. */
	sp_progress_set(SP_PROGRESS_PHASE, SP_PHASE_RECORDING);
	t[0] = TEXTOID;
	v[0] = CStringGetTextDatum(run_id);
	if (ok)
	{
		StringInfoData extra;

		initStringInfo(&extra);
		appendStringInfoString(&extra, "{\"changeSnapshot\": ");
		escape_json(&extra, snapshot);
		if (strcmp(mode, "incremental") == 0)
			appendStringInfo(&extra, ", \"scope\": %s", scope_json);
		appendStringInfoChar(&extra, '}');

		t[1] = TEXTOID;
		v[1] = CStringGetTextDatum(stats_json(&out, out.nfindings));
		t[2] = TEXTOID;
		v[2] = CStringGetTextDatum(out.hash);
		t[3] = INT8OID;
		v[3] = Int64GetDatum(in.adv_cursor);
		t[4] = INT8OID;
		v[4] = Int64GetDatum(in.vex_cursor);
		t[5] = TEXTOID;
		v[5] = CStringGetTextDatum(out.inputs_json);
		t[6] = TEXTOID;
		v[6] = CStringGetTextDatum(extra.data);
		t[7] = INT4OID;
		v[7] = Int32GetDatum(in.version);
		t[8] = TEXTOID;
		v[8] = CStringGetTextDatum(in.digest);
		exec("UPDATE stellapolicy.policy_runs SET status = 'succeeded', finished_at = clock_timestamp(), "
			 "  stats = $2::jsonb, determinism_hash = $3, advisory_cursor = $4, vex_cursor = $5, "
			 "  inputs = inputs || $6::jsonb || $7::jsonb, error = NULL, "
			 "  policy_version = $8, policy_digest = $9, "
			 "  lease_owner = NULL, lease_expires = NULL WHERE run_id = $1",
			 9, t, v, NULL, false);
		status = "succeeded";
	}
	else
	{
		bool		canceled = leased && (sp_run_was_canceled() ||
										  errcode_value == ERRCODE_QUERY_CANCELED);
		bool		retry;

		/* A cancel that came while the run waited (say, on a lock) wins. */
		if (leased && !canceled)
		{
			exec("SELECT cancel_requested FROM stellapolicy.policy_runs WHERE run_id = $1",
				 1, t, v, NULL, false);
			canceled = SPI_processed == 1 &&
				strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), "t") == 0;
		}
		retry = leased && !canceled && transient_error(errcode_value) &&
			attempts < sp_max_attempts;

		t[1] = TEXTOID;
		v[1] = CStringGetTextDatum(errmsg_text);
		t[2] = FLOAT8OID;
		/* Backoff: retry_backoff, doubled at each further attempt. */
		v[2] = Float8GetDatum(sp_retry_backoff_ms / 1000.0 * pow(2.0, Max(attempts - 1, 0)));
		memset(nl, ' ', sizeof(nl));
		if (canceled)
		{
			exec("UPDATE stellapolicy.policy_runs SET status = 'canceled', finished_at = clock_timestamp(), "
				 "  error = $2, lease_owner = NULL, lease_expires = NULL WHERE run_id = $1",
				 2, t, v, nl, false);
			status = "canceled";
		}
		else if (retry)
		{
			exec("UPDATE stellapolicy.policy_runs SET status = 'queued', "
				 "  not_before = clock_timestamp() + make_interval(secs => least($3, 3600)), "
				 "  error = $2, lease_owner = NULL, lease_expires = NULL WHERE run_id = $1",
				 3, t, v, nl, false);
			status = "queued";
		}
		else
		{
			exec("UPDATE stellapolicy.policy_runs SET status = 'failed', finished_at = clock_timestamp(), "
				 "  error = $2, lease_owner = NULL, lease_expires = NULL WHERE run_id = $1",
				 2, t, v, nl, false);
			status = "failed";
			if (!leased)
				ereport(WARNING,
						(errmsg("run %s failed: %s", run_id, errmsg_text)));
		}
	}

	sp_progress_end();
	{
		instr_time	now;

		INSTR_TIME_SET_CURRENT(now);
		INSTR_TIME_SUBTRACT(now, started);
		ereport(LOG,
				(errmsg("stellapolicy run finished run_id=%s tenant=%s policy=%s mode=%s status=%s "
						"seconds=%.3f tuples=%d changed=" INT64_FORMAT " removed=" INT64_FORMAT " hash=%s%s%s%s",
						run_id, tenant, in.policy_id, mode, status, INSTR_TIME_GET_DOUBLE(now),
						ok ? out.nfindings : 0, ok ? out.changed : 0, ok ? out.removed : 0,
						ok ? out.hash : "-", ok ? "" : " error=\"", ok ? "" : errmsg_text,
						ok ? "" : "\"")));
	}
	return ok;
}

bool
sp_execute_run(const char *run_id)
{
	return execute_run(run_id, false);
}

bool
sp_execute_leased_run(const char *run_id)
{
	return execute_run(run_id, true);
}

/*
 * SQL: stellapolicy.stella_policy_run(policy_id, mode, sbom_set, env,
 *		priority, idempotency_key, capture_explain, wait, evaluation_time)
 *		RETURNS text
 */
Datum
stellapolicy_run(PG_FUNCTION_ARGS)
{
	const char *tenant = sp_current_tenant();
	char	   *policy_id;
	char	   *mode;
	char	   *priority;
	char	   *idem = NULL;
	bool		explain = PG_ARGISNULL(6) ? false : PG_GETARG_BOOL(6);
	bool		wait = PG_ARGISNULL(7) ? false : PG_GETARG_BOOL(7);
	TimestampTz eval_ts;
	Oid			t[12];
	Datum		v[12];
	char		n[12];
	char	   *run_id;
	MemoryContext callercxt = CurrentMemoryContext;
	int32		version;
	char	   *digest;
	StringInfoData inputs;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("policy id must not be null")));
	policy_id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	mode = PG_ARGISNULL(1) ? "full" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	priority = PG_ARGISNULL(4) ? "normal" : text_to_cstring(PG_GETARG_TEXT_PP(4));
	if (!PG_ARGISNULL(5))
		idem = text_to_cstring(PG_GETARG_TEXT_PP(5));
	eval_ts = PG_ARGISNULL(8) ? GetCurrentTransactionStartTimestamp() : PG_GETARG_TIMESTAMPTZ(8);
	if (TIMESTAMP_NOT_FINITE(eval_ts))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("evaluation time must be finite")));

	/*
	 * A run reads as of cursors it takes itself; a transaction snapshot
	 * taken earlier (REPEATABLE READ, SERIALIZABLE) could miss rows below
	 * them that a replay would see.
	 */
	if (wait && IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("a run with wait => true needs a READ COMMITTED transaction"),
				 errhint("Run it in a READ COMMITTED transaction, or queue it for the background workers (wait => false).")));

	if (strcmp(mode, "full") != 0 && strcmp(mode, "incremental") != 0)
	{
		if (strcmp(mode, "simulate") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("simulations are started with stellapolicy.stella_policy_simulate()")));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown run mode \"%s\"", mode),
				 errhint("The modes are full, incremental and simulate.")));
	}
	if (strcmp(priority, "emergency") != 0 && strcmp(priority, "high") != 0 &&
		strcmp(priority, "normal") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown priority \"%s\"", priority),
				 errhint("The priorities are emergency, high and normal.")));
	if (idem != NULL && (idem[0] == '\0' || strlen(idem) > 200))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an idempotency key must be 1 to 200 bytes long")));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* The same idempotency key returns the live run it named. */
	if (idem != NULL)
	{
		t[0] = TEXTOID;
		t[1] = TEXTOID;
		v[0] = CStringGetTextDatum(tenant);
		v[1] = CStringGetTextDatum(idem);
		exec("SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended($1 || chr(31) || $2, 13))",
			 2, t, v, NULL, false);
		/*
		 * With the newest snapshot, which sees a run just made by a racer
		 * that held the lock before us, also in a REPEATABLE READ or
		 * SERIALIZABLE transaction whose own snapshot is older.
		 */
		PushActiveSnapshot(GetLatestSnapshot());
		exec("SELECT run_id, policy_id, mode FROM stellapolicy.policy_runs WHERE tenant = $1 AND idempotency_key = $2 "
			 "AND status IN ('queued', 'running', 'replay_pending')", 2, t, v, NULL, true);
		PopActiveSnapshot();
		if (SPI_processed > 0)
		{
			char	   *existing = MemoryContextStrdup(callercxt,
													   SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
			char	   *other_policy = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
			char	   *other_mode = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);

			/* A key reused for another request must not stand for it. */
			if (strcmp(other_policy, policy_id) != 0 || strcmp(other_mode, mode) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("idempotency key \"%s\" names a live %s run of policy \"%s\"",
								idem, other_mode, other_policy),
						 errdetail("Run \"%s\" holds the key until it ends.", existing),
						 errhint("Use one key per request.")));
			SPI_finish();
			PG_RETURN_TEXT_P(cstring_to_text(existing));
		}
	}

	/* The active version, and no open guard. */
	t[0] = TEXTOID;
	t[1] = TEXTOID;
	v[0] = CStringGetTextDatum(tenant);
	v[1] = CStringGetTextDatum(policy_id);
	exec("SELECT version, digest FROM stellapolicy.policy_version "
		 "WHERE tenant = $1 AND policy_id = $2 AND status = 'active'", 2, t, v, NULL, true);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("policy \"%s\" has no active version", policy_id),
				 errhint("Submit, approve and activate a version first.")));
	{
		bool		isnull;

		version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		digest = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	}
	sp_check_guard(tenant, policy_id);

	/* Env must be an object of scalars; its keys are recorded lower-cased. */
	{
		SpEnvEntry *env = NULL;
		int			nenv = 0;

		sp_env_requested(PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3),
						 &env, &nenv);
		initStringInfo(&inputs);
		appendStringInfoString(&inputs, "{\"env\": ");
		sp_env_append_json(&inputs, env, nenv, false);
		appendStringInfo(&inputs, ", \"sealed\": %s, \"captureExplain\": %s, \"sbomSelection\": ",
						 sp_sealed ? "true" : "false", explain ? "true" : "false");
		if (PG_ARGISNULL(2))
			appendStringInfoString(&inputs, "null");
		else
		{
			int			ns;
			char	  **ids = sp_text_array_elems(PG_GETARG_DATUM(2), &ns);

			appendStringInfoChar(&inputs, '[');
			for (int i = 0; i < ns; i++)
			{
				if (i)
					appendStringInfoString(&inputs, ", ");
				escape_json(&inputs, ids[i]);
			}
			appendStringInfoChar(&inputs, ']');
		}
		appendStringInfoChar(&inputs, '}');
	}

	/* Record the run. */
	run_id = new_run_id(policy_id);
	memset(n, ' ', sizeof(n));
	t[0] = TEXTOID;
	v[0] = CStringGetTextDatum(run_id);
	t[1] = TEXTOID;
	v[1] = CStringGetTextDatum(tenant);
	t[2] = TEXTOID;
	v[2] = CStringGetTextDatum(policy_id);
	t[3] = INT4OID;
	v[3] = Int32GetDatum(version);
	t[4] = TEXTOID;
	v[4] = CStringGetTextDatum(digest);
	t[5] = TEXTOID;
	v[5] = CStringGetTextDatum(mode);
	t[6] = TEXTOID;
	v[6] = CStringGetTextDatum(priority);
	t[7] = TEXTOID;
	v[7] = idem ? CStringGetTextDatum(idem) : (Datum) 0;
	n[7] = idem ? ' ' : 'n';
	t[8] = BOOLOID;
	v[8] = BoolGetDatum(explain);
	t[9] = TEXTOID;
	v[9] = CStringGetTextDatum(inputs.data);
	t[10] = TIMESTAMPTZOID;
	v[10] = TimestampTzGetDatum(eval_ts);
	exec("INSERT INTO stellapolicy.policy_runs (run_id, tenant, policy_id, policy_version, policy_digest, "
		 "  mode, priority, idempotency_key, capture_explain, inputs, evaluation_time) "
		 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
		 "  $10::jsonb || jsonb_build_object('evaluationTime', "
		 "    to_char($11 AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')), $11)",
		 11, t, v, n, false);

	if (wait)
		sp_execute_run(run_id);
	else
	{
		/* The workers hear of it when this transaction commits. */
		sp_wake_at_commit();
		if (!sp_workers_available())
			ereport(WARNING,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("run \"%s\" is queued, but no background worker serves database \"%s\"",
							run_id, get_database_name(MyDatabaseId)),
					 errhint("Add stellapolicy to shared_preload_libraries, set stellapolicy.database_name to this database and stellapolicy.workers above 0; or pass wait => true.")));
	}

	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(run_id));
}

PG_FUNCTION_INFO_V1(stellapolicy_replay);

/*
 * Load a recorded run's inputs into a RunInput: the SBOM revisions it used,
 * its cursors, env and evaluation time.  Missing inputs are errors (in
 * sealed mode with a reminder that nothing can be fetched).
 */
static char *
load_recorded_run(const char *tenant, const char *run_id, RunInput *in)
{
	Oid			t[2] = {TEXTOID, TEXTOID};
	Datum		v[2];
	HeapTuple	tup;
	TupleDesc	td;
	bool		isnull;
	char	   *status;
	char	   *recorded;
	int			nrev;
	char	  **revs;
	char	  **digests;
	int			ndig;

	v[0] = CStringGetTextDatum(run_id);
	v[1] = CStringGetTextDatum(tenant);
	exec("SELECT r.policy_id, r.policy_version, r.policy_digest, pv.ir_canonical, r.status, "
		 "  r.determinism_hash, r.advisory_cursor, r.vex_cursor, r.inputs->'env', "
		 "  (extract(epoch FROM r.evaluation_time) * 1000000)::bigint, "
		 "  ARRAY(SELECT e->>'id' FROM jsonb_array_elements(r.inputs->'sbomSet') WITH ORDINALITY x(e, o) ORDER BY o), "
		 "  ARRAY(SELECT e->>'revision' FROM jsonb_array_elements(r.inputs->'sbomSet') WITH ORDINALITY x(e, o) ORDER BY o), "
		 "  ARRAY(SELECT e->>'digest' FROM jsonb_array_elements(r.inputs->'sbomSet') WITH ORDINALITY x(e, o) ORDER BY o), "
		 "  coalesce(jsonb_typeof(r.inputs->'scope') = 'object', false), "
		 "  ARRAY(SELECT jsonb_array_elements_text(r.inputs->'scope'->'sboms')), "
		 "  ARRAY(SELECT jsonb_array_elements_text(r.inputs->'scope'->'advisories')) "
		 "FROM stellapolicy.policy_runs r "
		 "LEFT JOIN stellapolicy.policy_version pv ON pv.tenant = r.tenant AND pv.policy_id = r.policy_id "
		 "  AND pv.version = r.policy_version "
		 "WHERE r.run_id = $1 AND r.tenant = $2", 2, t, v, NULL, true);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("run \"%s\" does not exist", run_id)));
	tup = SPI_copytuple(SPI_tuptable->vals[0]);
	td = CreateTupleDescCopy(SPI_tuptable->tupdesc);
	status = SPI_getvalue(tup, td, 5);
	recorded = SPI_getvalue(tup, td, 6);
	if (recorded == NULL || (strcmp(status, "succeeded") != 0 && strcmp(status, "replay_pending") != 0))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("run \"%s\" is %s; only a run that succeeded can be replayed", run_id, status)));

	memset(in, 0, sizeof(*in));
	in->tenant = tenant;
	in->run_id = run_id;
	in->policy_id = SPI_getvalue(tup, td, 1);
	in->version = DatumGetInt32(SPI_getbinval(tup, td, 2, &isnull));
	in->digest = SPI_getvalue(tup, td, 3);
	in->ir = SPI_getvalue(tup, td, 4);
	if (in->ir == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("policy \"%s\" version %d of run \"%s\" is not in the database",
						in->policy_id, in->version, run_id),
				 sp_sealed ? errhint("In sealed mode nothing is fetched: import the run's bundle first.") : 0));
	in->adv_cursor = DatumGetInt64(SPI_getbinval(tup, td, 7, &isnull));
	in->vex_cursor = DatumGetInt64(SPI_getbinval(tup, td, 8, &isnull));
	in->env = SPI_getbinval(tup, td, 9, &isnull);
	if (isnull)
		in->env = (Datum) 0;
	in->eval_time = DatumGetInt64(SPI_getbinval(tup, td, 10, &isnull));
	in->sbom_ids = sp_text_array_elems(SPI_getbinval(tup, td, 11, &isnull), &in->nsboms);
	revs = sp_text_array_elems(SPI_getbinval(tup, td, 12, &isnull), &nrev);
	digests = sp_text_array_elems(SPI_getbinval(tup, td, 13, &isnull), &ndig);
	/* An incremental run is replayed over its scope. */
	in->scoped = DatumGetBool(SPI_getbinval(tup, td, 14, &isnull));
	if (in->scoped)
	{
		in->scope_sboms = sp_text_array_elems(SPI_getbinval(tup, td, 15, &isnull), &in->n_scope_sboms);
		in->scope_advs = sp_text_array_elems(SPI_getbinval(tup, td, 16, &isnull), &in->n_scope_advs);
	}
	in->sbom_revisions = palloc(sizeof(int32) * Max(nrev, 1));
	for (int i = 0; i < nrev; i++)
		in->sbom_revisions[i] = pg_strtoint32(revs[i]);

	/* Every SBOM revision must still be there, with the same content. */
	for (int i = 0; i < in->nsboms; i++)
	{
		Oid			t3[3] = {TEXTOID, TEXTOID, INT4OID};
		Datum		v3[3];

		v3[0] = CStringGetTextDatum(tenant);
		v3[1] = CStringGetTextDatum(in->sbom_ids[i]);
		v3[2] = Int32GetDatum(in->sbom_revisions[i]);
		exec("SELECT content_digest FROM stellapolicy.sbom WHERE tenant = $1 AND sbom_id = $2 AND revision = $3",
			 3, t3, v3, NULL, true);
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_NO_DATA_FOUND),
					 errmsg("SBOM \"%s\" revision %d of run \"%s\" is not in the database",
							in->sbom_ids[i], in->sbom_revisions[i], run_id),
					 sp_sealed ? errhint("In sealed mode nothing is fetched: import the run's bundle first.") : 0));
		if (strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), digests[i]) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("SBOM \"%s\" revision %d of run \"%s\" has other content than the run read",
							in->sbom_ids[i], in->sbom_revisions[i], run_id),
					 errdetail("The run recorded digest %s; the database holds %s.", digests[i],
							   SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1))));
	}
	return recorded;
}

/*
 * SQL: stellapolicy.stella_policy_replay(run_id text) RETURNS jsonb
 *
 * Re-evaluates a run from its recorded inputs (the raw tables are
 * append-only, so revisions that arrived later are left out by the
 * cursors) and compares hashes.  A mismatch sets the determinism guard.
 */
Datum
stellapolicy_replay(PG_FUNCTION_ARGS)
{
	const char *tenant = sp_current_tenant();
	char	   *run_id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	RunInput	in;
	RunOutput	out;
	char	   *recorded;
	bool		match;
	StringInfoData res;
	MemoryContext callercxt = CurrentMemoryContext;
	Datum		result;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	recorded = load_recorded_run(tenant, run_id, &in);
	in.keep_verdicts = true;	/* a mismatch shows them */
	sp_run_evaluate(&in, &out);
	match = strcmp(recorded, out.hash) == 0;

	initStringInfo(&res);
	appendStringInfo(&res, "{\"runId\": ");
	escape_json(&res, run_id);
	appendStringInfo(&res, ", \"recordedHash\": \"%s\", \"replayedHash\": \"%s\", \"match\": %s, "
					 "\"findings\": %d, \"firstDifferences\": [",
					 recorded, out.hash, match ? "true" : "false", out.nfindings);

	if (!match)
	{
		Oid			t[5] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
		Datum		v[5];
		int			shown = 0;

		/*
		 * Name the first findings that differ from what is stored for the
		 * policy (the stored rows are this run's output while it is the
		 * policy's latest run): one ordered read of the stored findings of
		 * the run's SBOMs, merged with the replayed ones, both in byte
		 * order.  Stored findings outside an incremental run's scope are
		 * not its output and are passed over.
		 */
		SPITupleTable *tt;
		int			rows;
		int			i = 0;
		int			j = 0;

		v[0] = CStringGetTextDatum(tenant);
		v[1] = CStringGetTextDatum(in.policy_id);
		v[2] = sp_text_array(in.sbom_ids, in.nsboms);
		t[2] = TEXTARRAYOID;
		exec("SELECT sbom_id, finding_key, verdict_digest, advisory_id FROM stellapolicy.effective_finding "
			 "WHERE tenant = $1 AND policy_id = $2 AND sbom_id = ANY ($3) "
			 "ORDER BY sbom_id COLLATE \"C\", finding_key COLLATE \"C\"",
			 3, t, v, NULL, true);
		t[2] = TEXTOID;
		tt = SPI_tuptable;
		rows = (int) SPI_processed;
		while ((i < out.nfindings || j < rows) && shown < 10)
		{
			RunFinding *f = i < out.nfindings ? &out.findings[i] : NULL;
			char	   *ss = j < rows ? SPI_getvalue(tt->vals[j], tt->tupdesc, 1) : NULL;
			char	   *sk = j < rows ? SPI_getvalue(tt->vals[j], tt->tupdesc, 2) : NULL;
			char	   *sv = j < rows ? SPI_getvalue(tt->vals[j], tt->tupdesc, 3) : NULL;
			int			c;

			if (f == NULL)
				c = 1;
			else if (ss == NULL)
				c = -1;
			else
				c = sp_finding_key_cmp(f->sbom_id, f->key, ss, sk);

			if (c > 0 && in.scoped &&
				!sp_run_in_scope(&in, ss, SPI_getvalue(tt->vals[j], tt->tupdesc, 4)))
			{
				j++;
				continue;
			}
			if (c == 0 && strcmp(f->verdict_digest, sv) == 0)
			{
				i++;
				j++;
				continue;
			}

			/* A difference: replayed only (c < 0), stored only (c > 0), or both. */
			appendStringInfoString(&res, shown ? ", {\"sbomId\": " : "{\"sbomId\": ");
			escape_json(&res, c > 0 ? ss : f->sbom_id);
			appendStringInfoString(&res, ", \"findingKey\": ");
			escape_json(&res, c > 0 ? sk : f->key);
			appendStringInfo(&res, ", \"stored\": %s%s%s, \"replayed\": %s}",
							 c < 0 ? "" : "\"", c < 0 ? "null" : sv, c < 0 ? "" : "\"",
							 c > 0 ? "null" : f->verdict_json);
			shown++;
			if (c <= 0)
				i++;
			if (c >= 0)
				j++;
		}

		/* Stop further runs of the policy until an operator clears it. */
		v[0] = CStringGetTextDatum(tenant);
		v[1] = CStringGetTextDatum(in.policy_id);
		v[2] = CStringGetTextDatum(run_id);
		v[3] = CStringGetTextDatum(recorded);
		v[4] = CStringGetTextDatum(out.hash);
		exec("INSERT INTO stellapolicy.policy_guard (tenant, policy_id, run_id, recorded_hash, replayed_hash) "
			 "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING", 5, t, v, NULL, false);
		ereport(WARNING,
				(errcode(ERRCODE_SP_DETERMINISM_GUARD),
				 errmsg("ERR_POL_004: replay of run %s gave hash %s, not the recorded %s",
						run_id, out.hash, recorded),
				 errhint("Runs of policy \"%s\" are refused until stellapolicy.stella_policy_guard_clear() is called.",
						 in.policy_id)));
	}
	appendStringInfoString(&res, "]}");

	{
		MemoryContext old = MemoryContextSwitchTo(callercxt);

		result = DirectFunctionCall1(jsonb_in, CStringGetDatum(res.data));
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	PG_RETURN_DATUM(result);
}
