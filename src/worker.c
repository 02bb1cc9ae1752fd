/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  Background workers: a launcher and stellapolicy.workers run workers.
 *
 * The launcher connects to stellapolicy.database_name and keeps the run
 * workers alive.  Each time its latch is set (a change or a queued run
 * committed, a worker finished) or its timer fires, it does the queue's
 * housekeeping in one short transaction: renew the leases of workers that
 * are alive, give back the leases of workers that are gone, cancel runs
 * past their time to live, and enqueue incremental runs for changes that
 * have settled (stellapolicy.incremental_debounce).  Then it wakes the
 * workers.
 *
 * A worker leases one run in a short transaction (lease_run() in SQL:
 * round-robin over tenants, then policies, then priority with ageing),
 * then executes it in a second transaction, in which the engine's own
 * subtransaction rolls back the run's writes on any error, and records the
 * outcome: succeeded, queued again for a transient error (with exponential
 * backoff, up to stellapolicy.max_attempts attempts), failed, or canceled.
 * An ERROR in a run fails the run, never the worker (an ERROR while
 * leasing is logged and the worker carries on); a FATAL or a crash ends
 * the worker, and then the
 * lease is given back by the launcher (the worker's pid is no longer in
 * shared memory), or at start-up after a crash, when no worker is alive.
 *
 * Shared memory holds one slot per worker: its pid and latch, the run it
 * executes, a heartbeat renewed at every batch boundary, and a cancel flag
 * set by stella_policy_cancel().  A spinlock protects the slots.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "progress.h"
#include "run.h"
#include "worker.h"

#define SP_MAX_WORKERS 64
#define SP_RUN_ID_MAX 400

int			sp_workers = 2;
char	   *sp_database_name = NULL;
int			sp_lease_timeout_s = 60;
int			sp_max_attempts = 3;
int			sp_run_ttl_s = 4 * 3600;
int			sp_max_active_runs_per_tenant = 2;
int			sp_incremental_debounce_ms = 200;
int			sp_retry_backoff_ms = 5000;
int			sp_priority_ageing_s = 300;
int			sp_worker_lock_timeout_ms = 30000;
int			sp_sla_full_s = 30 * 60;
int			sp_sla_incremental_s = 5 * 60;
int			sp_incremental_cycle_s = 60;
char	   *sp_nightly_deadline = NULL;

typedef struct SpWorkerSlot
{
	pid_t		pid;			/* 0: free */
	int			pgprocno;
	TimestampTz heartbeat;		/* last batch boundary of the current run */
	TimestampTz deadline;		/* time to live of the current run, or 0 */
	bool		cancel;			/* stella_policy_cancel() asked */
	char		run_id[SP_RUN_ID_MAX];	/* "" when idle */
} SpWorkerSlot;

typedef struct SpShared
{
	slock_t		mutex;
	pid_t		launcher_pid;
	int			launcher_pgprocno;
	SpWorkerSlot slots[SP_MAX_WORKERS];
} SpShared;

static SpShared *sp_shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* This backend's slot when it is a run worker. */
static int	my_slot = -1;
static bool cancel_hit = false;

/* Wake-at-commit state of an ordinary backend. */
static bool wake_pending = false;
static bool xact_callback_registered = false;

PGDLLEXPORT void sp_launcher_main(Datum arg);
PGDLLEXPORT void sp_worker_main(Datum arg);

PG_FUNCTION_INFO_V1(stellapolicy_wake_at_commit);
PG_FUNCTION_INFO_V1(stellapolicy_worker_signal_cancel);
PG_FUNCTION_INFO_V1(stellapolicy_workers_available);

/* ---------- shared memory ---------- */

static void
sp_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(SpShared)));
	RequestAddinShmemSpace(MAXALIGN(sp_progress_shmem_size()));
}

static void
sp_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	sp_shared = ShmemInitStruct("stellapolicy", sizeof(SpShared), &found);
	if (!found)
	{
		memset(sp_shared, 0, sizeof(SpShared));
		SpinLockInit(&sp_shared->mutex);
	}
	sp_progress_shmem_init();
	LWLockRelease(AddinShmemInitLock);
}

