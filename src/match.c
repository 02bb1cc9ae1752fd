/*-------------------------------------------------------------------------
 *
 * match.c
 *	  SQL entry points of affected-version matching: version_cmp,
 *	  advisory_affects and candidate_tuples.
 *
 * candidate_tuples finds, for a tenant, every (SBOM, component, advisory)
 * whose component version falls in the advisory's ranges.  The live
 * affected entries are read once, their ranges parsed once, and indexed in
 * memory by match key (OSV ecosystem and package); one pass over the
 * component rows then looks each component up by its key, so only pairs
 * that name the same package are ever compared, each by the core's range
 * evaluation.  The rows come out grouped by SBOM, then by advisory: sorted
 * by SBOM id, advisory id and finding key (purl, '#', advisory id), all
 * compared as bytes, so the tuples of one advisory are evaluated together.
 * Cursors (change sequence numbers) limit the advisory revisions and VEX
 * statements to those a past run saw, so a replay gets the same tuples.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"


#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/tuptable.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "arena.h"
#include "ecosystem.h"
#include "osvrange.h"
#include "pgutil.h"
#include "purl.h"
#include "stellapolicy.h"
#include "version.h"
#include "match.h"
#include "progress.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(stellapolicy_version_cmp);
PG_FUNCTION_INFO_V1(stellapolicy_advisory_affects);
PG_FUNCTION_INFO_V1(stellapolicy_candidate_tuples);
PG_FUNCTION_INFO_V1(stellapolicy_vers_contains);

/* Longest id kept in the string-keyed hash tables (ids are at most 200). */
#define SP_KEY_MAX 256


/*
 * SQL: stellapolicy.version_cmp(scheme text, a text, b text) RETURNS integer
 */
Datum
stellapolicy_version_cmp(PG_FUNCTION_ARGS)
{
	char	   *scheme_name = sp_text_cstring(PG_GETARG_DATUM(0));
	char	   *a = sp_text_cstring(PG_GETARG_DATUM(1));
	char	   *b = sp_text_cstring(PG_GETARG_DATUM(2));
	SpScheme	scheme;
	int			result;
	char		err[256];

	if (sp_scheme_from_name(scheme_name, &scheme) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown version scheme \"%s\"", scheme_name),
				 errhint("Name an OSV ecosystem (npm, PyPI, Maven, Go, Debian, ...), a purl type (npm, pypi, golang, deb, ...) or a scheme (semver, pep440, maven, dpkg, rpm, apk, gem, nuget, composer, generic).")));
	if (sp_version_cmp(scheme, a, b, &result, err, sizeof(err)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("%s", err)));
	PG_RETURN_INT32(result);
}

/* ---------- prepared affected entries ---------- */

typedef struct AffKey
{
	int64		revision_id;
	int32		entry;
} AffKey;

typedef struct AffEntry
{
	AffKey		key;			/* hash key: must be first */
	SpOsvAffected aff;
	bool		usable;			/* false: no package or unknown ecosystem */
	char	   *advisory_id;	/* of the live revision */
	char	  **aliases;
	int			naliases;
	struct VexBucket **vex;		/* VEX statements about the id or an alias */
	int			nvex;
} AffEntry;

/*
 * Build the core's form of one advisory_affected row from its columns,
 * reading the ranges straight from their jsonb.  The row was checked at
 * ingestion, so a failure here means the table was written by something
 * else.
 */
static void
prepare_affected(AffEntry *e, const char *ecosystem, const char *package,
				 Jsonb *ranges, Datum versions, bool versions_null,
				 SpArena *arena)
{
	SpOsvAffected *aff = &e->aff;
	char		err[512];

	memset(aff, 0, sizeof(*aff));
	aff->ecosystem = ecosystem ? sp_strdup(arena, ecosystem) : NULL;
	aff->name = package ? sp_strdup(arena, package) : NULL;
	aff->scheme = sp_affected_scheme(aff->ecosystem);

	if (ranges != NULL && JB_ROOT_IS_ARRAY(ranges) && !JB_ROOT_IS_SCALAR(ranges))
	{
		int			n = JB_ROOT_COUNT(ranges);

		aff->ranges = sp_alloc(arena, sizeof(SpOsvRange) * (n + 1));
		for (int r = 0; r < n; r++)
		{
			JsonbValue *rv = getIthJsonbValueFromContainer(&ranges->root, r);
			JsonbValue *tv = NULL;
			JsonbValue *ev = NULL;
			SpOsvRange *rg = &aff->ranges[aff->nranges];
			int			ne;

			if (rv != NULL && rv->type == jbvBinary)
			{
				tv = getKeyJsonValueFromContainer(rv->val.binary.data, "type", 4, NULL);
				ev = getKeyJsonValueFromContainer(rv->val.binary.data, "events", 6, NULL);
			}
			if (tv == NULL || tv->type != jbvString || ev == NULL || ev->type != jbvBinary ||
				sp_range_kind(pnstrdup(tv->val.string.val, tv->val.string.len),
							  aff->scheme, rg) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("stored advisory revision %lld has a malformed range",
								(long long) e->key.revision_id)));
			ne = JsonContainerSize(ev->val.binary.data);
			rg->events = sp_alloc(arena, sizeof(SpOsvEvent) * Max(ne, 1));
			for (int k = 0; k < ne; k++)
			{
				JsonbValue *obj = getIthJsonbValueFromContainer(ev->val.binary.data, k);

				for (int kind = 0; kind < 4 && obj != NULL && obj->type == jbvBinary; kind++)
				{
					JsonbValue *kv = getKeyJsonValueFromContainer(obj->val.binary.data,
																  sp_event_names[kind],
																  strlen(sp_event_names[kind]),
																  NULL);

					if (kv != NULL && kv->type == jbvString)
					{
						rg->events[rg->nevents].kind = (SpEventKind) kind;
						rg->events[rg->nevents].text = sp_strndup(arena, kv->val.string.val,
																  kv->val.string.len);
						rg->nevents++;
						break;
					}
				}
			}
			aff->nranges++;
		}
	}
	if (!versions_null)
	{
		int			n;
		char	  **vals = sp_text_array_elems(versions, &n);

		aff->versions = sp_alloc(arena, sizeof(SpOsvVersion) * (n + 1));
		for (int i = 0; i < n; i++)
			aff->versions[i].text = sp_strdup(arena, vals[i]);
		aff->nversions = n;
	}
	if (sp_affected_prepare(aff, arena, err, sizeof(err)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored advisory revision %lld cannot be evaluated: %s",
						(long long) e->key.revision_id, err)));
	e->usable = (aff->ecosystem != NULL);
}

/*
 * Does a component version fall in the entry?  Releases first, then ranges.
 * arena takes the parsed version (some schemes need one); a version that
 * does not parse can still match the explicit versions list by its text.
 */
static bool
affected_by(const AffEntry *e, const char *version, const char *distro,
			SpArena *arena)
{
	SpVersion	v;
	char		err[8];
	bool		parsed;

	if (!e->usable || version == NULL)
		return false;
	if (!sp_eco_release_match(e->aff.ecosystem, distro))
		return false;
	parsed = sp_version_parse(e->aff.scheme, version, arena, &v, err, sizeof(err)) == 0;
	return sp_affected_match(&e->aff, parsed ? &v : NULL, version);
}

/* ---------- VEX association ---------- */

