/*-------------------------------------------------------------------------
 *
 * match.h
 *	  The candidate-tuple scan shared by candidate_tuples() and runs.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SP_MATCH_H
#define SP_MATCH_H

#include "postgres.h"

#include "utils/jsonb.h"

#include "arena.h"

/* The component of a candidate tuple, as the scan read it. */
typedef struct SpCandComponent
{
	const char *name;
	const char *version;		/* the version matched: purl's, with epoch */
	const char *ecosystem;		/* purl type */
	const char *scope;
	char	  **licenses;		/* NULL when none */
	int			nlicenses;
} SpCandComponent;

/*
 * Called once per candidate tuple, in byte order of (SBOM id, finding key),
 * the finding key being the purl, '#' and the advisory id.  The strings and
 * the component stay valid as long as the memory context that was current
 * when the scan began.
 */
typedef void (*SpCandidateEmit) (void *ctx, const char *sbom_id,
								 const char *purl, const char *advisory_id,
								 const char *finding_key, int64 revision_id,
								 Datum vex_pks,
								 const SpCandComponent *component);

extern void sp_candidate_scan(const char *tenant, Datum sbom_ids, bool ids_null,
							  Datum revisions, bool revs_null,
							  Datum adv_cursor, bool adv_null,
							  Datum vex_cursor, bool vex_null,
							  Datum advisories, bool advisories_null,
							  SpCandidateEmit emit, void *ctx);

/* Does a CycloneDX affects[].versions list (jsonb) include the version? */
extern bool sp_vex_versions_include(Jsonb *versions, const char *version,
									SpArena *arena);

#endif							/* SP_MATCH_H */