static void
set_latch_of(int pgprocno)
{
	if (pgprocno >= 0 && pgprocno < (int) ProcGlobal->allProcCount)
		SetLatch(&ProcGlobal->allProcs[pgprocno].procLatch);
}

/*
 * Set the latches of the launcher (unless it is the caller) and, if asked,
 * of every worker.
 */
static void
wake(bool workers_too)
{
	int			procs[SP_MAX_WORKERS + 1];
	int			n = 0;

	if (sp_shared == NULL)
		return;
	SpinLockAcquire(&sp_shared->mutex);
	if (sp_shared->launcher_pid != 0 && sp_shared->launcher_pid != MyProcPid)
		procs[n++] = sp_shared->launcher_pgprocno;
	for (int i = 0; workers_too && i < SP_MAX_WORKERS; i++)
		if (sp_shared->slots[i].pid != 0)
			procs[n++] = sp_shared->slots[i].pgprocno;
	SpinLockRelease(&sp_shared->mutex);
	for (int i = 0; i < n; i++)
		set_latch_of(procs[i]);
}

/* ---------- wake at commit ---------- */

static void
wake_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if (wake_pending)
				wake(true);
			wake_pending = false;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			wake_pending = false;
			break;
		default:
			break;
	}
}

void
sp_wake_at_commit(void)
{
	if (sp_shared == NULL)
		return;
	if (!xact_callback_registered)
	{
		RegisterXactCallback(wake_xact_callback, NULL);
		xact_callback_registered = true;
	}
	wake_pending = true;
}

Datum
stellapolicy_wake_at_commit(PG_FUNCTION_ARGS)
{
	sp_wake_at_commit();
	PG_RETURN_VOID();
}

/* ---------- SQL helpers ---------- */

/*
 * Flag a running run for cancellation in the worker that executes it.
 * The worker sees the flag at its next batch boundary.
 */
Datum
stellapolicy_worker_signal_cancel(PG_FUNCTION_ARGS)
{
	char	   *run_id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int			procno = -1;

	if (sp_shared == NULL)
		PG_RETURN_BOOL(false);
	SpinLockAcquire(&sp_shared->mutex);
	for (int i = 0; i < SP_MAX_WORKERS; i++)
		if (sp_shared->slots[i].pid != 0 &&
			strcmp(sp_shared->slots[i].run_id, run_id) == 0)
		{
			sp_shared->slots[i].cancel = true;
			procno = sp_shared->slots[i].pgprocno;
		}
	SpinLockRelease(&sp_shared->mutex);
	if (procno >= 0)
		set_latch_of(procno);
	PG_RETURN_BOOL(procno >= 0);
}

/* Does a background worker serve this database? */
bool
sp_workers_available(void)
{
	char	   *db = get_database_name(MyDatabaseId);

	return sp_shared != NULL && sp_workers > 0 && db != NULL &&
		sp_database_name != NULL && strcmp(db, sp_database_name) == 0;
}

Datum
stellapolicy_workers_available(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(sp_workers_available());
}

/* ---------- hooks for the run engine ---------- */

bool
sp_in_worker_run(void)
{
	return my_slot >= 0;
}

bool
sp_run_was_canceled(void)
{
	bool		flagged = false;

	if (my_slot >= 0 && sp_shared != NULL)
	{
		SpinLockAcquire(&sp_shared->mutex);
		flagged = sp_shared->slots[my_slot].cancel;
		SpinLockRelease(&sp_shared->mutex);
	}
	return cancel_hit || flagged;
}