typedef struct VexStmt
{
	int64		pk;
	char	   *base;			/* product purl without version */
	char	   *version;		/* NULL: every version */
	bool		has_context;	/* about a subcomponent of an enclosing product */
	char	   *ctx_base;		/* that product's purl without version, or NULL */
	char	   *ctx_version;	/* its version, NULL: any */
	Jsonb	   *versions;		/* CycloneDX affects[].versions, or NULL */
	struct VexStmt *next;
} VexStmt;

/*
 * Does a CycloneDX affects[].versions list include this version?  Entries
 * are {"version": v} (equal text) or {"range": "vers:..."}; no list means
 * every version.  Ranges were checked at ingestion.
 */
bool
sp_vex_versions_include(Jsonb *versions, const char *version, SpArena *arena)
{
	int			n;

	/* A top-level scalar (JSON null) is stored as a one-element array. */
	if (versions == NULL || JB_ROOT_IS_SCALAR(versions) || !JB_ROOT_IS_ARRAY(versions) ||
		(n = JB_ROOT_COUNT(versions)) == 0)
		return true;
	if (version == NULL)
		return false;
	for (int i = 0; i < n; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(&versions->root, i);
		JsonbValue *v;

		if (e == NULL || e->type != jbvBinary)
			continue;
		v = getKeyJsonValueFromContainer(e->val.binary.data, "version", 7, NULL);
		if (v != NULL && v->type == jbvString &&
			strlen(version) == (size_t) v->val.string.len &&
			memcmp(version, v->val.string.val, v->val.string.len) == 0)
			return true;
		v = getKeyJsonValueFromContainer(e->val.binary.data, "range", 5, NULL);
		if (v != NULL && v->type == jbvString)
		{
			SpVers		vers;
			SpVersion	parsed;
			char		err[8];
			char	   *range = pnstrdup(v->val.string.val, v->val.string.len);

			if (sp_vers_parse(range, arena, &vers, err, sizeof(err)) == 0 &&
				sp_version_parse(vers.scheme, version, arena, &parsed, err, sizeof(err)) == 0 &&
				sp_vers_match(&vers, &parsed))
				return true;
		}
	}
	return false;
}

typedef struct VexBucket
{
	char		vuln[SP_KEY_MAX];	/* hash key */
	VexStmt    *stmts;
} VexBucket;

/* Split a canonical purl into base-without-version and version. */
static bool
purl_base_version(const char *purl, SpArena *arena, char **base, char **version)
{
	SpPurl	   *p;
	char		err[8];

	if (sp_purl_parse(purl, arena, &p, err, sizeof(err)) != 0)
		return false;
	*base = pstrdup(sp_purl_base(p, false, arena));
	*version = p->version ? pstrdup(p->version) : NULL;
	return true;
}

static void
vex_add(HTAB *vex, const char *vuln, VexStmt *proto)
{
	VexBucket  *b;
	bool		found;
	VexStmt    *s;

	if (strlen(vuln) >= SP_KEY_MAX)
		return;
	b = hash_search(vex, vuln, HASH_ENTER, &found);
	if (!found)
		b->stmts = NULL;
	s = palloc(sizeof(VexStmt));
	*s = *proto;
	s->next = b->stmts;
	b->stmts = s;
}

/*
 * Load the tenant's VEX statements that name a product purl, as of the VEX
 * cursor, indexed by vulnerability id and each alias.
 */
static HTAB *
load_vex(const char *tenant, Datum cursor, bool cursor_null, SpArena *arena)
{
	HASHCTL		ctl;
	HTAB	   *vex;
	Oid			t[2] = {TEXTOID, INT8OID};
	Datum		v[2];
	char		n[2] = {' ', cursor_null ? 'n' : ' '};
	int			rc;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = SP_KEY_MAX;
	ctl.entrysize = sizeof(VexBucket);
	ctl.hcxt = CurrentMemoryContext;
	vex = hash_create("stellapolicy vex", 1024, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	v[0] = sp_cstring_text(tenant);
	v[1] = cursor;
	rc = SPI_execute_with_args(
							   "SELECT v.statement_pk, v.vulnerability, v.vuln_aliases, "
							   "       coalesce(v.product_purl, r.product_purl), v.product_context, "
							   "       v.product_versions "
							   "FROM stellapolicy.vex_raw v "
							   "LEFT JOIN stellapolicy.vex_resolution r ON r.statement_pk = v.statement_pk "
							   "  AND ($2::bigint IS NULL OR r.change_seq <= $2) "
							   "WHERE v.tenant = $1 AND ($2::bigint IS NULL OR v.change_seq <= $2) "
							   "  AND coalesce(v.product_purl, r.product_purl) IS NOT NULL",
							   2, t, v, n, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "VEX lookup failed: %s", SPI_result_code_string(rc));

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		VexStmt		proto;
		char	   *vuln = SPI_getvalue(tup, td, 2);
		Datum		al = SPI_getbinval(tup, td, 3, &isnull);

		proto.pk = DatumGetInt64(SPI_getbinval(tup, td, 1, &isnull));
		proto.next = NULL;
		if (!purl_base_version(SPI_getvalue(tup, td, 4), arena, &proto.base, &proto.version))
			continue;

		/*
		 * A statement about a subcomponent applies only inside its product:
		 * the SBOM's subject must be that product.  A context that is not a
		 * purl (a CSAF product id) cannot be checked, so such a statement
		 * never applies.
		 */
		proto.has_context = false;
		proto.ctx_base = NULL;
		proto.ctx_version = NULL;
		{
			bool		vnull;
			Datum		pv = SPI_getbinval(tup, td, 6, &vnull);

			proto.versions = vnull ? NULL : DatumGetJsonbPCopy(pv);
		}
		{
			char	   *ctx = SPI_getvalue(tup, td, 5);

			if (ctx != NULL)
			{
				proto.has_context = true;
				if (!purl_base_version(ctx, arena, &proto.ctx_base, &proto.ctx_version))
					proto.ctx_base = NULL;
			}
		}
		vex_add(vex, vuln, &proto);
		if (!isnull)
		{
			int			na;
			char	  **aliases = sp_text_array_elems(al, &na);

			for (int k = 0; k < na; k++)
				if (strcmp(aliases[k], vuln) != 0)
					vex_add(vex, aliases[k], &proto);
		}
	}
	return vex;
}

static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * The statements about (advisory id or alias, component purl): the product
 * must be the component's package, with the same version or none.  buckets
 * are the statements filed under the advisory id and its aliases; most
 * tuples have none, and then nothing else is done.
 */
