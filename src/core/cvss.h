/*-------------------------------------------------------------------------
 *
 * cvss.h
 *	  CVSS base scores (v2, v3.0, v3.1, v4.0) in fixed point.
 *
 * The policy evaluator needs an advisory's base score to compute its
 * normalised severity.  These functions parse a vector string, validate
 * every metric, and return the base score in thousandths (9.8 is 9800),
 * computed as the FIRST specifications define it: v3.x with the Roundup of
 * the respective version, v4.0 with the macro-vector lookup table and the
 * interpolation of FIRST's reference calculator (done here in exact
 * integer arithmetic).  Threat, environmental and supplemental metrics are
 * validated and ignored, so the result is always the base score.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SP_CVSS_H
#define SP_CVSS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Base score of a vector, version detected from its prefix ("CVSS:4.0/",
 * "CVSS:3.1/", "CVSS:3.0/", otherwise v2, optionally "CVSS:2.0/" or in
 * parentheses).  Returns 0 and sets *score, or -1 with a message in err.
 */
extern int	sp_cvss_base_score(const char *vector, int32_t *score,
							   char *err, size_t errlen);

/* The same for a known major version (2, 3 or 4). */
extern int	sp_cvss_score_version(int version, const char *vector,
								  int32_t *score, char *err, size_t errlen);

/* Major version a vector claims by its prefix: 2, 3 or 4. */
extern int	sp_cvss_version(const char *vector);

#endif							/* SP_CVSS_H */
