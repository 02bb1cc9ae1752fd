/*-------------------------------------------------------------------------
 *
 * progress.h
 *	  Progress reporting of runs (pg_stat_progress_policy_run).
 *
 *-------------------------------------------------------------------------
 */
#ifndef SP_PROGRESS_H
#define SP_PROGRESS_H

#include "postgres.h"

/* st_progress_param slots. */
#define SP_PROGRESS_MAGIC_PARAM			0
#define SP_PROGRESS_PHASE				1
#define SP_PROGRESS_COMPONENTS_TOTAL	2
#define SP_PROGRESS_COMPONENTS_DONE		3
#define SP_PROGRESS_TUPLES_TOTAL		4
#define SP_PROGRESS_TUPLES_DONE			5
#define SP_PROGRESS_FINDINGS_TOTAL		6
#define SP_PROGRESS_FINDINGS_DONE		7

/* Phases, in order. */
#define SP_PHASE_INITIALIZING		1
#define SP_PHASE_READING_INPUTS		2
#define SP_PHASE_SCANNING			3
#define SP_PHASE_EVALUATING			4
#define SP_PHASE_HASHING			5
#define SP_PHASE_MERGING			6
#define SP_PHASE_WRITING			7
#define SP_PHASE_WRITING_EXPLAIN	8
#define SP_PHASE_RECORDING			9

extern Size sp_progress_shmem_size(void);
extern void sp_progress_shmem_init(void);
extern void sp_progress_start(const char *run_id, const char *tenant,
							  const char *policy_id, const char *mode);
extern void sp_progress_set(int param, int64 value);
extern void sp_progress_end(void);

#endif							/* SP_PROGRESS_H */