static Datum
vex_for_tuple(VexBucket *const *buckets, int nbuckets,
			  const char *purl, const char *subject, SpArena *arena, bool *isnull)
{
	char	   *base;
	char	   *version;
	char	   *sbase = NULL;
	char	   *sversion = NULL;
	bool		subject_parsed = false;
	int64	   *pks = NULL;
	int			npks = 0;
	int			maxpks = 0;
	Datum	   *elems;
	int			out = 0;

	*isnull = false;
	base = NULL;
	version = NULL;

	for (int i = 0; i < nbuckets; i++)
	{
		const VexBucket *b = buckets[i];

		/* Split the component's purl only when some statement may apply. */
		if (base == NULL && !purl_base_version(purl, arena, &base, &version))
			break;
		for (VexStmt *s = b->stmts; s; s = s->next)
		{
			if (strcmp(s->base, base) != 0)
				continue;
			if (s->version != NULL && (version == NULL || strcmp(s->version, version) != 0))
				continue;
			if (s->versions != NULL && !sp_vex_versions_include(s->versions, version, arena))
				continue;
			if (s->has_context)
			{
				if (!subject_parsed)
				{
					subject_parsed = true;
					if (subject == NULL || !purl_base_version(subject, arena, &sbase, &sversion))
						sbase = NULL;
				}
				if (s->ctx_base == NULL || sbase == NULL || strcmp(s->ctx_base, sbase) != 0)
					continue;
				if (s->ctx_version != NULL &&
					(sversion == NULL || strcmp(s->ctx_version, sversion) != 0))
					continue;
			}
			if (npks == maxpks)
			{
				maxpks = maxpks ? maxpks * 2 : 8;
				pks = pks ? repalloc(pks, sizeof(int64) * maxpks) : palloc(sizeof(int64) * maxpks);
			}
			pks[npks++] = s->pk;
		}
	}

	/* Ascending, each statement once (an alias may find it twice). */
	if (npks > 1)
		qsort(pks, npks, sizeof(int64), cmp_int64);
	elems = palloc(sizeof(Datum) * Max(npks, 1));
	for (int i = 0; i < npks; i++)
		if (i == 0 || pks[i] != pks[i - 1])
			elems[out++] = Int64GetDatum(pks[i]);
	return PointerGetDatum(construct_array(elems, out, INT8OID, 8, true, TYPALIGN_DOUBLE));
}

/* File the VEX statements about an entry's advisory id and aliases on it. */
static void
entry_vex(HTAB *vex, AffEntry *e)
{
	e->vex = NULL;
	e->nvex = 0;
	for (int i = -1; i < e->naliases; i++)
	{
		const char *id = i < 0 ? e->advisory_id : e->aliases[i];
		VexBucket  *b;

		if (strlen(id) >= SP_KEY_MAX ||
			(b = hash_search(vex, id, HASH_FIND, NULL)) == NULL)
			continue;
		if (e->vex == NULL)
			e->vex = palloc(sizeof(VexBucket *) * (e->naliases + 1));
		e->vex[e->nvex++] = b;
	}
}

/* ---------- candidate_tuples ---------- */

/*
 * The live affected entries of the tenant as of the advisory cursor: the
 * current revision of each advisory, unless it is withdrawn; only those of
 * the advisories in $3 when it is not NULL.
 */
#define LIVE_CTE \
"WITH live AS ( " \
"  SELECT revision_id, advisory_id, aliases FROM ( " \
"    SELECT DISTINCT ON (advisory_id COLLATE \"C\") revision_id, advisory_id, aliases, withdrawn " \
"    FROM stellapolicy.advisory_raw " \
"    WHERE tenant = $1 AND ($2::bigint IS NULL OR change_seq <= $2) " \
"      AND ($3::text[] IS NULL OR advisory_id = ANY ($3)) " \
"    ORDER BY advisory_id COLLATE \"C\", modified DESC, content_digest COLLATE \"C\" DESC) cur " \
"  WHERE withdrawn IS NULL) "

static const char *entries_sql =
LIVE_CTE
"SELECT a.revision_id, a.entry, a.ecosystem, a.package, a.ranges, a.versions, "
"       live.advisory_id, live.aliases, a.base_ecosystem, a.match_package "
"FROM stellapolicy.advisory_affected a JOIN live USING (revision_id) "
"WHERE a.tenant = $1 AND a.base_ecosystem IS NOT NULL";

/* The SBOM revisions to scan: the named ones, or every current, active one. */
static const char *sbom_set_sql =
"SELECT s.sbom_id, s.revision, s.subject_purl FROM stellapolicy.sbom s "
"WHERE s.tenant = $1 AND CASE "
"  WHEN $3::int[] IS NOT NULL THEN (s.sbom_id, s.revision) IN (SELECT * FROM unnest($2::text[], $3::int[])) "
"  ELSE s.is_current AND s.active AND ($2::text[] IS NULL OR s.sbom_id = ANY ($2)) END";

/* An SBOM revision of the scan. */
typedef struct ScanSbom
{
	char		sbom_id[SP_KEY_MAX];	/* hash key */
	int32		revision;
	char	   *subject_purl;
	int32		rank;			/* sbom_id's place in byte order */
	size_t		idlen;
	struct ScanSbom *next;		/* another id of the same hash */
} ScanSbom;


/*
 * The heap pass looks every component up twice, by SBOM id and by package,
 * straight from the row's bytes.  Both indexes map a 64-bit hash of the
 * string to the first object of that hash (an open-addressing table of
 * small slots); objects of one hash (never seen in practice) are chained
 * and told apart by their strings.
 */
typedef struct KeySlot
{
	uint64		key;			/* hash of the string */
	char		status;
	void	   *first;
} KeySlot;

#define SH_PREFIX keymap
#define SH_ELEMENT_TYPE KeySlot
#define SH_KEY_TYPE uint64
#define SH_KEY key
#define SH_HASH_KEY(tb, k) ((uint32) (k))
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

static inline uint64
string_hash64(const char *s, size_t len)
{
	return hash_bytes_extended((const unsigned char *) s, (int) len, 0);
}

/* The live entries naming one (ecosystem, package). */
typedef struct PkgEntries
{
	char	   *name;			/* "ecosystem \x1f package" */
	size_t		len;
	struct PkgEntries *next;	/* another name of the same hash */
	AffEntry  **entries;
	int			n;
	int			max;
} PkgEntries;

/* The entries of a package key, creating them when asked. */
static PkgEntries *
pkg_lookup(keymap_hash *pkgs, const char *name, size_t len, bool create)
{
	uint64		h = string_hash64(name, len);
	KeySlot    *slot;
	PkgEntries *p;
	bool		found;

	slot = create ? keymap_insert(pkgs, h, &found) : keymap_lookup(pkgs, h);
	if (slot == NULL)
		return NULL;
	if (create && !found)
		slot->first = NULL;
	for (p = slot->first; p != NULL; p = p->next)
		if (p->len == len && memcmp(p->name, name, len) == 0)
			return p;
	if (!create)
		return NULL;
	p = palloc0(sizeof(PkgEntries));
	p->name = pnstrdup(name, len);
	p->len = len;
	p->next = slot->first;
	slot->first = p;
	return p;
}

/* The SBOM index of the heap pass. */
static keymap_hash *
sbom_index(HTAB *sboms)
{
	keymap_hash *idx = keymap_create(CurrentMemoryContext,
									 Max(hash_get_num_entries(sboms), 16), NULL);
	HASH_SEQ_STATUS hs;
	ScanSbom   *sb;

	hash_seq_init(&hs, sboms);
	while ((sb = hash_seq_search(&hs)) != NULL)
	{
		bool		found;
		KeySlot    *slot;

		sb->idlen = strlen(sb->sbom_id);
		slot = keymap_insert(idx, string_hash64(sb->sbom_id, sb->idlen), &found);
		sb->next = found ? slot->first : NULL;
		slot->first = sb;
	}
	return idx;
}

static ScanSbom *
sbom_lookup(keymap_hash *idx, const char *id, size_t len)
{
	KeySlot    *slot = keymap_lookup(idx, string_hash64(id, len));

	for (ScanSbom *sb = slot ? slot->first : NULL; sb != NULL; sb = sb->next)
		if (sb->idlen == len && memcmp(sb->sbom_id, id, len) == 0)
			return sb;
	return NULL;
}

