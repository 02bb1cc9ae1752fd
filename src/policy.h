/*-------------------------------------------------------------------------
 *
 * policy.h
 *	  The policy store and evaluation glue shared by policy_evaluate and runs.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SP_POLICY_H
#define SP_POLICY_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/jsonb.h"

#include "arena.h"
#include "dsl.h"

/* SQLSTATEs of our own (class SP): ERR_POL_001 and ERR_POL_004. */
#define ERRCODE_SP_POLICY_COMPILE		MAKE_SQLSTATE('S','P','0','0','1')
#define ERRCODE_SP_DETERMINISM_GUARD	MAKE_SQLSTATE('S','P','0','0','4')

/* The loaded policy for an IR digest, from the per-backend cache. */
extern const SpPolicy *sp_policy_cached(const char *digest, const char *ir,
										size_t irlen);

/* What to read to build one tuple. */
typedef struct SpEvalInput
{
	const char *tenant;
	const char *sbom_id;
	const char *purl;			/* canonical */
	const char *advisory_id;
	Datum		env;			/* jsonb object */
	bool		env_null;
	int64		eval_time;		/* Unix epoch microseconds */
} SpEvalInput;

/*
 * Fill a tuple from the tables (inside SPI_connect).  Missing SBOM,
 * component or advisory are errors with SQLSTATE P0002.
 */
extern void sp_build_tuple(const SpEvalInput *in, SpTuple *tuple,
						   SpArena *arena);

/* An OSV severity array ([{type, score}]) as the evaluator's CVSS vectors. */
extern int	sp_severity_vectors(Jsonb *severity, SpSeverityVector **out);

/* env jsonb to evaluator entries: keys lower-cased, numbers in thousandths. */
extern void sp_env_entries(Datum env, SpEnvEntry **entries, int *n);

/* Microseconds from the Unix epoch to PostgreSQL's (2000-01-01). */
#define SP_UNIX_EPOCH_OFFSET \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

extern int64 sp_unix_micros(TimestampTz ts);
extern bool sp_decimal_thousandths(const char *s, int64 *out);

#endif							/* SP_POLICY_H */