void
sp_run_checkpoint(void)
{
	SpWorkerSlot *slot;
	TimestampTz now;
	bool		cancel;
	bool		expired;

	CHECK_FOR_INTERRUPTS();
	if (my_slot < 0 || sp_shared == NULL)
		return;

	slot = &sp_shared->slots[my_slot];
	now = GetCurrentTimestamp();
	SpinLockAcquire(&sp_shared->mutex);
	slot->heartbeat = now;
	cancel = slot->cancel;
	expired = slot->deadline != 0 && now > slot->deadline;
	SpinLockRelease(&sp_shared->mutex);

	if (cancel || expired)
	{
		cancel_hit = true;
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("run \"%s\" %s", slot->run_id,
						cancel ? "was canceled" : "passed stellapolicy.run_ttl")));
	}
}

/* ---------- the run worker ---------- */

static void
slot_detach(int code, Datum arg)
{
	int			i = DatumGetInt32(arg);

	if (sp_shared == NULL)
		return;
	SpinLockAcquire(&sp_shared->mutex);
	if (sp_shared->slots[i].pid == MyProcPid)
		memset(&sp_shared->slots[i], 0, sizeof(SpWorkerSlot));
	SpinLockRelease(&sp_shared->mutex);
}

/* Column col of the first row SPI returned. */
static Datum
first_row_value(int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, isnull);
}

static bool
extension_present(void)
{
	int			rc = SPI_execute("SELECT 1 FROM pg_catalog.pg_extension "
								 "WHERE extname = 'stellapolicy'", true, 1);

	return rc == SPI_OK_SELECT && SPI_processed == 1;
}

static void
worker_sighup(SIGNAL_ARGS)
{
	SignalHandlerForConfigReload(postgres_signal_arg);
}

/* Record a failure that escaped the engine, in a fresh transaction. */
static void
record_escaped_failure(const char *run_id, const char *message)
{
	Oid			t[2] = {TEXTOID, TEXTOID};
	Datum		v[2];

	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	v[0] = CStringGetTextDatum(run_id);
	v[1] = CStringGetTextDatum(message);
	SPI_execute_with_args("UPDATE stellapolicy.policy_runs SET status = 'failed', "
						  "finished_at = clock_timestamp(), error = $2, lease_owner = NULL, "
						  "lease_expires = NULL WHERE run_id = $1 AND status = 'running'",
						  2, t, v, NULL, false, 0);
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	/* A worker lives long: report its writes now, for autovacuum. */
	pgstat_report_stat(false);
}