/* A text attribute as a C string (NULL when null), without copying short values. */
static const char *
attr_cstring(TupleTableSlot *slot, int attnum, char *buf, size_t buflen)
{
	text	   *t;
	size_t		len;

	if (attnum <= 0 || slot->tts_isnull[attnum - 1])
		return NULL;
	t = DatumGetTextPP(slot->tts_values[attnum - 1]);
	len = VARSIZE_ANY_EXHDR(t);
	if (buf != NULL && len < buflen)
	{
		memcpy(buf, VARDATA_ANY(t), len);
		buf[len] = '\0';
		return buf;
	}
	return pnstrdup(VARDATA_ANY(t), len);
}

/*
 * A text attribute's bytes in place (no terminator), or NULL when null.
 * Only a compressed or out-of-line value is copied.
 */
static const char *
attr_text(TupleTableSlot *slot, int attnum, size_t *len)
{
	struct varlena *v;

	if (slot->tts_isnull[attnum - 1])
		return NULL;
	v = (struct varlena *) DatumGetPointer(slot->tts_values[attnum - 1]);
	if (VARATT_IS_EXTENDED(v) && !VARATT_IS_SHORT(v))
		v = pg_detoast_datum_packed(v);
	*len = VARSIZE_ANY_EXHDR(v);
	return VARDATA_ANY(v);
}

/*
 * The key "ecosystem \x1f package" of the package index, terminated; its
 * length, or 0 if too long.
 */
static size_t
package_key(char *buf, size_t buflen, const char *eco, size_t le,
			const char *pkg, size_t lp)
{
	if (le + lp + 2 > buflen)
		return 0;
	memcpy(buf, eco, le);
	buf[le] = '\x1f';
	memcpy(buf + le + 1, pkg, lp);
	buf[le + 1 + lp] = '\0';
	return le + 1 + lp;
}

/* Is an array datum empty?  Read in place, without detoasting a short one. */
static bool
empty_array(Datum d)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);
	int32		ndim;

	if (VARATT_IS_EXTENDED(v) && !VARATT_IS_SHORT(v))
		return false;			/* large enough to hold elements */
	memcpy(&ndim, VARDATA_ANY(v), sizeof(ndim));
	return ndim == 0;
}

/*
 * The "upstream" qualifier of an OS package (its source package), or NULL.
 * A short jsonb is read from an aligned copy on the stack rather than
 * detoasted into a fresh allocation: this runs once per OS package.
 */
static char *
upstream_qualifier(Datum d)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);
	union
	{
		char		data[1024];
		uint32		align;
	}			buf;
	Jsonb	   *q;
	JsonbValue	res;
	JsonbValue *uv;

	if (VARATT_IS_SHORT(v) && VARSIZE_SHORT(v) - VARHDRSZ_SHORT + VARHDRSZ <= sizeof(buf.data))
	{
		Size		len = VARSIZE_SHORT(v) - VARHDRSZ_SHORT;

		SET_VARSIZE(buf.data, len + VARHDRSZ);
		memcpy(buf.data + VARHDRSZ, VARDATA_SHORT(v), len);
		q = (Jsonb *) buf.data;
	}
	else
		q = DatumGetJsonbP(d);
	uv = getKeyJsonValueFromContainer(&q->root, "upstream", 8, &res);
	if (uv != NULL && uv->type == jbvString)
		return pnstrdup(uv->val.string.val, uv->val.string.len);
	return NULL;
}

/* Is the component's purl type one whose packages have source packages? */
static bool
os_package_type(TupleTableSlot *slot, AttrNumber a_type)
{
	text	   *t = DatumGetTextPP(slot->tts_values[a_type - 1]);
	size_t		len = VARSIZE_ANY_EXHDR(t);
	const char *p = VARDATA_ANY(t);

	return (len == 3 && (memcmp(p, "deb", 3) == 0 || memcmp(p, "apk", 3) == 0 ||
						 memcmp(p, "rpm", 3) == 0)) ||
		(len == 6 && memcmp(p, "alpine", 6) == 0);
}

static AttrNumber
component_attnum(Oid relid, const char *name)
{
	AttrNumber	a = get_attnum(relid, name);

	if (a == InvalidAttrNumber)
		elog(ERROR, "stellapolicy.component has no column \"%s\"", name);
	return a;
}

/*
 * A pair the ranges matched, kept until the scan sorts them.  The strings
 * live in the scan's hit arena, the SBOM and the entry in its hash tables.
 */
typedef struct Hit
{
	int32		sbom_rank;		/* sort key: byte order of the SBOM ids, as ints */
	int32		ordinal;		/* the component's: duplicates keep the first */
	int32		purl_len;
	int32		key_len;
	const char *key;			/* sort key: the finding key, purl '#' advisory id */
	const char *purl;
	const ScanSbom *sb;
	const AffEntry *e;
	Datum		vex_pks;
	const SpCandComponent *comp;	/* shared by the hits of one component */
} Hit;

static int
cmp_sbom_ptr(const void *a, const void *b)
{
	return strcmp((*(ScanSbom *const *) a)->sbom_id, (*(ScanSbom *const *) b)->sbom_id);
}

/*
 * How the component rows are read: the whole heap in one pass, or, for a
 * few SBOMs (an incremental run, a run of a small tenant among large
 * ones), each SBOM revision through the primary key.
 */
#define SP_INDEX_SCAN_MAX_SBOMS 256

typedef struct ComponentScan
{
	TableScanDesc scan;			/* heap pass, or NULL */
	Relation	irel;			/* primary key, for the index path */
	IndexScanDesc iscan;
	ScanSbom  **list;			/* the SBOM revisions to read */
	int			n;
	int			pos;
	bool		active;			/* iscan positioned on list[pos - 1] */
	Datum		tenant;
} ComponentScan;

static bool
next_component(ComponentScan *cs, TupleTableSlot *slot)
{
	if (cs->iscan == NULL)
		return table_scan_getnextslot(cs->scan, ForwardScanDirection, slot);
	for (;;)
	{
		ScanKeyData keys[3];
		ScanSbom   *sb;

		if (cs->active && index_getnext_slot(cs->iscan, ForwardScanDirection, slot))
			return true;
		if (cs->pos >= cs->n)
			return false;
		sb = cs->list[cs->pos++];
		ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_TEXTEQ, cs->tenant);
		keys[0].sk_collation = cs->irel->rd_indcollation[0];
		ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_TEXTEQ,
					sp_cstring_text(sb->sbom_id));
		keys[1].sk_collation = cs->irel->rd_indcollation[1];
		ScanKeyInit(&keys[2], 3, BTEqualStrategyNumber, F_INT4EQ,
					Int32GetDatum(sb->revision));
		index_rescan(cs->iscan, keys, 3, NULL, 0);
		cs->active = true;
	}
}

/*
 * Number the SBOMs in byte order of their ids, so that sorting the hits
 * compares integers where it would compare the ids.
 */
static void
assign_sbom_ranks(HTAB *sboms)
{
	long		n = hash_get_num_entries(sboms);
	ScanSbom  **v = palloc(sizeof(ScanSbom *) * Max(n, 1));
	HASH_SEQ_STATUS hs;
	ScanSbom   *sb;
	long		k = 0;

	hash_seq_init(&hs, sboms);
	while ((sb = hash_seq_search(&hs)) != NULL)
		v[k++] = sb;
	qsort(v, k, sizeof(ScanSbom *), cmp_sbom_ptr);
	for (long i = 0; i < k; i++)
		v[i]->rank = (int32) i;
	pfree(v);
}

