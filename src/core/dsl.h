/*-------------------------------------------------------------------------
 *
 * dsl.h
 *	  Public interface of the stella-dsl@1 compiler and evaluator.
 *
 * A policy goes through two stages.  sp_dsl_compile() turns source text
 * into canonical IR (JSON with sorted keys and fixed-point numbers) and its
 * SHA-256 digest, or into a list of diagnostics.  sp_dsl_load() turns IR
 * into a compiled SpPolicy that sp_dsl_evaluate() runs against one tuple
 * (sbom, component, advisory, VEX statements, env) at a time without
 * parsing anything.  The caller keeps the SpPolicy for as long as the
 * arena it was loaded into lives; the SQL layer caches it by digest.
 *
 * All numbers that reach a digest or a verdict are integers: scores are in
 * thousandths (9.8 is 9800) and times are microseconds since the Unix
 * epoch, UTC.  Nothing here keeps global state.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SP_DSL_H
#define SP_DSL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

#define SP_DSL_SYNTAX		"stella-dsl@1"
#define SP_DSL_ERR_CODE		"ERR_POL_001"

/* Severity bands, in rank order. */
typedef enum SpBand
{
	SP_BAND_NONE = 0,
	SP_BAND_LOW,
	SP_BAND_MEDIUM,
	SP_BAND_HIGH,
	SP_BAND_CRITICAL
} SpBand;

/* ---- compilation ---- */

typedef struct SpDiag
{
	const char *code;			/* ERR_POL_001 */
	const char *severity;		/* "error" */
	int			line;			/* 1-based */
	int			column;			/* 1-based, in characters */
	const char *message;
} SpDiag;

typedef struct SpCompileResult
{
	bool		ok;
	const char *ir_json;		/* canonical IR, NULL on error */
	size_t		ir_len;
	const char *digest;			/* "sha256:<64 hex>", NULL on error */
	SpDiag	   *diags;
	int			ndiags;
} SpCompileResult;

/*
 * Compile policy source (any bytes, any length).  Never returns NULL unless
 * the arena is exhausted; errors come back as diagnostics.
 */
extern SpCompileResult *sp_dsl_compile(const char *src, size_t len,
									   SpArena *arena);

/*
 * The whole compile result as one canonical JSON object:
 * {"diagnostics":[...],"digest":...,"ir":...}; digest and ir are null when
 * compilation failed.
 */
extern char *sp_dsl_compile_result_json(const SpCompileResult *res,
										SpArena *arena);

/* ---- the compiled form ---- */

typedef struct SpPolicy SpPolicy;

/*
 * Load canonical IR into the evaluator's compiled form.  Returns NULL and
 * sets *errmsg (allocated in the arena) when the IR is malformed.
 */
extern SpPolicy *sp_dsl_load(const char *ir_json, size_t len, SpArena *arena,
							 const char **errmsg);

/* Compile and load in one step; NULL with *res holding diagnostics. */
extern SpPolicy *sp_dsl_compile_load(const char *src, size_t len,
									 SpArena *arena, SpCompileResult **res);

extern const char *sp_policy_name(const SpPolicy *policy);
extern const char *sp_policy_digest(const SpPolicy *policy);
extern int	sp_policy_rule_count(const SpPolicy *policy);

/* Name of the rule at a position in evaluation order. */
extern const char *sp_policy_rule_name(const SpPolicy *policy, int index);

/* ---- the tuple ---- */

typedef enum SpCvssKind
{
	SP_CVSS_V2 = 2,
	SP_CVSS_V3 = 3,
	SP_CVSS_V4 = 4
} SpCvssKind;

typedef struct SpSeverityVector
{
	SpCvssKind	type;
	const char *vector;
} SpSeverityVector;

typedef struct SpVexStatement
{
	const char *id;				/* statement id */
	const char *issuer;
	const char *status;			/* not_affected, affected, fixed, ... */
	const char *justification;	/* may be NULL */
	int64_t		timestamp;		/* epoch microseconds, UTC */
	const char *vulnerability;	/* CVE-..., GHSA-..., ... */
	const char *product;		/* canonical purl, version optional */
} SpVexStatement;

typedef enum SpEnvType
{
	SP_ENV_NULL = 0,
	SP_ENV_STRING,
	SP_ENV_NUMBER,				/* fixed point, thousandths */
	SP_ENV_BOOL
} SpEnvType;

