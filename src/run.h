/*-------------------------------------------------------------------------
 *
 * run.h
 *	  The run engine: evaluate a policy over a tenant's candidate tuples,
 *	  hash the result, and write the difference to effective_finding.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SP_RUN_H
#define SP_RUN_H

#include "postgres.h"

#include "dsl.h"
#include "lib/stringinfo.h"

/* One evaluated tuple. */
typedef struct RunFinding
{
	char	   *sbom_id;
	char	   *purl;
	char	   *advisory_id;
	char	   *key;			/* purl '#' advisory id */
	const char *status;
	SpBand		band;
	int32		score;			/* thousandths */
	bool		quiet;
	bool		has_quiet_until;
	int64		quiet_until;	/* Unix epoch microseconds */
	const char *rule;
	int			rule_index;		/* -1: no rule applied */
	const char *rationale;
	char	   *annotations;	/* canonical JSON object */
	char	   *warnings;		/* canonical JSON array */
	char	   *verdict_json;	/* only when the input keeps verdicts */
	char		verdict_digest[72];	/* SHA-256 of verdict_json */
	char	   *explain;		/* explain trace, when captured */
	bool		vex_override;	/* an applicable VEX statement decided it */
} RunFinding;

/* What a run reads. */
typedef struct RunInput
{
	const char *tenant;
	const char *policy_id;
	int			version;
	const char *digest;
	const char *ir;
	const char *run_id;			/* for finding ids in explain traces */
	/* SBOMs: NULL ids = every current active SBOM; revisions pin them */
	char	  **sbom_ids;
	int32	   *sbom_revisions;	/* NULL: current revisions */
	int			nsboms;
	bool		all_sboms;
	int64		adv_cursor;
	int64		vex_cursor;
	Datum		env;			/* jsonb object */
	int64		eval_time;		/* Unix epoch microseconds */
	bool		explain;
	bool		keep_verdicts;	/* keep each finding's verdict JSON */
	/* incremental: only tuples of these SBOMs, or of these advisories */
	bool		scoped;
	char	  **scope_sboms;
	int			n_scope_sboms;
	char	  **scope_advs;
	int			n_scope_advs;
} RunInput;

/* What a run produced. */
typedef struct RunOutput
{
	RunFinding *findings;		/* sorted by SBOM id, then finding key */
	int			nfindings;
	int64		components;
	int64		rules_fired;
	int64		vex_overrides;
	int		   *rule_hits;		/* per rule, in evaluation order */
	int			nrules;
	char		hash[72];
	char	   *inputs_json;	/* sbom_set with revisions and digests, env, time */
	char	   *env_json;		/* canonical env, numbers in thousandths (hashed) */
	char	   *env_record;		/* the env as recorded, numbers in decimal */
	/* set by sp_run_write */
	int64		written;
	int64		changed;
	int64		removed;
} RunOutput;

extern void sp_run_evaluate(RunInput *in, RunOutput *out);
extern void sp_run_write(const RunInput *in, RunOutput *out, const char *run_id);
extern int64 sp_current_cursor(const char *tenant, bool vex);
extern char *sp_iso_micros(int64 unix_micros);
extern bool sp_execute_run(const char *run_id);
extern bool sp_execute_leased_run(const char *run_id);
extern bool sp_run_in_scope(const RunInput *in, const char *sbom_id,
							const char *advisory_id);
extern void sp_check_guard(const char *tenant, const char *policy_id);
extern void sp_env_append_json(StringInfo buf, const SpEnvEntry *env, int n,
							   bool thousandths);
/* First key of the input lock (run_sql.c), as in input_write_lock() in SQL. */
#define SP_INPUT_LOCK_KEY 1398293065

extern int	sp_finding_key_cmp(const char *s1, const char *k1,
							   const char *s2, const char *k2);
extern void sp_env_requested(Datum env, SpEnvEntry **entries, int *n);
extern Datum sp_env_requested_jsonb(Datum env);

#endif							/* SP_RUN_H */