static int
cmp_hit(const void *a, const void *b)
{
	const Hit  *x = *(const Hit *const *) a;
	const Hit  *y = *(const Hit *const *) b;
	int			c;

	if (x->sbom_rank != y->sbom_rank)
		return x->sbom_rank < y->sbom_rank ? -1 : 1;
	if (x->e->advisory_id != y->e->advisory_id &&
		(c = strcmp(x->e->advisory_id, y->e->advisory_id)) != 0)
		return c;
	if ((c = strcmp(x->key, y->key)) != 0)
		return c;
	return x->ordinal < y->ordinal ? -1 : (x->ordinal > y->ordinal ? 1 : 0);
}

/*
 * Per-row scratch for version parsing: one arena for the whole scan, reset
 * for every row, its blocks in a context of their own (not the row
 * context, which is reset under it).
 */
static MemoryContext scan_arena_cxt = NULL;

static void *
scan_block_alloc(size_t size)
{
	return MemoryContextAlloc(scan_arena_cxt, size);
}

static void
scan_block_free(void *ptr)
{
	pfree(ptr);
}

/*
 * The hits' strings: packed in an arena whose blocks live in the caller's
 * context, as long as the hits themselves.
 */
static MemoryContext hit_arena_cxt = NULL;

static void *
hit_block_alloc(size_t size)
{
	return MemoryContextAllocHuge(hit_arena_cxt, size);
}

static char *
arena_copy_or_null(SpArena *arena, const char *s)
{
	return s ? sp_strdup(arena, s) : NULL;
}

/*
 * Scan the candidate tuples of a tenant in byte order of (SBOM id, finding
 * key), calling emit for each (inside SPI_connect; its arguments live as
 * long as the memory context current when the scan began).  sbom_ids
 * NULL means every current, active SBOM; with revisions (parallel int[])
 * exactly those SBOM revisions, whatever is current now.  Cursors NULL mean
 * everything stored.  advisories, when not NULL, keeps only the tuples of
 * those advisory ids (an incremental run's scope).
 */