typedef struct SpEnvEntry
{
	const char *key;			/* lower-cased by the caller */
	SpEnvType	type;
	const char *str;
	int64_t		num;
	bool		b;
} SpEnvEntry;

#define SP_SCORE_UNKNOWN	INT32_MIN

typedef struct SpTuple
{
	/* sbom */
	const char *sbom_id;
	const char *const *sbom_tags;
	int			n_sbom_tags;

	/* component */
	const char *purl;			/* canonical */
	const char *name;
	const char *version;
	const char *ecosystem;		/* purl type */
	const char *scope;
	const char *const *licenses;
	int			n_licenses;

	/* advisory */
	const char *advisory_id;
	const char *advisory_source;	/* NULL: prefix of the id before '-' */
	const char *const *aliases;
	int			n_aliases;
	const char *const *advisory_tags;
	int			n_advisory_tags;
	const char *published;		/* ISO-8601 text as ingested */
	const char *modified;
	const SpSeverityVector *vectors;
	int			n_vectors;
	const char *severity_word;	/* LOW, MODERATE, HIGH, CRITICAL */
	int32_t		base_score;		/* thousandths, or SP_SCORE_UNKNOWN */

	/* VEX statements about this (advisory, product) pair */
	const SpVexStatement *vex;
	int			n_vex;

	/* run */
	const SpEnvEntry *env;
	int			n_env;
	int64_t		eval_time;		/* epoch microseconds, UTC */
} SpTuple;

/*
 * Base score of an advisory in thousandths: the newest CVSS version among
 * the vectors that parse (v4, then v3.x, then v2), else the severity word
 * (LOW 2.0, MODERATE/MEDIUM 5.0, HIGH 8.0, CRITICAL 9.5), else
 * SP_SCORE_UNKNOWN.  Callers precompute this once per advisory.
 */
extern int32_t sp_advisory_base_score(const SpSeverityVector *vectors,
									  int n_vectors, const char *word);

/* ---- the verdict ---- */

typedef struct SpAnnotation
{
	const char *key;
	const char *json;			/* canonical JSON text of the value */
} SpAnnotation;

typedef struct SpVerdict
{
	const char *status;
	SpBand		band;
	int32_t		score;			/* normalised score, thousandths */
	bool		quiet;
	bool		has_quiet_until;
	int64_t		quiet_until;	/* epoch microseconds */
	const char *rule;			/* deciding rule, NULL for the default */
	int			rule_index;		/* its position, -1 for the default */
	bool		used_else;		/* the rule applied its else branch */
	const char *rationale;		/* NULL for the default */
	const char **warnings;
	int			n_warnings;
	SpAnnotation *annotations;	/* sorted by key, unique */
	int			n_annotations;
} SpVerdict;

/*
 * Evaluate one tuple.  Warnings, annotations and lower-cased strings are
 * allocated in scratch (reset it between tuples if you like); the verdict's
 * other strings point into the policy or the tuple.  Returns 0, or -1 when
 * the scratch arena is exhausted.
 */
extern int	sp_dsl_evaluate(const SpPolicy *policy, const SpTuple *tuple,
							SpVerdict *out, SpArena *scratch);

/* The verdict as canonical JSON (sorted keys, no whitespace). */
extern char *sp_verdict_json(const SpVerdict *verdict, SpArena *arena);

/* Name of a band: "None", "Low", "Medium", "High", "Critical". */
extern const char *sp_band_name(SpBand band);

/* Band of a score in thousandths. */
extern SpBand sp_band_of_score(int32_t score);

/*
 * Explain trace of one evaluation as canonical JSON
 * (schemaVersion scheduler.policy-explain-trace@1).
 */
extern char *sp_dsl_explain(const SpPolicy *policy, const SpTuple *tuple,
							const char *finding_id, SpArena *arena);

/*
 * Parse an ISO-8601 date or date-time (YYYY-MM-DD, or with THH:MM[:SS[.f]]
 * and Z or +-HH:MM; no zone means UTC) into epoch microseconds.  Returns
 * false on malformed input.
 */
extern bool sp_parse_timestamp(const char *s, size_t len, int64_t *micros);

#endif							/* SP_DSL_H */
