/*-------------------------------------------------------------------------
 *
 * osvrange.h
 *	  OSV affected[] range evaluation and CycloneDX "vers:" ranges.
 *
 * An OSV affected[] element is loaded once (from jansson, or filled by the
 * caller) into an SpOsvAffected whose bounds are parsed with the scheme's
 * comparator and whose events are sorted; after that, matching a component
 * version is a walk over pre-parsed bounds that never allocates.  The
 * evaluation follows the OSV schema: a version is affected if it is in the
 * "versions" list or inside any SEMVER/ECOSYSTEM range; GIT ranges never
 * match by themselves.  Withdrawn records are the caller's business: this
 * module does not look at "withdrawn".
 *
 *-------------------------------------------------------------------------
 */
#ifndef SP_OSVRANGE_H
#define SP_OSVRANGE_H

#include "spjson.h"

#include "version.h"

typedef enum SpRangeType
{
	SP_RANGE_SEMVER,
	SP_RANGE_ECOSYSTEM,
	SP_RANGE_GIT
} SpRangeType;

/* Event kinds, in the order used to break ties between equal versions. */
typedef enum SpEventKind
{
	SP_EV_INTRODUCED,
	SP_EV_LAST_AFFECTED,
	SP_EV_FIXED,
	SP_EV_LIMIT
} SpEventKind;

typedef struct SpOsvEvent
{
	SpEventKind kind;
	const char *text;			/* as in the advisory */
	bool		zero;			/* introduced "0": below every version */
	SpVersion	ver;			/* parsed unless zero or in a GIT range */
} SpOsvEvent;

typedef struct SpOsvRange
{
	SpRangeType type;
	SpScheme	scheme;			/* comparator for this range's bounds */
	SpOsvEvent *events;
	int			nevents;
} SpOsvRange;

typedef struct SpOsvVersion
{
	const char *text;
	bool		parsed;			/* false: matched by exact text only */
	SpVersion	ver;
} SpOsvVersion;

typedef struct SpOsvAffected
{
	const char *ecosystem;		/* "Debian:10", NULL if no package */
	const char *name;
	SpScheme	scheme;
	SpOsvRange *ranges;
	int			nranges;
	SpOsvVersion *versions;
	int			nversions;
} SpOsvAffected;

/*
 * The building blocks of an affected entry, for callers that read OSV from
 * something other than jansson: the comparator of an ecosystem (unknown
 * ecosystems use the generic one), a range's type and comparator from its
 * OSV type name (-1 for an unknown name), and the event names in
 * SpEventKind order.
 */
extern SpScheme sp_affected_scheme(const char *ecosystem);
extern int	sp_range_kind(const char *type, SpScheme affected_scheme,
						  SpOsvRange *rg);
extern const char *const sp_event_names[4];

/*
 * Parse the bounds of a filled-in SpOsvAffected (events' text set, ver not
 * yet parsed) and sort each range's events.  An unparsable bound is an
 * error; a "versions" entry that does not parse is kept for exact text
 * matching.
 */
extern int	sp_affected_prepare(SpOsvAffected *aff, SpArena *arena,
								char *errbuf, size_t errlen);

/*
 * Is version v (parsed with aff->scheme; vtext its text) affected?  Never
 * allocates.
 */
extern bool sp_affected_match(const SpOsvAffected *aff, const SpVersion *v,
							  const char *vtext);

/*
 * Load one affected[] element.  path names the element in messages
 * ("affected[2]"); errors name the JSON path of what is malformed.  An
 * element without "package" (or with an ecosystem stellapolicy does not
 * know) loads with ecosystem NULL and never matches.
 */
extern int	sp_affected_from_json(json_t *elem, const char *path,
								  SpArena *arena, SpOsvAffected *out,
								  char *errbuf, size_t errlen);

/* Load every affected[] element of a whole OSV document. */
extern int	sp_osv_from_json(json_t *doc, SpArena *arena,
							 SpOsvAffected **out, int *nout,
							 char *errbuf, size_t errlen);

/* ---- CycloneDX / purl "vers:" ranges ---- */

typedef enum SpVersOp
{
	SP_VERS_EQ,
	SP_VERS_NE,
	SP_VERS_LT,
	SP_VERS_LE,
	SP_VERS_GT,
	SP_VERS_GE
} SpVersOp;

typedef struct SpVersConstraint
{
	SpVersOp	op;
	const char *text;
	SpVersion	ver;
} SpVersConstraint;

typedef struct SpVers
{
	SpScheme	scheme;
	bool		star;			/* the range is "*": everything */
	SpVersConstraint *cons;		/* sorted by version */
	int			ncons;
} SpVers;

/* Parse "vers:<type>/<constraint>|<constraint>..." */
extern int	sp_vers_parse(const char *s, SpArena *arena, SpVers *out,
						  char *errbuf, size_t errlen);

/* Is v (parsed with vers->scheme) inside the range? */
extern bool sp_vers_match(const SpVers *vers, const SpVersion *v);

#endif							/* SP_OSVRANGE_H */