void
sp_candidate_scan(const char *tenant, Datum sbom_ids, bool ids_null,
				  Datum revisions, bool revs_null,
				  Datum adv_cursor, bool adv_null,
				  Datum vex_cursor, bool vex_null,
				  Datum advisories, bool advisories_null,
				  SpCandidateEmit emit, void *ctx)
{
	MemoryContext callcxt = CurrentMemoryContext;
	MemoryContext rowcxt;
	SpArena    *arena;
	HASHCTL		ctl;
	HTAB	   *affs;
	HTAB	   *vex;
	Datum		v[1];
	HTAB	   *sboms;
	keymap_hash *pkgs;
	instr_time	t_start;
	instr_time	t_scan;
	Datum		empty_pks;
	MemoryContext hitcxt;
	SpArena    *scratch;
	SpArena    *hitmem;
	SpArena    *outmem;
	Hit		   *hits = NULL;
	Hit		  **hit_order;
	int			nhits = 0;
	int			maxhits = 0;
	int			guc_level;

	v[0] = sp_cstring_text(tenant);

	/*
	 * The join of components and affected entries must be a hash join
	 * whatever the statistics say: right after a bulk load they say one row,
	 * and a nested loop over the whole tenant is quadratic.  The setting is
	 * undone when the scan ends (or fails), like a function's SET clause.
	 */
	guc_level = NewGUCNestLevel();
	(void) set_config_option("enable_nestloop", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);

	arena = sp_arena_create_with(palloc, pfree);
	vex = load_vex(tenant, vex_cursor, vex_null, arena);

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(AffKey);
	ctl.entrysize = sizeof(AffEntry);
	ctl.hcxt = CurrentMemoryContext;
	affs = hash_create("stellapolicy affected", 4096, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "candidate row", ALLOCSET_DEFAULT_SIZES);

	hitcxt = callcxt;			/* hits outlive the scan: emit keeps them */
	scan_arena_cxt = AllocSetContextCreate(callcxt, "candidate scratch", ALLOCSET_DEFAULT_SIZES);
	scratch = sp_arena_create_with(scan_block_alloc, scan_block_free);
	hit_arena_cxt = hitcxt;
	hitmem = sp_arena_create_with(hit_block_alloc, pfree);
	empty_pks = PointerGetDatum(construct_empty_array(INT8OID));

	INSTR_TIME_SET_CURRENT(t_start);

	/* The SBOM revisions, with their subjects. */
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = SP_KEY_MAX;
	ctl.entrysize = sizeof(ScanSbom);
	ctl.hcxt = CurrentMemoryContext;
	sboms = hash_create("stellapolicy scan sboms", 256, &ctl,
						HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	{
		Oid			st[3] = {TEXTOID, TEXTARRAYOID, INT4ARRAYOID};
		Datum		sv[3] = {v[0], sbom_ids, revisions};
		char		sn[3] = {' ', ids_null ? 'n' : ' ', revs_null ? 'n' : ' '};
		int			rc = SPI_execute_with_args(sbom_set_sql, 3, st, sv, sn, true, 0);

		if (rc != SPI_OK_SELECT)
			elog(ERROR, "SBOM set lookup failed: %s", SPI_result_code_string(rc));
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			TupleDesc	td = SPI_tuptable->tupdesc;
			char	   *id = SPI_getvalue(tup, td, 1);
			bool		isnull;
			ScanSbom   *sb;

			if (strlen(id) >= SP_KEY_MAX)
				continue;		/* ids are at most 200 bytes */
			sb = hash_search(sboms, id, HASH_ENTER, NULL);
			sb->revision = DatumGetInt32(SPI_getbinval(tup, td, 2, &isnull));
			sb->subject_purl = SPI_getvalue(tup, td, 3);
		}
		assign_sbom_ranks(sboms);
	}

	/* Every live affected entry, parsed once, indexed by its package. */
	pkgs = keymap_create(CurrentMemoryContext, 4096, NULL);
	{
		Oid			et[3] = {TEXTOID, INT8OID, TEXTARRAYOID};
		Datum		ev[3] = {v[0], adv_cursor, advisories};
		char		en[3] = {' ', adv_null ? 'n' : ' ', advisories_null ? 'n' : ' '};
		int			rc = SPI_execute_with_args(entries_sql, 3, et, ev, en, true, 0);

		if (rc != SPI_OK_SELECT)
			elog(ERROR, "affected entries lookup failed: %s", SPI_result_code_string(rc));
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			TupleDesc	td = SPI_tuptable->tupdesc;
			bool		isnull;
			bool		vnull;
			bool		alnull;
			AffKey		key;
			AffEntry   *e;
			Datum		vers;
			Datum		al;
			char		pkey[512];
			char	   *eco = SPI_getvalue(tup, td, 9);
			char	   *pkg = SPI_getvalue(tup, td, 10);
			PkgEntries *pe;
			size_t		plen;

			memset(&key, 0, sizeof(key));
			key.revision_id = DatumGetInt64(SPI_getbinval(tup, td, 1, &isnull));
			key.entry = DatumGetInt32(SPI_getbinval(tup, td, 2, &isnull));
			e = hash_search(affs, &key, HASH_ENTER, NULL);
			vers = SPI_getbinval(tup, td, 6, &vnull);
			prepare_affected(e, SPI_getvalue(tup, td, 3), SPI_getvalue(tup, td, 4),
							 DatumGetJsonbP(SPI_getbinval(tup, td, 5, &isnull)),
							 vers, vnull, arena);
			e->advisory_id = SPI_getvalue(tup, td, 7);
			al = SPI_getbinval(tup, td, 8, &alnull);
			e->naliases = 0;
			e->aliases = alnull ? NULL : sp_text_array_elems(al, &e->naliases);
			entry_vex(vex, e);

			if (eco == NULL || pkg == NULL ||
				(plen = package_key(pkey, sizeof(pkey), eco, strlen(eco), pkg, strlen(pkg))) == 0)
				continue;
			pe = pkg_lookup(pkgs, pkey, plen, true);
			if (pe->n == pe->max)
			{
				pe->max = pe->max ? pe->max * 2 : 4;
				pe->entries = pe->entries ? repalloc(pe->entries, sizeof(AffEntry *) * pe->max)
					: palloc(sizeof(AffEntry *) * pe->max);
			}
			pe->entries[pe->n++] = e;
		}
		SPI_freetuptable(SPI_tuptable);
	}

	INSTR_TIME_SET_CURRENT(t_scan);
	INSTR_TIME_SUBTRACT(t_scan, t_start);
	elog(DEBUG1, "stellapolicy candidate scan pass=entries seconds=%.3f entries=%ld",
		 INSTR_TIME_GET_DOUBLE(t_scan), hash_get_num_entries(affs));

	/*
	 * One pass over the component heap under the statement's snapshot (or,
	 * for a few SBOMs, their rows through the primary key).  This is the
	 * hot path of every run, so it reads the table directly rather than
	 * through a join: the tenant and SBOM revisions are checked here
	 * (the same rows row-level security would show), and each component
	 * probes the live entries of its package, and of its upstream source
	 * package for OS packages.
	 */
	{
		Oid			nsp = get_namespace_oid("stellapolicy", false);
		Oid			relid = get_relname_relid("component", nsp);
		Relation	rel;
		ComponentScan cs;
		TupleTableSlot *slot;
		AttrNumber	a_tenant = component_attnum(relid, "tenant");
		AttrNumber	a_sbom = component_attnum(relid, "sbom_id");
		AttrNumber	a_rev = component_attnum(relid, "revision");
		AttrNumber	a_ord = component_attnum(relid, "ordinal");
		AttrNumber	a_purl = component_attnum(relid, "purl");
		AttrNumber	a_type = component_attnum(relid, "purl_type");
		AttrNumber	a_name = component_attnum(relid, "name");
		AttrNumber	a_quals = component_attnum(relid, "qualifiers");
		AttrNumber	a_scope = component_attnum(relid, "scope");
		AttrNumber	a_lic = component_attnum(relid, "licenses");
		AttrNumber	a_eco = component_attnum(relid, "match_ecosystem");
		AttrNumber	a_pkg = component_attnum(relid, "match_package");
		AttrNumber	a_distro = component_attnum(relid, "distro");
		AttrNumber	a_ver = component_attnum(relid, "match_version");
		size_t		tenant_len = strlen(tenant);
		int			rows_since_reset = 0;
		int64		components_done = 0;
		ScanSbom   *last_sb = NULL;
		keymap_hash *sbidx = sbom_index(sboms);

		if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
			aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, "component");

		rel = table_open(relid, AccessShareLock);
		slot = table_slot_create(rel, NULL);
		memset(&cs, 0, sizeof(cs));
		cs.n = (int) hash_get_num_entries(sboms);
		if (cs.n <= SP_INDEX_SCAN_MAX_SBOMS)
		{
			HASH_SEQ_STATUS hs;
			ScanSbom   *s;
			Oid			idx = get_relname_relid("component_pkey", nsp);

			if (!OidIsValid(idx))
				elog(ERROR, "index stellapolicy.component_pkey is missing");
			cs.list = palloc(sizeof(ScanSbom *) * Max(cs.n, 1));
			cs.n = 0;
			hash_seq_init(&hs, sboms);
			while ((s = hash_seq_search(&hs)) != NULL)
				cs.list[cs.n++] = s;
			cs.tenant = sp_cstring_text(tenant);
			cs.irel = index_open(idx, AccessShareLock);
			cs.iscan = index_beginscan(rel, cs.irel, GetActiveSnapshot(), 3, 0);
		}
		else
			cs.scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);

		while (next_component(&cs, slot))
		{
			char		kbuf[512];
			size_t		klen;
			size_t		sidlen;
			size_t		elen;
			size_t		plen;
			const char *sbom_id;
			const char *eco;
			const char *pkg;
			const char *upstream = NULL;
			ScanSbom   *sb;
			text	   *tt;
			PkgEntries *lists[2];
			int			nlists = 0;
			MemoryContext old;

			CHECK_FOR_INTERRUPTS();
			slot_getallattrs(slot);

			/* The tenant, the SBOM revision, and something to match. */
			if (slot->tts_isnull[a_tenant - 1] || slot->tts_isnull[a_purl - 1] ||
				slot->tts_isnull[a_ver - 1] || slot->tts_isnull[a_eco - 1] ||
				slot->tts_isnull[a_pkg - 1])
				continue;
			tt = DatumGetTextPP(slot->tts_values[a_tenant - 1]);
			if (VARSIZE_ANY_EXHDR(tt) != tenant_len ||
				memcmp(VARDATA_ANY(tt), tenant, tenant_len) != 0)
				continue;
			old = MemoryContextSwitchTo(rowcxt);
			sbom_id = attr_text(slot, a_sbom, &sidlen);
			if (sbom_id == NULL)
				goto next;
			/* Components lie mostly SBOM by SBOM: ask the index on a change only. */
			if (last_sb != NULL && last_sb->idlen == sidlen &&
				memcmp(last_sb->sbom_id, sbom_id, sidlen) == 0)
				sb = last_sb;
			else
				sb = last_sb = sbom_lookup(sbidx, sbom_id, sidlen);
			if (sb == NULL || sb->revision != DatumGetInt32(slot->tts_values[a_rev - 1]))
				goto next;
			components_done++;

			/* The live entries of its package, and of its source package. */
			eco = attr_text(slot, a_eco, &elen);
			pkg = attr_text(slot, a_pkg, &plen);
			if ((klen = package_key(kbuf, sizeof(kbuf), eco, elen, pkg, plen)) > 0)
			{
				lists[nlists] = pkg_lookup(pkgs, kbuf, klen, false);
				if (lists[nlists])
					nlists++;
			}

			/* Only OS packages name an upstream source package. */
			if (!slot->tts_isnull[a_quals - 1] && !slot->tts_isnull[a_type - 1] &&
				os_package_type(slot, a_type))
				upstream = upstream_qualifier(slot->tts_values[a_quals - 1]);
			if (upstream != NULL &&
				(strlen(upstream) != plen || memcmp(upstream, pkg, plen) != 0) &&
				(klen = package_key(kbuf, sizeof(kbuf), eco, elen, upstream, strlen(upstream))) > 0)
			{
				lists[nlists] = pkg_lookup(pkgs, kbuf, klen, false);
				if (lists[nlists])
					nlists++;
			}
			if (nlists == 0)
				goto next;

			{
				char		vbuf[256];
				char		dbuf[128];
				const char *version = attr_cstring(slot, a_ver, vbuf, sizeof(vbuf));
				const char *distro = attr_cstring(slot, a_distro, dbuf, sizeof(dbuf));
				const char *purl = NULL;
				SpCandComponent *comp = NULL;
				size_t		lp = 0;

				for (int l = 0; l < nlists; l++)
					for (int k = 0; k < lists[l]->n; k++)
					{
						AffEntry   *e = lists[l]->entries[k];
						bool		vexnull;
						Datum		pks;
						Hit		   *h;
						size_t		la;
						char	   *key;

						sp_arena_reset(scratch);
						if (!affected_by(e, version, distro, scratch))
							continue;
						if (comp == NULL)
						{
							/* The component's fields, once for all its hits. */
							purl = attr_cstring(slot, a_purl, NULL, 0);
							lp = strlen(purl);
							purl = sp_strndup(hitmem, purl, lp);
							comp = sp_alloc(hitmem, sizeof(SpCandComponent));
							comp->name = arena_copy_or_null(hitmem,
															attr_cstring(slot, a_name, NULL, 0));
							comp->version = sp_strdup(hitmem, version);
							comp->ecosystem =
								arena_copy_or_null(hitmem, attr_cstring(slot, a_type, NULL, 0));
							comp->scope = arena_copy_or_null(hitmem,
															 attr_cstring(slot, a_scope, NULL, 0));
							if (!slot->tts_isnull[a_lic - 1] &&
								!empty_array(slot->tts_values[a_lic - 1]))
							{
								MemoryContextSwitchTo(hitcxt);
								comp->licenses = sp_text_array_elems(slot->tts_values[a_lic - 1],
																	 &comp->nlicenses);
								MemoryContextSwitchTo(rowcxt);
							}
						}
						pks = e->nvex == 0 ? (Datum) 0
							: vex_for_tuple(e->vex, e->nvex, purl, sb->subject_purl,
											scratch, &vexnull);

						/* The finding key: purl '#' advisory id. */
						la = strlen(e->advisory_id);
						key = sp_alloc(hitmem, lp + la + 2);
						memcpy(key, purl, lp);
						key[lp] = '#';
						memcpy(key + lp + 1, e->advisory_id, la + 1);

						/* Keep the hit in the scan's context until the sort. */
						MemoryContextSwitchTo(hitcxt);
						if (nhits == maxhits)
						{
							maxhits = maxhits ? maxhits * 2 : 4096;
							hits = hits ? repalloc_huge(hits, sizeof(Hit) * maxhits)
								: palloc_extended(sizeof(Hit) * maxhits, MCXT_ALLOC_HUGE);
						}
						h = &hits[nhits++];
						h->sbom_rank = sb->rank;
						h->ordinal = DatumGetInt32(slot->tts_values[a_ord - 1]);
						h->key = key;
						h->key_len = (int32) (lp + la + 1);
						h->purl = purl;
						h->purl_len = (int32) lp;
						h->sb = sb;
						h->e = e;
						h->vex_pks = pks == (Datum) 0 ? empty_pks : datumCopy(pks, false, -1);
						h->comp = comp;
						MemoryContextSwitchTo(rowcxt);
					}
			}
	next:
			MemoryContextSwitchTo(old);
			/* Row memory is small: free it every thousand rows, not every row. */
			if (++rows_since_reset == 1000)
			{
				MemoryContextReset(rowcxt);
				rows_since_reset = 0;
				sp_progress_set(SP_PROGRESS_COMPONENTS_DONE, components_done);
				sp_run_checkpoint();
			}
		}

		sp_progress_set(SP_PROGRESS_COMPONENTS_DONE, components_done);
		ExecDropSingleTupleTableSlot(slot);
		if (cs.iscan != NULL)
		{
			index_endscan(cs.iscan);
			index_close(cs.irel, AccessShareLock);
		}
		else
			table_endscan(cs.scan);
		table_close(rel, AccessShareLock);
	}

	INSTR_TIME_SET_CURRENT(t_scan);
	INSTR_TIME_SUBTRACT(t_scan, t_start);
	elog(DEBUG1, "stellapolicy candidate scan pass=heap seconds=%.3f hits=%d",
		 INSTR_TIME_GET_DOUBLE(t_scan), nhits);

	/*
	 * Byte order (pointers are sorted, not the structs): a counting sort by
	 * SBOM rank, then each SBOM's hits by advisory id and key.  A triple
	 * found twice (two entries, two components) is emitted once; its hits
	 * are neighbours, since the key holds the advisory id.
	 */
	{
		int			nranks = (int) hash_get_num_entries(sboms);
		int		   *start = palloc0(sizeof(int) * (nranks + 1));
		Hit		  **order = palloc_extended(sizeof(Hit *) * Max(nhits, 1), MCXT_ALLOC_HUGE);

		for (int k = 0; k < nhits; k++)
			start[hits[k].sbom_rank + 1]++;
		for (int r = 0; r < nranks; r++)
			start[r + 1] += start[r];
		for (int k = 0; k < nhits; k++)
			order[start[hits[k].sbom_rank]++] = &hits[k];
		/* start[r] is now where rank r ends, and rank r + 1 begins. */
		for (int r = 0, from = 0; r < nranks; from = start[r++])
			if (start[r] - from > 1)
				qsort(order + from, start[r] - from, sizeof(Hit *), cmp_hit);
		pfree(start);
		hit_order = order;
	}
	/*
	 * Each tuple's strings (key, purl, component fields) are copied out in
	 * emit order, one block per tuple, so that the passes after the scan
	 * (evaluation, hash, write) read them in sequence rather than where the
	 * heap pass left them; the hits and their arena are then freed.
	 */
	outmem = sp_arena_create_with(hit_block_alloc, pfree);
	for (int k = 0; k < nhits; k++)
	{
		Hit		   *h = hit_order[k];
		Hit		   *prev = k > 0 ? hit_order[k - 1] : NULL;
		const SpCandComponent *hc = h->comp;
		size_t		ln = hc->name ? strlen(hc->name) + 1 : 0;
		size_t		lv = strlen(hc->version) + 1;
		size_t		le = hc->ecosystem ? strlen(hc->ecosystem) + 1 : 0;
		size_t		ls = hc->scope ? strlen(hc->scope) + 1 : 0;
		SpCandComponent *c;
		char	   *p;
		char	   *key;
		char	   *purl;

		if (prev != NULL && h->sbom_rank == prev->sbom_rank &&
			strcmp(h->key, prev->key) == 0 &&
			strcmp(h->e->advisory_id, prev->e->advisory_id) == 0)
			continue;
		c = sp_alloc(outmem, sizeof(SpCandComponent) + h->key_len + h->purl_len + 2 +
					 ln + lv + le + ls);
		*c = *hc;
		p = (char *) (c + 1);
#define PACK(dst, src, len) ((dst) = memcpy(p, (src), (len)), p += (len))
		PACK(key, h->key, h->key_len + 1);
		PACK(purl, h->purl, h->purl_len);
		*p++ = '\0';
		if (ln)
			PACK(c->name, hc->name, ln);
		PACK(c->version, hc->version, lv);
		if (le)
			PACK(c->ecosystem, hc->ecosystem, le);
		if (ls)
			PACK(c->scope, hc->scope, ls);
#undef PACK
		emit(ctx, h->sb->sbom_id, purl, h->e->advisory_id, key,
			 h->e->key.revision_id, h->vex_pks, c);
	}
	pfree(hit_order);
	if (hits != NULL)
		pfree(hits);
	sp_arena_destroy(hitmem);
	MemoryContextDelete(scan_arena_cxt);
	scan_arena_cxt = NULL;
	hit_arena_cxt = NULL;
	AtEOXact_GUC(true, guc_level);
}

