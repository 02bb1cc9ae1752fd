/*-------------------------------------------------------------------------
 *
 * progress.c
 *	  Progress of running runs, for pg_stat_progress_policy_run.
 *
 * The counters use PostgreSQL's progress reporting: they live in the
 * st_progress_param array of the backend's PgBackendStatus entry, written
 * with its change-count protocol, so other sessions see them rise without
 * a commit, as with pg_stat_progress_vacuum.  PostgreSQL 15 has no
 * progress command type for an extension, so a run registers with
 * PROGRESS_COMMAND_INVALID, its target the OID of policy_runs and a magic
 * number in the first parameter (no core pg_stat_progress_* view shows
 * such an entry).  The run's id, tenant, policy and mode, which are text,
 * are kept in a shared-memory slot of the backend (needs the library in
 * shared_preload_libraries), protected by a spinlock.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/backendid.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/acl.h"
#include "utils/backend_progress.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "progress.h"
#include "stellapolicy.h"

#define SP_PROGRESS_MAGIC INT64CONST(0x5354454c4c41)	/* "STELLA" */

typedef struct SpProgressSlot
{
	int			pid;			/* 0: no run */
	TimestampTz started;
	char		run_id[400];
	char		tenant[200];
	char		policy_id[200];
	char		mode[16];
} SpProgressSlot;

typedef struct SpProgressShared
{
	slock_t		mutex;
	int			nslots;
	SpProgressSlot slots[FLEXIBLE_ARRAY_MEMBER];
} SpProgressShared;

static SpProgressShared *progress = NULL;
static bool reporting = false;

static const char *const phase_names[] = {
	"initializing", "reading inputs", "scanning components", "evaluating",
	"hashing", "merging", "writing findings", "writing explain traces",
	"recording"
};

PG_FUNCTION_INFO_V1(stellapolicy_run_progress);

Size
sp_progress_shmem_size(void)
{
	return add_size(offsetof(SpProgressShared, slots),
					mul_size(sizeof(SpProgressSlot), MaxBackends));
}

void
sp_progress_shmem_init(void)
{
	bool		found;

	progress = ShmemInitStruct("stellapolicy progress", sp_progress_shmem_size(), &found);
	if (!found)
	{
		memset(progress, 0, sp_progress_shmem_size());
		SpinLockInit(&progress->mutex);
		progress->nslots = MaxBackends;
	}
}

/* Start reporting the progress of a run in this backend. */
void
sp_progress_start(const char *run_id, const char *tenant, const char *policy_id,
				  const char *mode)
{
	Oid			runs = get_relname_relid("policy_runs",
										 get_namespace_oid("stellapolicy", false));

	pgstat_progress_start_command(PROGRESS_COMMAND_INVALID, runs);
	pgstat_progress_update_param(SP_PROGRESS_MAGIC_PARAM, SP_PROGRESS_MAGIC);
	pgstat_progress_update_param(SP_PROGRESS_PHASE, SP_PHASE_INITIALIZING);
	reporting = true;

	if (progress != NULL && MyBackendId > 0 && MyBackendId <= progress->nslots)
	{
		SpProgressSlot *s = &progress->slots[MyBackendId - 1];

		SpinLockAcquire(&progress->mutex);
		s->pid = MyProcPid;
		s->started = GetCurrentTimestamp();
		strlcpy(s->run_id, run_id, sizeof(s->run_id));
		strlcpy(s->tenant, tenant, sizeof(s->tenant));
		strlcpy(s->policy_id, policy_id, sizeof(s->policy_id));
		strlcpy(s->mode, mode, sizeof(s->mode));
		SpinLockRelease(&progress->mutex);
	}
}

void
sp_progress_set(int param, int64 value)
{
	if (reporting)
		pgstat_progress_update_param(param, value);
}

void
sp_progress_end(void)
{
	if (!reporting)
		return;
	reporting = false;
	pgstat_progress_end_command();
	if (progress != NULL && MyBackendId > 0 && MyBackendId <= progress->nslots)
	{
		SpinLockAcquire(&progress->mutex);
		progress->slots[MyBackendId - 1].pid = 0;
		SpinLockRelease(&progress->mutex);
	}
}

/*
 * SQL: stellapolicy.run_progress() RETURNS SETOF record
 *
 * One row per run in progress: of the current tenant, or of every tenant
 * for members of pg_read_all_stats.
 */