/* Execute one leased run; false when there was nothing to do. */
static bool
worker_step(MemoryContext loopcxt)
{
	char	   *volatile run_id;
	volatile TimestampTz deadline = 0;
	SpWorkerSlot *slot = &sp_shared->slots[my_slot];

	/* Lease.  An error here (say, the extension being dropped) is logged. */
	run_id = NULL;
	PG_TRY();
	{
		Oid			t[4] = {INT4OID, FLOAT8OID, INT4OID, FLOAT8OID};
		Datum		v[4];
		bool		isnull;

		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, "stellapolicy: leasing a run");
		if (extension_present())
		{
			v[0] = Int32GetDatum(MyProcPid);
			v[1] = Float8GetDatum(sp_lease_timeout_s);
			v[2] = Int32GetDatum(sp_max_active_runs_per_tenant);
			v[3] = Float8GetDatum(sp_priority_ageing_s);
			if (SPI_execute_with_args("SELECT stellapolicy.lease_run($1, make_interval(secs => $2), $3, "
									  "  make_interval(secs => $4))",
									  4, t, v, NULL, false, 1) != SPI_OK_SELECT)
				elog(ERROR, "lease_run failed");
			if (SPI_processed == 1)
			{
				Datum		d = first_row_value(1, &isnull);

				if (!isnull)
					run_id = MemoryContextStrdup(loopcxt, TextDatumGetCString(d));
			}

			/*
			 * Its queue time, in a statement of its own: lease_run may have
			 * leased a run committed after this transaction's first snapshot,
			 * which a join in the same statement would not see.  The row
			 * this transaction just updated is visible here.
			 */
			if (run_id != NULL && sp_run_ttl_s > 0)
			{
				Oid			qt[1] = {TEXTOID};
				Datum		qv[1] = {CStringGetTextDatum(run_id)};

				if (SPI_execute_with_args("SELECT queued_at FROM stellapolicy.policy_runs WHERE run_id = $1",
										  1, qt, qv, NULL, false, 1) != SPI_OK_SELECT)
					elog(ERROR, "queue time lookup failed");
				if (SPI_processed == 1)
				{
					Datum		d = first_row_value(1, &isnull);

					if (!isnull)
						deadline = DatumGetTimestampTz(d) + (int64) sp_run_ttl_s * USECS_PER_SEC;
				}
			}
		}
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
		pgstat_report_stat(false);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(loopcxt);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		run_id = NULL;
	}
	PG_END_TRY();
	if (run_id == NULL)
	{
		pgstat_report_activity(STATE_IDLE, NULL);
		return false;
	}

	SpinLockAcquire(&sp_shared->mutex);
	strlcpy(slot->run_id, run_id, SP_RUN_ID_MAX);
	slot->cancel = false;
	slot->heartbeat = GetCurrentTimestamp();
	slot->deadline = deadline;
	SpinLockRelease(&sp_shared->mutex);
	cancel_hit = false;

	/* Execute, in a transaction of its own. */
	PG_TRY();
	{
		char		lt[32];

		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		PushActiveSnapshot(GetTransactionSnapshot());
		/* For this transaction only: leasing keeps the default. */
		snprintf(lt, sizeof(lt), "%dms", sp_worker_lock_timeout_ms);
		(void) set_config_option("lock_timeout", lt, PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, 0, false);
		pgstat_report_activity(STATE_RUNNING, psprintf("stellapolicy: run %s", run_id));
		sp_execute_leased_run(run_id);
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
		pgstat_report_stat(false);
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		char	   *msg;

		MemoryContextSwitchTo(loopcxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		msg = psprintf("%s: %s", unpack_sql_state(edata->sqlerrcode), edata->message);
		ereport(LOG,
				(errmsg("stellapolicy run failed outside the engine run_id=%s error=\"%s\"",
						run_id, edata->message)));
		/* If even this fails, the worker exits and its lease is given back. */
		record_escaped_failure(run_id, msg);
	}
	PG_END_TRY();

	SpinLockAcquire(&sp_shared->mutex);
	slot->run_id[0] = '\0';
	slot->cancel = false;
	slot->deadline = 0;
	SpinLockRelease(&sp_shared->mutex);
	pgstat_report_activity(STATE_IDLE, NULL);

	/* The launcher plans again once a run of a policy is over. */
	wake(false);
	return true;
}

void
sp_worker_main(Datum arg)
{
	int			index = DatumGetInt32(arg);
	MemoryContext loopcxt;

	pqsignal(SIGHUP, worker_sighup);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(sp_database_name, NULL, 0);

	if (sp_shared == NULL || index < 0 || index >= SP_MAX_WORKERS)
		proc_exit(1);
	SpinLockAcquire(&sp_shared->mutex);
	memset(&sp_shared->slots[index], 0, sizeof(SpWorkerSlot));
	sp_shared->slots[index].pid = MyProcPid;
	sp_shared->slots[index].pgprocno = MyProc->pgprocno;
	SpinLockRelease(&sp_shared->mutex);
	my_slot = index;
	before_shmem_exit(slot_detach, Int32GetDatum(index));

	ereport(LOG,
			(errmsg("stellapolicy worker started slot=%d database=%s", index, sp_database_name)));

	loopcxt = AllocSetContextCreate(TopMemoryContext, "stellapolicy worker loop",
									ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		bool		did;

		MemoryContextSwitchTo(loopcxt);
		did = worker_step(loopcxt);
		MemoryContextSwitchTo(TopMemoryContext);
		MemoryContextReset(loopcxt);

		if (!did)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 10000L, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
}

/* ---------- the launcher ---------- */

static BackgroundWorkerHandle *handles[SP_MAX_WORKERS];

static bool
start_worker(int index)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "stellapolicy");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "sp_worker_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "stellapolicy worker %d", index);
	snprintf(w.bgw_type, BGW_MAXLEN, "stellapolicy worker");
	w.bgw_main_arg = Int32GetDatum(index);
	w.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&w, &handles[index]))
	{
		handles[index] = NULL;
		ereport(WARNING,
				(errmsg("stellapolicy could not start run worker %d", index),
				 errhint("Raise max_worker_processes.")));
		return false;
	}
	return true;
}