typedef struct SrfCtx
{
	Tuplestorestate *tupstore;
	TupleDesc	tupdesc;
} SrfCtx;

static void
srf_emit(void *ctx, const char *sbom_id, const char *purl, const char *advisory_id,
		 const char *finding_key, int64 revision_id, Datum vex_pks,
		 const SpCandComponent *component)
{
	SrfCtx	   *c = ctx;
	Datum		out[5];
	bool		nulls[5] = {false, false, false, false, false};

	out[0] = sp_cstring_text(sbom_id);
	out[1] = sp_cstring_text(purl);
	out[2] = sp_cstring_text(advisory_id);
	out[3] = Int64GetDatum(revision_id);
	out[4] = vex_pks;
	tuplestore_putvalues(c->tupstore, c->tupdesc, out, nulls);
}

/*
 * SQL: stellapolicy.candidate_tuples(sbom_ids text[], advisory_cursor bigint,
 *		vex_cursor bigint) RETURNS TABLE (sbom_id text, component_purl text,
 *		advisory_id text, advisory_revision bigint, vex_statements bigint[])
 */
Datum
stellapolicy_candidate_tuples(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const char *tenant = sp_current_tenant();
	SrfCtx		c;

	/* Materialise into a tuplestore in the per-query context. */
	InitMaterializedSRF(fcinfo, 0);
	c.tupstore = rsinfo->setResult;
	c.tupdesc = rsinfo->setDesc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	sp_candidate_scan(tenant,
					  PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0), PG_ARGISNULL(0),
					  (Datum) 0, true,
					  PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1), PG_ARGISNULL(1),
					  PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2), PG_ARGISNULL(2),
					  (Datum) 0, true,
					  srf_emit, &c);
	SPI_finish();
	return (Datum) 0;
}