Datum
stellapolicy_run_progress(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			runs = get_relname_relid("policy_runs",
										 get_namespace_oid("stellapolicy", false));
	bool		all = has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS);
	const char *tenant = all ? NULL : sp_current_tenant();
	int			n;

	InitMaterializedSRF(fcinfo, 0);

	/* Fresh figures at every call, also within one transaction. */
	pgstat_clear_backend_activity_snapshot();
	n = pgstat_fetch_stat_numbackends();
	for (int i = 1; i <= n; i++)
	{
		LocalPgBackendStatus *local = pgstat_fetch_stat_local_beentry(i);
		PgBackendStatus *be;
		SpProgressSlot slot;
		Datum		values[13];
		bool		nulls[13];
		int64		phase;

		if (local == NULL)
			continue;
		be = &local->backendStatus;
		if (be->st_procpid <= 0 || be->st_progress_command != PROGRESS_COMMAND_INVALID ||
			be->st_progress_command_target != runs ||
			be->st_progress_param[SP_PROGRESS_MAGIC_PARAM] != SP_PROGRESS_MAGIC)
			continue;

		/* The run's names, from the slot of the same backend. */
		memset(&slot, 0, sizeof(slot));
		if (progress != NULL)
		{
			SpinLockAcquire(&progress->mutex);
			for (int k = 0; k < progress->nslots; k++)
				if (progress->slots[k].pid == be->st_procpid)
				{
					slot = progress->slots[k];
					break;
				}
			SpinLockRelease(&progress->mutex);
		}
		if (slot.pid == 0)
			continue;
		if (tenant != NULL && strcmp(slot.tenant, tenant) != 0)
			continue;

		memset(nulls, false, sizeof(nulls));
		phase = be->st_progress_param[SP_PROGRESS_PHASE];
		values[0] = Int32GetDatum(be->st_procpid);
		values[1] = CStringGetTextDatum(slot.run_id);
		values[2] = CStringGetTextDatum(slot.tenant);
		values[3] = CStringGetTextDatum(slot.policy_id);
		values[4] = CStringGetTextDatum(slot.mode);
		if (phase >= 1 && phase <= (int64) lengthof(phase_names))
			values[5] = CStringGetTextDatum(phase_names[phase - 1]);
		else
			nulls[5] = true;
		values[6] = Int64GetDatum(be->st_progress_param[SP_PROGRESS_COMPONENTS_TOTAL]);
		values[7] = Int64GetDatum(be->st_progress_param[SP_PROGRESS_COMPONENTS_DONE]);
		values[8] = Int64GetDatum(be->st_progress_param[SP_PROGRESS_TUPLES_TOTAL]);
		values[9] = Int64GetDatum(be->st_progress_param[SP_PROGRESS_TUPLES_DONE]);
		values[10] = Int64GetDatum(be->st_progress_param[SP_PROGRESS_FINDINGS_TOTAL]);
		values[11] = Int64GetDatum(be->st_progress_param[SP_PROGRESS_FINDINGS_DONE]);
		values[12] = TimestampTzGetDatum(slot.started);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(stellapolicy_alert_settings);

/*
 * SQL: stellapolicy.alert_settings(OUT sla_full interval, OUT
 *		sla_incremental interval, OUT incremental_cycle interval, OUT
 *		nightly_deadline time)
 *
 * The settings the views compare with, read where the library is surely
 * loaded (current_setting() would not know them in a session that has not
 * loaded it yet).
 */
Datum
stellapolicy_alert_settings(PG_FUNCTION_ARGS)
{
	TupleDesc	td;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	const char *names[3] = {"stellapolicy.sla_full", "stellapolicy.sla_incremental",
	"stellapolicy.incremental_cycle"};

	if (get_call_result_type(fcinfo, NULL, &td) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "alert_settings must return a record");
	for (int i = 0; i < 3; i++)
	{
		Interval   *iv = palloc0(sizeof(Interval));
		const char *v = GetConfigOption(names[i], false, false);

		iv->time = (int64) pg_strtoint32(v) * USECS_PER_SEC;
		values[i] = IntervalPGetDatum(iv);
	}
	values[3] = DirectFunctionCall1(time_in, CStringGetDatum(GetConfigOption("stellapolicy.nightly_deadline", false, false)));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(td, values, nulls)));
}