/*
 * Keep stellapolicy.workers workers running; stop any beyond that.  A
 * worker started by an earlier incarnation of the launcher has no handle
 * here but still holds its slot.
 */
static void
keep_workers(void)
{
	for (int i = 0; i < SP_MAX_WORKERS; i++)
	{
		pid_t		pid = 0;
		pid_t		slot_pid;
		BgwHandleStatus st = handles[i] ? GetBackgroundWorkerPid(handles[i], &pid) : BGWH_STOPPED;

		SpinLockAcquire(&sp_shared->mutex);
		slot_pid = sp_shared->slots[i].pid;
		SpinLockRelease(&sp_shared->mutex);

		if (handles[i] != NULL && st == BGWH_STOPPED)
		{
			pfree(handles[i]);
			handles[i] = NULL;
		}
		if (i < sp_workers)
		{
			if (handles[i] == NULL && slot_pid == 0)
				start_worker(i);
		}
		else if (handles[i] != NULL)
			TerminateBackgroundWorker(handles[i]);
		else if (slot_pid != 0)
			kill(slot_pid, SIGTERM);
	}
}

/*
 * The pids of live workers whose current run made progress within the
 * lease timeout; a worker stuck longer is asked to stop (its run then goes
 * back to the queue).
 */
static Datum
live_workers(void)
{
	Datum		pids[SP_MAX_WORKERS];
	int			n = 0;
	pid_t		stuck[SP_MAX_WORKERS];
	int			nstuck = 0;
	TimestampTz now = GetCurrentTimestamp();

	SpinLockAcquire(&sp_shared->mutex);
	for (int i = 0; i < SP_MAX_WORKERS; i++)
	{
		SpWorkerSlot *s = &sp_shared->slots[i];

		if (s->pid == 0)
			continue;
		pids[n++] = Int32GetDatum(s->pid);
		if (s->run_id[0] != '\0' &&
			now - s->heartbeat > (int64) sp_lease_timeout_s * USECS_PER_SEC)
			stuck[nstuck++] = s->pid;
	}
	SpinLockRelease(&sp_shared->mutex);

	for (int i = 0; i < nstuck; i++)
	{
		ereport(WARNING,
				(errmsg("stellapolicy worker pid=%d made no progress for stellapolicy.lease_timeout and is stopped",
						(int) stuck[i]),
				 errhint("Its run goes back to the queue; raise stellapolicy.lease_timeout if runs legitimately pause this long.")));
		kill(stuck[i], SIGTERM);
	}
	return PointerGetDatum(construct_array(pids, n, INT4OID, 4, true, TYPALIGN_INT));
}

/*
 * One round of the launcher in a short transaction.  Returns how long to
 * sleep, in milliseconds.
 */
