/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  The launcher and the run workers: settings, shared state, and the
 *	  hooks the run engine calls at batch boundaries.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SP_WORKER_H
#define SP_WORKER_H

#include "postgres.h"

/* Settings (see docs/operations.md). */
extern int	sp_workers;
extern char *sp_database_name;
extern int	sp_lease_timeout_s;
extern int	sp_max_attempts;
extern int	sp_run_ttl_s;
extern int	sp_max_active_runs_per_tenant;
extern int	sp_incremental_debounce_ms;
extern int	sp_retry_backoff_ms;
extern int	sp_priority_ageing_s;
extern int	sp_worker_lock_timeout_ms;

extern void sp_worker_init(void);

/*
 * Called by the run engine every few thousand rows and between batches:
 * in a worker it renews the heartbeat and stops a canceled run with an
 * error; elsewhere it only checks for interrupts.
 */
extern void sp_run_checkpoint(void);

/* Is this backend a run worker executing a leased run? */
extern bool sp_in_worker_run(void);

/* Did the last error come from a cancellation (or the run's time to live)? */
extern bool sp_run_was_canceled(void);

/* Does a background worker serve this database? */
extern bool sp_workers_available(void);

/* Wake the launcher and the workers when this transaction commits. */
extern void sp_wake_at_commit(void);

#endif							/* SP_WORKER_H */