/*
 * SQL: stellapolicy.advisory_affects(advisory_id text, purl text)
 *		RETURNS boolean
 *
 * Does the current revision of the advisory affect the package the purl
 * names, at its version?  A withdrawn advisory affects nothing.
 */
Datum
stellapolicy_advisory_affects(PG_FUNCTION_ARGS)
{
	char	   *advisory_id = sp_text_cstring(PG_GETARG_DATUM(0));
	char	   *purl_text = sp_text_cstring(PG_GETARG_DATUM(1));
	const char *tenant = sp_current_tenant();
	SpArena    *arena = sp_arena_create_with(palloc, pfree);
	SpPurl	   *p;
	char		err[256];
	char		eco[64];
	char		pkg[1024];
	const char *distro;
	const char *upstream;
	const char *epoch;
	char	   *version;
	Oid			t[2] = {TEXTOID, TEXTOID};
	Datum		v[2];
	int			rc;
	bool		result = false;
	bool		withdrawn;
	bool		isnull;

	if (sp_purl_parse(purl_text, arena, &p, err, sizeof(err)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid purl \"%s\": %s", purl_text, err)));
	if (p->version == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("purl \"%s\" has no version", purl_text),
				 errhint("Matching needs a version: write pkg:type/name@version.")));
	distro = sp_purl_qualifier(p, "distro");
	upstream = sp_purl_qualifier(p, "upstream");
	epoch = sp_purl_qualifier(p, "epoch");
	version = (char *) p->version;
	if (epoch && strcmp(epoch, "0") != 0 && strchr(version, ':') == NULL &&
		(strcmp(p->type, "deb") == 0 || strcmp(p->type, "rpm") == 0))
		version = psprintf("%s:%s", epoch, version);

	if (sp_eco_from_purl(p->type, p->namespace, distro, eco, sizeof(eco)) != 0 ||
		sp_eco_package_key(p->type, p->namespace, p->name, pkg, sizeof(pkg)) != 0)
		PG_RETURN_BOOL(false);	/* a type no OSV ecosystem covers */

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	v[0] = sp_cstring_text(tenant);
	v[1] = sp_cstring_text(advisory_id);
	rc = SPI_execute_with_args(
							   "SELECT withdrawn IS NOT NULL, revision_id FROM stellapolicy.advisory_raw "
							   "WHERE tenant = $1 AND advisory_id = $2 "
							   "ORDER BY modified DESC, content_digest COLLATE \"C\" DESC LIMIT 1",
							   2, t, v, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "advisory lookup failed");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("advisory \"%s\" does not exist", advisory_id)));
	withdrawn = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
										   1, &isnull));

	if (!withdrawn)
	{
		Oid			t2[4] = {INT8OID, TEXTOID, TEXTOID, TEXTOID};
		Datum		v2[4];
		char		n2[4] = {' ', ' ', ' ', upstream ? ' ' : 'n'};

		v2[0] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
		v2[1] = sp_cstring_text(eco);
		v2[2] = sp_cstring_text(pkg);
		v2[3] = upstream ? sp_cstring_text(upstream) : (Datum) 0;
		rc = SPI_execute_with_args(
								   "SELECT revision_id, entry, ecosystem, package, ranges, versions "
								   "FROM stellapolicy.advisory_affected "
								   "WHERE revision_id = $1 AND base_ecosystem = $2 "
								   "  AND (match_package = $3 OR match_package = $4) "
								   "ORDER BY entry",
								   4, t2, v2, n2, true, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "affected lookup failed");
		for (uint64 i = 0; i < SPI_processed && !result; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	td = SPI_tuptable->tupdesc;
			AffEntry	e;
			bool		vnull;
			Datum		vers = SPI_getbinval(tup, td, 6, &vnull);

			memset(&e, 0, sizeof(e));
			e.key.revision_id = DatumGetInt64(SPI_getbinval(tup, td, 1, &isnull));
			e.key.entry = DatumGetInt32(SPI_getbinval(tup, td, 2, &isnull));
			prepare_affected(&e, SPI_getvalue(tup, td, 3), SPI_getvalue(tup, td, 4),
							 DatumGetJsonbP(SPI_getbinval(tup, td, 5, &isnull)),
							 vers, vnull, arena);
			result = affected_by(&e, version, distro, arena);
		}
	}
	SPI_finish();
	PG_RETURN_BOOL(result);
}

/*
 * SQL: stellapolicy.vers_contains(range text, version text) RETURNS boolean
 *
 * Is the version inside a vers: range (as CycloneDX VEX affects[].versions
 * writes them, e.g. vers:npm/>=1.0.0|<2.0.0)?
 */
Datum
stellapolicy_vers_contains(PG_FUNCTION_ARGS)
{
	char	   *range = sp_text_cstring(PG_GETARG_DATUM(0));
	char	   *version = sp_text_cstring(PG_GETARG_DATUM(1));
	SpArena    *arena = sp_arena_create_with(palloc, pfree);
	SpVers		vers;
	SpVersion	v;
	char		err[256];
	bool		result;

	if (sp_vers_parse(range, arena, &vers, err, sizeof(err)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid vers range \"%s\": %s", range, err)));
	if (sp_version_parse(vers.scheme, version, arena, &v, err, sizeof(err)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("%s", err)));
	result = sp_vers_match(&vers, &v);
	sp_arena_destroy(arena);
	PG_RETURN_BOOL(result);
}