static long
launcher_round(void)
{
	long		sleep_ms = 5000;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "stellapolicy: housekeeping");

	if (extension_present())
	{
		Oid			t[4] = {INT4ARRAYOID, FLOAT8OID, INT4OID, FLOAT8OID};
		Datum		v[4];
		bool		isnull;
		int			released;

		/*
		 * After a crash no worker is alive (shared memory was reset), so
		 * every lease is given back.
		 */
		v[0] = live_workers();
		v[1] = Float8GetDatum(sp_lease_timeout_s);
		v[2] = Int32GetDatum(sp_max_attempts);
		v[3] = Float8GetDatum(sp_run_ttl_s);
		if (SPI_execute_with_args("SELECT stellapolicy.queue_housekeeping($1, make_interval(secs => $2), $3, "
								  "make_interval(secs => $4))", 4, t, v, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "queue_housekeeping failed");
		released = DatumGetInt32(first_row_value(1, &isnull));
		if (released > 0)
			ereport(LOG,
					(errmsg("stellapolicy gave back leases=%d of workers that ended", released)));

		/* Incremental runs for settled changes. */
		t[0] = FLOAT8OID;
		v[0] = Float8GetDatum(sp_incremental_debounce_ms / 1000.0);
		if (SPI_execute_with_args("SELECT stellapolicy.plan_incremental(make_interval(secs => $1))",
								  1, t, v, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "plan_incremental failed");
		{
			Datum		d = first_row_value(1, &isnull);

			if (!isnull)
				sleep_ms = Min(sleep_ms, Max(DatumGetInt32(d), 1));
		}

		/*
		 * The next retry that falls due.  One already due that no worker
		 * could lease (all busy, its tenant at its limit, its policy
		 * running) is leased when a run ends; counting it here would wake
		 * the launcher every millisecond until then.
		 */
		if (SPI_execute("SELECT ceil(extract(epoch FROM min(not_before) - clock_timestamp()) * 1000)::bigint "
						"FROM stellapolicy.policy_runs WHERE status = 'queued' "
						"AND not_before > clock_timestamp()",
						false, 1) == SPI_OK_SELECT && SPI_processed == 1)
		{
			Datum		d = first_row_value(1, &isnull);

			if (!isnull)
				sleep_ms = Min(sleep_ms, Max(DatumGetInt64(d), 1));
		}
	}
	else
		sleep_ms = 5000;

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);

	/* Renew leases well before they expire. */
	return Min(sleep_ms, Max(sp_lease_timeout_s * 1000L / 3, 100));
}

static void
launcher_detach(int code, Datum arg)
{
	SpinLockAcquire(&sp_shared->mutex);
	if (sp_shared->launcher_pid == MyProcPid)
		sp_shared->launcher_pid = 0;
	SpinLockRelease(&sp_shared->mutex);
}

void
sp_launcher_main(Datum arg)
{
	volatile bool first = true;
	MemoryContext loopcxt;

	pqsignal(SIGHUP, worker_sighup);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(sp_database_name, NULL, 0);

	SpinLockAcquire(&sp_shared->mutex);
	sp_shared->launcher_pid = MyProcPid;
	sp_shared->launcher_pgprocno = MyProc->pgprocno;
	SpinLockRelease(&sp_shared->mutex);
	before_shmem_exit(launcher_detach, (Datum) 0);

	ereport(LOG,
			(errmsg("stellapolicy launcher started database=%s workers=%d", sp_database_name, sp_workers)));

	loopcxt = AllocSetContextCreate(TopMemoryContext, "stellapolicy launcher loop",
									ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		long		sleep_ms = 1000;

		MemoryContextSwitchTo(loopcxt);
		PG_TRY();
		{
			sleep_ms = launcher_round();
			first = false;
		}
		PG_CATCH();
		{
			/* Log it and try again in a second; the launcher stays up. */
			MemoryContextSwitchTo(loopcxt);
			EmitErrorReport();
			FlushErrorState();
			AbortCurrentTransaction();
			sleep_ms = 1000;
		}
		PG_END_TRY();
		MemoryContextSwitchTo(TopMemoryContext);
		MemoryContextReset(loopcxt);

		/* Workers start once the leases a crash left are given back. */
		if (!first)
			keep_workers();
		wake(true);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 sleep_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
}

/* ---------- settings and registration ---------- */

/* A nightly deadline is a UTC time of day, HH:MM or HH:MM:SS. */
static bool
check_deadline(char **newval, void **extra, GucSource source)
{
	int			h,
				m,
				s = 0;
	char		tail;

	if (*newval != NULL &&
		(sscanf(*newval, "%2d:%2d:%2d%c", &h, &m, &s, &tail) == 3 ||
		 sscanf(*newval, "%2d:%2d%c", &h, &m, &tail) == 2) &&
		h >= 0 && h < 24 && m >= 0 && m < 60 && s >= 0 && s < 60)
		return true;
	GUC_check_errdetail("A nightly deadline is a UTC time of day, HH:MM or HH:MM:SS.");
	return false;
}

void
sp_worker_init(void)
{
	DefineCustomIntVariable("stellapolicy.workers",
							"Number of background workers that execute queued runs.",
							"Needs stellapolicy in shared_preload_libraries.",
							&sp_workers, 2, 0, SP_MAX_WORKERS,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("stellapolicy.database_name",
							   "Database in which the background workers run.",
							   NULL,
							   &sp_database_name, "postgres",
							   PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("stellapolicy.lease_timeout",
							"How long a worker's lease on a run lasts without progress.",
							"Leases of live workers are renewed; a worker that makes no progress for this long is stopped and its run queued again.",
							&sp_lease_timeout_s, 60, 1, 86400,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("stellapolicy.max_attempts",
							"Attempts at a run that fails for a transient reason.",
							NULL,
							&sp_max_attempts, 3, 1, 100,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("stellapolicy.run_ttl",
							"Time after being queued when a run not yet finished is canceled; 0 disables.",
							NULL,
							&sp_run_ttl_s, 4 * 3600, 0, 30 * 86400,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("stellapolicy.max_active_runs_per_tenant",
							"Runs of one tenant that the workers execute at once.",
							NULL,
							&sp_max_active_runs_per_tenant, 2, 1, SP_MAX_WORKERS,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("stellapolicy.incremental_debounce",
							"Quiet time after a change before its incremental run is queued.",
							"Changes arriving within it are folded into one run.",
							&sp_incremental_debounce_ms, 200, 0, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("stellapolicy.retry_backoff",
							"Wait before the second attempt at a run; it doubles at each further attempt.",
							NULL,
							&sp_retry_backoff_ms, 5000, 0, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("stellapolicy.priority_ageing",
							"Waiting time after which a queued run counts one priority higher.",
							NULL,
							&sp_priority_ageing_s, 300, 1, 86400,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("stellapolicy.worker_lock_timeout",
							"lock_timeout of the runs the workers execute; a run that times out is retried.",
							NULL,
							&sp_worker_lock_timeout_ms, 30000, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);

	/* What the alerts of policy_alerts compare with. */
	DefineCustomIntVariable("stellapolicy.sla_full",
							"Longest a full run may take before policy_alerts reports it.",
							NULL,
							&sp_sla_full_s, 30 * 60, 1, 7 * 86400,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("stellapolicy.sla_incremental",
							"Longest an incremental run may take before policy_alerts reports it.",
							NULL,
							&sp_sla_incremental_s, 5 * 60, 1, 7 * 86400,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("stellapolicy.incremental_cycle",
							"Time in which a change is expected to be covered by an incremental run.",
							"The incremental backlog is counted in these cycles; policy_alerts reports a backlog older than three.",
							&sp_incremental_cycle_s, 60, 1, 86400,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomStringVariable("stellapolicy.nightly_deadline",
							   "UTC time of day by which each scheduled nightly run must have finished.",
							   NULL,
							   &sp_nightly_deadline, "07:00",
							   PGC_SUSET, 0, check_deadline, NULL, NULL);

	if (!process_shared_preload_libraries_in_progress)
		return;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = sp_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = sp_shmem_startup;

	{
		BackgroundWorker w;

		memset(&w, 0, sizeof(w));
		w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		w.bgw_start_time = BgWorkerStart_RecoveryFinished;
		w.bgw_restart_time = 5;
		snprintf(w.bgw_library_name, BGW_MAXLEN, "stellapolicy");
		snprintf(w.bgw_function_name, BGW_MAXLEN, "sp_launcher_main");
		snprintf(w.bgw_name, BGW_MAXLEN, "stellapolicy launcher");
		snprintf(w.bgw_type, BGW_MAXLEN, "stellapolicy launcher");
		RegisterBackgroundWorker(&w);
	}
}
