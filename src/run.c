/*-------------------------------------------------------------------------
 *
 * run.c
 *	  The run engine: gather a run's inputs, evaluate the policy over every
 *	  candidate tuple, compute the determinism hash, and write the
 *	  difference to effective_finding.
 *
 * Evaluation reads only what the run names: the SBOM revisions of its set,
 * advisory revisions and tags up to its advisory cursor, VEX statements up
 * to its VEX cursor, its env and its evaluation time.  The same RunInput
 * therefore gives the same findings and hash whether it comes from a fresh
 * run, a replay, or a bundle imported into another database.
 *
 * Everything runs inside the caller's SPI connection.  sp_run_write merges
 * the sorted findings with the stored ones and writes only inserts, changes
 * and removals, in batches of array-parameter statements; the history
 * trigger keeps what was replaced.  The caller runs both inside a
 * subtransaction, so a failure leaves the findings as they were.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <openssl/evp.h>

#include "access/table.h"
#include "access/tableam.h"
#include "access/heapam.h"
#include "catalog/namespace.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "arena.h"
#include "dsl.h"
#include "match.h"
#include "pgutil.h"
#include "policy.h"
#include "progress.h"
#include "run.h"
#include "stellapolicy.h"
#include "worker.h"

/* A candidate tuple as the scan hands it over. */
typedef struct Cand
{
	char	   *sbom_id;
	char	   *purl;
	char	   *advisory_id;
	char	   *key;			/* the finding key */
	int64		revision_id;
	int64	   *vex;
	int			nvex;
	char	   *name;
	char	   *version;
	char	   *ecosystem;
	char	   *scope;
	char	  **licenses;
	int			nlicenses;
} Cand;

typedef struct CandList
{
	Cand	   *items;
	int			n;
	int			max;
	MemoryContext cxt;
	const RunInput *in;			/* its scope, when the run has one */
} CandList;

typedef struct AdvInfo
{
	int64		revision_id;	/* hash key */
	char	   *advisory_id;
	char	   *source;
	char	  **aliases;
	int			naliases;
	char	  **tags;
	int			ntags;
	char	   *published;
	char	   *modified;
	SpSeverityVector *vectors;
	int			nvectors;
	char	   *word;
	int32		base_score;
	char	   *digest;
} AdvInfo;

typedef struct VexInfo
{
	int64		pk;				/* hash key */
	SpVexStatement stmt;
	char	   *vuln_aliases_flat;	/* unused for matching; kept for debugging */
	char	  **vuln_aliases;
	int			naliases;
	char	   *digest;
} VexInfo;


/* DEBUG1 line with the seconds a phase of the run took. */
static void
phase_done(const char *phase, instr_time *start)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, *start);
	elog(DEBUG1, "stellapolicy run phase=%s seconds=%.3f", phase, INSTR_TIME_GET_DOUBLE(now));
	INSTR_TIME_SET_CURRENT(*start);
}

static int
run_query(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls, true, 0);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "run query failed: %s", SPI_result_code_string(rc));
	return (int) SPI_processed;
}

/* Copy a SPI value into the run's context (SPI's goes away). */
static char *
keep(HeapTuple tup, TupleDesc td, int col)
{
	char	   *s = SPI_getvalue(tup, td, col);

	return s ? pstrdup(s) : NULL;
}

static char **
keep_array(HeapTuple tup, TupleDesc td, int col, int *n)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, td, col, &isnull);

	*n = 0;
	if (isnull)
		return NULL;
	return sp_text_array_elems(d, n);
}

static int
cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Sort and drop duplicates; returns the new count. */
static int
sort_unique(char **v, int n)
{
	int			k = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(char *), cmp_cstr);
	for (int i = 0; i < n; i++)
		if (k == 0 || strcmp(v[i], v[k - 1]) != 0)
			v[k++] = v[i];
	return k;
}

/* Is a sorted array of C strings holding s? */
static bool
in_sorted(char **v, int n, const char *s)
{
	return n > 0 && bsearch(&s, v, n, sizeof(char *), cmp_cstr) != NULL;
}

/* Is the tuple (SBOM, advisory) in the run's scope? */
bool
sp_run_in_scope(const RunInput *in, const char *sbom_id, const char *advisory_id)
{
	return !in->scoped ||
		in_sorted(in->scope_sboms, in->n_scope_sboms, sbom_id) ||
		in_sorted(in->scope_advs, in->n_scope_advs, advisory_id);
}

static void
cand_emit(void *ctx, const char *sbom_id, const char *purl, const char *advisory_id,
		  const char *finding_key, int64 revision_id, Datum vex_pks,
		  const SpCandComponent *comp)
{
	CandList   *l = ctx;
	MemoryContext old;
	Cand	   *c;
	ArrayType  *a;
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	/* A scoped run keeps the tuples of its SBOMs and of its advisories. */
	if (l->in != NULL && l->in->scoped &&
		!sp_run_in_scope(l->in, sbom_id, advisory_id))
		return;

	old = MemoryContextSwitchTo(l->cxt);
	a = DatumGetArrayTypeP(vex_pks);

	if (l->n == l->max)
	{
		l->max = l->max ? l->max * 2 : 1024;
		l->items = l->items ? repalloc_huge(l->items, sizeof(Cand) * l->max)
			: palloc_extended(sizeof(Cand) * l->max, MCXT_ALLOC_HUGE);
	}
	c = &l->items[l->n++];
	/* The scan's strings live in the caller's context: keep them. */
	c->sbom_id = (char *) sbom_id;
	c->purl = (char *) purl;
	c->advisory_id = (char *) advisory_id;
	c->key = (char *) finding_key;
	c->revision_id = revision_id;
	/* Most tuples have no statement and no licence: skip the empty arrays. */
	if (ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a)) == 0)
		n = 0;
	else
		deconstruct_array(a, INT8OID, 8, true, TYPALIGN_DOUBLE, &elems, &nulls, &n);
	c->nvex = n;
	c->vex = n ? palloc(sizeof(int64) * n) : NULL;
	for (int i = 0; i < n; i++)
		c->vex[i] = DatumGetInt64(elems[i]);
	c->name = (char *) comp->name;
	c->version = (char *) comp->version;
	c->ecosystem = (char *) comp->ecosystem;
	c->scope = (char *) comp->scope;
	c->licenses = comp->licenses;
	c->nlicenses = comp->nlicenses;
	MemoryContextSwitchTo(old);
}

/* The newest change number of the tenant's advisory or VEX inputs. */
int64
sp_current_cursor(const char *tenant, bool vex)
{
	Oid			t[1] = {TEXTOID};
	Datum		v[1] = {CStringGetTextDatum(tenant)};
	bool		isnull;
	Datum		d;

	run_query(vex
			  ? "SELECT greatest((SELECT max(change_seq) FROM stellapolicy.vex_raw WHERE tenant = $1), "
			  "                 (SELECT max(change_seq) FROM stellapolicy.vex_resolution WHERE tenant = $1))"
			  : "SELECT greatest((SELECT max(change_seq) FROM stellapolicy.advisory_raw WHERE tenant = $1), "
			  "                 (SELECT max(change_seq) FROM stellapolicy.advisory_tag WHERE tenant = $1))",
			  1, t, v, NULL);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetInt64(d);
}

/* "2026-12-03T17:31:43.123456Z" */
char *
sp_iso_micros(int64 unix_micros)
{
	TimestampTz ts = unix_micros - SP_UNIX_EPOCH_OFFSET;
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return psprintf("%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
					tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min,
					tm.tm_sec, (int) fsec);
}

/*
 * A JSON string (escape_json's output).  Ids and purls rarely hold anything
 * to escape, so those are copied in one piece.
 */
/*
 * Does s need no escaping in JSON (no quote, backslash or control
 * character)?  Sets its length.  Eight bytes at a time: every finding key
 * and SBOM id of a run passes through here.
 */
#define SWAR_ONES	UINT64CONST(0x0101010101010101)
#define SWAR_HIGHS	UINT64CONST(0x8080808080808080)
#define SWAR_LESS(w, n)	(((w) - SWAR_ONES * (n)) & ~(w) & SWAR_HIGHS)
#define SWAR_HAS(w, c)	SWAR_LESS((w) ^ (SWAR_ONES * (c)), 1)

static bool
json_plain(const char *s, size_t *len)
{
	size_t		n = strlen(s);
	size_t		i = 0;

	for (; i + 8 <= n; i += 8)
	{
		uint64		w;

		memcpy(&w, s + i, 8);
		if (SWAR_LESS(w, 0x20) | SWAR_HAS(w, '"') | SWAR_HAS(w, '\\'))
			return false;
	}
	for (; i < n; i++)
		if (s[i] == '"' || s[i] == '\\' || (unsigned char) s[i] < 0x20)
			return false;
	*len = n;
	return true;
}

static void
json_str(StringInfo buf, const char *s)
{
	size_t		len;

	if (s == NULL)
		appendStringInfoString(buf, "null");
	else if (!json_plain(s, &len))
		escape_json(buf, s);
	else
	{
		enlargeStringInfo(buf, len + 2);
		buf->data[buf->len] = '"';
		memcpy(buf->data + buf->len + 1, s, len);
		buf->data[buf->len + 1 + len] = '"';
		buf->len += len + 2;
		buf->data[buf->len] = '\0';
	}
}

static void
json_str_array(StringInfo buf, char **v, int n)
{
	appendStringInfoChar(buf, '[');
	for (int i = 0; i < n; i++)
	{
		if (i)
			appendStringInfoChar(buf, ',');
		json_str(buf, v[i]);
	}
	appendStringInfoChar(buf, ']');
}

/*
 * The env as JSON, keys sorted (sp_env_entries sorts them).  For the
 * determinism hash (thousandths = true) numbers are the integer
 * thousandths the evaluator uses; for the run record they are written as
 * given, in decimal with three places, so that the record can be passed
 * back as an env (replay, bundles, incremental and nightly runs) and mean
 * the same.
 */
void
sp_env_append_json(StringInfo buf, const SpEnvEntry *env, int n, bool thousandths)
{
	appendStringInfoChar(buf, '{');
	for (int i = 0; i < n; i++)
	{
		if (i)
			appendStringInfoChar(buf, ',');
		json_str(buf, env[i].key);
		appendStringInfoChar(buf, ':');
		switch (env[i].type)
		{
			case SP_ENV_STRING:
				json_str(buf, env[i].str);
				break;
			case SP_ENV_NUMBER:
				if (thousandths)
					appendStringInfo(buf, INT64_FORMAT, env[i].num);
				else
				{
					uint64		mag = env[i].num < 0 ? -(uint64) env[i].num : (uint64) env[i].num;

					appendStringInfo(buf, "%s" UINT64_FORMAT ".%03d", env[i].num < 0 ? "-" : "",
									 mag / 1000, (int) (mag % 1000));
				}
				break;
			case SP_ENV_BOOL:
				appendStringInfoString(buf, env[i].b ? "true" : "false");
				break;
			case SP_ENV_NULL:
				appendStringInfoString(buf, "null");
				break;
		}
	}
	appendStringInfoChar(buf, '}');
}

/*
 * The env of a run or simulation as requested: its entries, keys lower-cased
 * and sorted, with the server's "sealed" key applied.  That key belongs to
 * the server: with stellapolicy.sealed on the env holds "sealed": true (which
 * the hash covers and a replay takes as recorded); a "sealed" the caller
 * passed is dropped.  env is a jsonb object, or 0 for none.
 */
void
sp_env_requested(Datum env, SpEnvEntry **entries, int *n)
{
	SpEnvEntry *given = NULL;
	int			ngiven = 0;
	SpEnvEntry *kept;
	SpEnvEntry	sealed = {.key = "sealed", .type = SP_ENV_BOOL, .b = true};
	bool		placed = !sp_sealed;
	int			m = 0;

	if (env != (Datum) 0)
		sp_env_entries(env, &given, &ngiven);

	kept = palloc(sizeof(SpEnvEntry) * (ngiven + 1));
	for (int i = 0; i < ngiven; i++)
	{
		int			c = strcmp(given[i].key, "sealed");

		if (c == 0)
			continue;
		if (c > 0 && !placed)
		{
			kept[m++] = sealed;
			placed = true;
		}
		kept[m++] = given[i];
	}
	if (!placed)
		kept[m++] = sealed;
	*entries = kept;
	*n = m;
}

/* The same env as a jsonb value, for code that passes it on as a Datum. */
Datum
sp_env_requested_jsonb(Datum env)
{
	SpEnvEntry *entries;
	int			n;
	StringInfoData buf;

	sp_env_requested(env, &entries, &n);
	initStringInfo(&buf);
	sp_env_append_json(&buf, entries, n, false);
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

/* SHA-256 with a context kept for the whole run (one per finding is costly). */
static void
sha256_hex_ctx(EVP_MD_CTX *md, const char *data, size_t len, char out[72])
{
	if (!EVP_DigestInit_ex(md, sp_sha256_md(), NULL) || !EVP_DigestUpdate(md, data, len))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute SHA-256 digest")));
	sp_sha256_final_hex(md, out);
}

/*
 * A few distinct strings (statuses, rule names, rationales) shared by many
 * findings: one copy each.  Strings are compared, never pointers, since
 * the evaluator may build a string in memory that the next tuple reuses.
 * Past the table's size, strings are copied.
 */
#define SP_INTERN_MAX 64

typedef struct StrIntern
{
	char	   *copy[SP_INTERN_MAX];
	int			n;
} StrIntern;

static const char *
intern(StrIntern *t, const char *s)
{
	char	   *hit;

	for (int i = 0; i < t->n; i++)
		if (strcmp(t->copy[i], s) == 0)
		{
			/* Move it to the front: findings come in runs of one verdict. */
			hit = t->copy[i];
			memmove(t->copy + 1, t->copy, sizeof(char *) * i);
			t->copy[0] = hit;
			return hit;
		}
	hit = pstrdup(s);
	if (t->n < SP_INTERN_MAX)
	{
		memmove(t->copy + 1, t->copy, sizeof(char *) * t->n);
		t->copy[0] = hit;
		t->n++;
	}
	return hit;
}

/*
 * A finding's line of the findings digest:
 * {"findingKey":...,"sbomId":...,"verdict":"sha256:..."} and a newline.
 */
static void
hash_line(StringInfo line, const RunFinding *f)
{
	static const char p1[] = "{\"findingKey\":\"";
	static const char p2[] = "\",\"sbomId\":\"";
	static const char p3[] = "\",\"verdict\":\"";
	static const char p4[] = "\"}\n";
	size_t		lk;
	size_t		ls;
	size_t		lv;
	char	   *p;

	if (!json_plain(f->key, &lk) || !json_plain(f->sbom_id, &ls))
	{
		appendStringInfoString(line, "{\"findingKey\":");
		json_str(line, f->key);
		appendStringInfoString(line, ",\"sbomId\":");
		json_str(line, f->sbom_id);
		appendStringInfoString(line, ",\"verdict\":\"");
		appendStringInfoString(line, f->verdict_digest);
		appendStringInfoString(line, "\"}\n");
		return;
	}
	lv = strlen(f->verdict_digest);
	enlargeStringInfo(line, lk + ls + lv + sizeof(p1) + sizeof(p2) + sizeof(p3) + sizeof(p4));
	p = line->data + line->len;
#define PUT(src, n) (memcpy(p, (src), (n)), p += (n))
	PUT(p1, sizeof(p1) - 1);
	PUT(f->key, lk);
	PUT(p2, sizeof(p2) - 1);
	PUT(f->sbom_id, ls);
	PUT(p3, sizeof(p3) - 1);
	PUT(f->verdict_digest, lv);
	PUT(p4, sizeof(p4) - 1);
#undef PUT
	*p = '\0';
	line->len = p - line->data;
}

/* Findings by (SBOM id, key) as bytes. */
static int
cmp_finding(const RunFinding *x, const RunFinding *y)
{
	int			c = x->sbom_id == y->sbom_id ? 0 : strcmp(x->sbom_id, y->sbom_id);

	return c ? c : strcmp(x->key, y->key);
}

static int
cmp_finding_ptr(const void *a, const void *b)
{
	return cmp_finding(*(const RunFinding *const *) a, *(const RunFinding *const *) b);
}

/*
 * The tenant's advisory tags as of the advisory cursor, by subject id (an
 * advisory id or an alias), read in one pass however many advisories the
 * run uses.
 */
typedef struct TagSubject
{
	char		subject[256];	/* hash key */
	char	  **tags;
	int			n;
	int			max;
} TagSubject;

static HTAB *
load_tags(const char *tenant, int64 cursor, MemoryContext cxt)
{
	HASHCTL		ctl;
	HTAB	   *h;
	Oid			t[2] = {TEXTOID, INT8OID};
	Datum		v[2] = {CStringGetTextDatum(tenant), Int64GetDatum(cursor)};
	int			rows;
	MemoryContext old;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(((TagSubject *) NULL)->subject);
	ctl.entrysize = sizeof(TagSubject);
	ctl.hcxt = cxt;
	h = hash_create("run advisory tags", 256, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	rows = run_query("SELECT g.subject_id, g.tag FROM stellapolicy.advisory_tag g "
					 "WHERE g.tenant = $1 AND g.change_seq <= $2", 2, t, v, NULL);
	old = MemoryContextSwitchTo(cxt);
	for (int i = 0; i < rows; i++)
	{
		char	   *subject = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		TagSubject *ts;
		bool		found;

		if (strlen(subject) >= sizeof(ts->subject))
			continue;			/* no advisory id is that long */
		ts = hash_search(h, subject, HASH_ENTER, &found);
		if (!found)
		{
			ts->n = 0;
			ts->max = 4;
			ts->tags = palloc(sizeof(char *) * ts->max);
		}
		if (ts->n == ts->max)
		{
			ts->max *= 2;
			ts->tags = repalloc(ts->tags, sizeof(char *) * ts->max);
		}
		ts->tags[ts->n++] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
	}
	MemoryContextSwitchTo(old);
	SPI_freetuptable(SPI_tuptable);
	return h;
}

/* The tags on an advisory's id and aliases, each once, in byte order. */
static char **
advisory_tags(HTAB *tags, const char *id, char **aliases, int naliases, int *n)
{
	char	  **out = NULL;
	int			k = 0;
	int			max = 0;

	for (int i = -1; i < naliases; i++)
	{
		const char *s = i < 0 ? id : aliases[i];
		TagSubject *ts;

		if (strlen(s) >= sizeof(ts->subject) ||
			(ts = hash_search(tags, s, HASH_FIND, NULL)) == NULL)
			continue;
		if (k + ts->n > max)
		{
			max = (k + ts->n) * 2;
			out = out ? repalloc(out, sizeof(char *) * max) : palloc(sizeof(char *) * max);
		}
		memcpy(out + k, ts->tags, sizeof(char *) * ts->n);
		k += ts->n;
	}
	*n = k ? sort_unique(out, k) : 0;
	return out;
}

/* Resolve the SBOM set: ids, revisions and content digests, ordered. */
static char **
resolve_sboms(RunInput *in, char ***digests_out)
{
	Oid			t[3] = {TEXTOID, TEXTARRAYOID, INT4ARRAYOID};
	Datum		v[3];
	char		n[3] = {' ', ' ', ' '};
	int			rows;
	char	  **digests;

	/*
	 * A whole-tenant run keeps all_sboms set after its set is resolved: the
	 * writer answers for every finding of the policy then, including those
	 * of SBOMs taken out of runs since.  A second evaluation with the same
	 * input (a simulation's base) reads the resolved, pinned list.
	 */
	bool		whole = in->all_sboms && in->sbom_ids == NULL;

	v[0] = CStringGetTextDatum(in->tenant);
	v[1] = whole ? (Datum) 0 : sp_text_array(in->sbom_ids, in->nsboms);
	n[1] = whole ? 'n' : ' ';
	if (in->sbom_revisions)
	{
		Datum	   *d = palloc(sizeof(Datum) * Max(in->nsboms, 1));

		for (int i = 0; i < in->nsboms; i++)
			d[i] = Int32GetDatum(in->sbom_revisions[i]);
		v[2] = PointerGetDatum(construct_array(d, in->nsboms, INT4OID, 4, true, TYPALIGN_INT));
	}
	else
		n[2] = 'n';

	rows = run_query("SELECT s.sbom_id, s.revision, s.content_digest, s.tags FROM stellapolicy.sbom s "
					 "WHERE s.tenant = $1 AND CASE "
					 "  WHEN $3::int[] IS NOT NULL THEN (s.sbom_id, s.revision) IN (SELECT * FROM unnest($2::text[], $3::int[])) "
					 "  WHEN $2::text[] IS NOT NULL THEN s.is_current AND s.sbom_id = ANY ($2) "
					 "  ELSE s.is_current AND s.active END "
					 "ORDER BY s.sbom_id COLLATE \"C\"", 3, t, v, n);
	if (!whole && rows != in->nsboms)
	{
		/* Name the first SBOM that is missing. */
		SPITupleTable *tt = SPI_tuptable;

		for (int i = 0; i < in->nsboms; i++)
		{
			bool		found = false;

			for (int r = 0; r < rows && !found; r++)
				found = strcmp(SPI_getvalue(tt->vals[r], tt->tupdesc, 1), in->sbom_ids[i]) == 0;
			if (!found)
				ereport(ERROR,
						(errcode(ERRCODE_NO_DATA_FOUND),
						 errmsg("SBOM \"%s\"%s does not exist", in->sbom_ids[i],
								in->sbom_revisions
								? psprintf(" revision %d", in->sbom_revisions[i]) : "")));
		}
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the SBOM set names an SBOM twice")));
	}

	in->nsboms = rows;
	in->sbom_ids = palloc(sizeof(char *) * Max(rows, 1));
	in->sbom_revisions = palloc(sizeof(int32) * Max(rows, 1));
	digests = palloc(sizeof(char *) * Max(rows, 1));
	for (int i = 0; i < rows; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		bool		isnull;

		in->sbom_ids[i] = keep(tup, SPI_tuptable->tupdesc, 1);
		in->sbom_revisions[i] = DatumGetInt32(SPI_getbinval(tup, SPI_tuptable->tupdesc,
															2, &isnull));
		digests[i] = keep(tup, SPI_tuptable->tupdesc, 3);
	}
	*digests_out = digests;
	return in->sbom_ids;
}

void
sp_run_evaluate(RunInput *in, RunOutput *out)
{
	const SpPolicy *policy = sp_policy_cached(in->digest, in->ir, strlen(in->ir));
	char	  **sbom_digests;
	CandList	cands = {0};
	HTAB	   *advs;
	HTAB	   *vexes;
	HTAB	   *sbomtags;
	HTAB	   *tags;
	HASHCTL		ctl;
	SpEnvEntry *env = NULL;
	int			nenv = 0;
	Oid			t[5];
	Datum		v[5];
	int			rows;
	SpArena    *scratch;
	MemoryContext runcxt = CurrentMemoryContext;
	Datum		ids_arr;
	Datum		revs_arr;
	char	  **sbom_tag_list = NULL;
	int			n_sbom_tags = 0;
	int			sbom_tag_max = 0;

	instr_time	clock;

	memset(out, 0, sizeof(*out));
	INSTR_TIME_SET_CURRENT(clock);

	/* Inputs: SBOM revisions, env. */
	sp_progress_set(SP_PROGRESS_PHASE, SP_PHASE_READING_INPUTS);
	resolve_sboms(in, &sbom_digests);
	if (in->env != (Datum) 0)
		sp_env_entries(in->env, &env, &nenv);
	{
		StringInfoData eb;

		initStringInfo(&eb);
		sp_env_append_json(&eb, env, nenv, true);
		out->env_json = eb.data;
		initStringInfo(&eb);
		sp_env_append_json(&eb, env, nenv, false);
		out->env_record = eb.data;
	}
	ids_arr = sp_text_array(in->sbom_ids, in->nsboms);
	{
		Datum	   *d = palloc(sizeof(Datum) * Max(in->nsboms, 1));

		for (int i = 0; i < in->nsboms; i++)
			d[i] = Int32GetDatum(in->sbom_revisions[i]);
		revs_arr = PointerGetDatum(construct_array(d, in->nsboms, INT4OID, 4, true, TYPALIGN_INT));
	}

	/* SBOM tags. */
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = 256;
	ctl.entrysize = 256 + sizeof(void *) * 2;
	ctl.hcxt = runcxt;
	sbomtags = hash_create("run sbom tags", 256, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	t[0] = TEXTOID;
	t[1] = TEXTARRAYOID;
	t[2] = INT4ARRAYOID;
	v[0] = CStringGetTextDatum(in->tenant);
	v[1] = ids_arr;
	v[2] = revs_arr;
	rows = run_query("SELECT s.sbom_id, s.tags, s.content_digest FROM stellapolicy.sbom s "
					 "WHERE s.tenant = $1 AND (s.sbom_id, s.revision) IN (SELECT * FROM unnest($2::text[], $3::int[]))",
					 3, t, v, NULL);
	sbom_tag_list = palloc(sizeof(char *) * 16);
	sbom_tag_max = 16;
	for (int i = 0; i < rows; i++)
	{
		char	   *id = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		char		key[256];
		void	  **e;
		int			nt;
		char	  **tags;

		memset(key, 0, sizeof(key));
		strlcpy(key, id, sizeof(key));
		tags = keep_array(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &nt);
		e = hash_search(sbomtags, key, HASH_ENTER, NULL);
		e[256 / sizeof(void *)] = tags;
		e[256 / sizeof(void *) + 1] = (void *) (intptr_t) nt;

		/* SBOM tags are inputs too: hashed as "<content digest>:<tag>". */
		for (int k = 0; k < nt; k++)
		{
			if (n_sbom_tags == sbom_tag_max)
			{
				sbom_tag_max *= 2;
				sbom_tag_list = repalloc(sbom_tag_list, sizeof(char *) * sbom_tag_max);
			}
			sbom_tag_list[n_sbom_tags++] =
				psprintf("%s:%s",
						 SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3),
						 tags[k]);
		}
	}

	/* Components in the set. */
	rows = run_query("SELECT coalesce(sum(s.component_count), 0)::bigint FROM stellapolicy.sbom s "
					 "WHERE s.tenant = $1 AND (s.sbom_id, s.revision) IN (SELECT * FROM unnest($2::text[], $3::int[]))",
					 3, t, v, NULL);
	{
		bool		isnull;

		out->components = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
													  SPI_tuptable->tupdesc, 1, &isnull));
	}

	phase_done("inputs", &clock);
	sp_progress_set(SP_PROGRESS_COMPONENTS_TOTAL, out->components);
	sp_progress_set(SP_PROGRESS_PHASE, SP_PHASE_SCANNING);

	/* Candidate tuples, in byte order. */
	cands.cxt = runcxt;
	cands.in = in;
	if (in->scoped)
	{
		/* Sorted, for the lookups of sp_run_in_scope(). */
		in->n_scope_sboms = sort_unique(in->scope_sboms, in->n_scope_sboms);
		in->n_scope_advs = sort_unique(in->scope_advs, in->n_scope_advs);
	}
	sp_candidate_scan(in->tenant, ids_arr, false, revs_arr, false,
					  Int64GetDatum(in->adv_cursor), false,
					  Int64GetDatum(in->vex_cursor), false,
					  /* Only the scope's advisories, unless whole SBOMs are in it. */
					  in->scoped && in->n_scope_sboms == 0
					  ? sp_text_array(in->scope_advs, in->n_scope_advs) : (Datum) 0,
					  !(in->scoped && in->n_scope_sboms == 0),
					  cand_emit, &cands);
	phase_done("candidates", &clock);

	/* Advisory revisions used, with the tags on their ids and aliases. */
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(AdvInfo);
	ctl.hcxt = runcxt;
	advs = hash_create("run advisories", 1024, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	{
		int64	   *revs = palloc(sizeof(int64) * Max(cands.n, 1));
		Datum	   *d;
		int			nrev = 0;

		for (int i = 0; i < cands.n; i++)
			if (nrev == 0 || revs[nrev - 1] != cands.items[i].revision_id)
				revs[nrev++] = cands.items[i].revision_id;
		d = palloc(sizeof(Datum) * Max(nrev, 1));
		for (int i = 0; i < nrev; i++)
			d[i] = Int64GetDatum(revs[i]);
		t[1] = INT8ARRAYOID;
		t[2] = INT8OID;
		v[1] = PointerGetDatum(construct_array(d, nrev, INT8OID, 8, true, TYPALIGN_DOUBLE));
		v[2] = Int64GetDatum(in->adv_cursor);
		tags = load_tags(in->tenant, in->adv_cursor, runcxt);
		rows = run_query(
						 "SELECT a.revision_id, a.advisory_id, a.source, a.aliases, "
						 "  pg_catalog.to_char(a.published AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
						 "  pg_catalog.to_char(a.modified AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
						 "  a.severity_word, a.content_digest, a.severity "
						 "FROM (SELECT DISTINCT u.revision_id FROM pg_catalog.unnest($2::bigint[]) AS u(revision_id)) AS u "
						 "JOIN stellapolicy.advisory_raw a USING (revision_id) "
						 "WHERE a.tenant = $1", 2, t, v, NULL);
	}
	for (int i = 0; i < rows; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		int64		rid = DatumGetInt64(SPI_getbinval(tup, td, 1, &isnull));
		AdvInfo    *a = hash_search(advs, &rid, HASH_ENTER, NULL);
		int			k;

		a->advisory_id = keep(tup, td, 2);
		a->source = keep(tup, td, 3);
		a->aliases = keep_array(tup, td, 4, &a->naliases);
		a->published = keep(tup, td, 5);
		a->modified = keep(tup, td, 6);
		a->word = keep(tup, td, 7);
		a->digest = keep(tup, td, 8);
		a->tags = advisory_tags(tags, a->advisory_id, a->aliases, a->naliases, &a->ntags);
		k = sp_severity_vectors(DatumGetJsonbP(SPI_getbinval(tup, td, 9, &isnull)), &a->vectors);
		a->nvectors = k;
		a->base_score = sp_advisory_base_score(a->vectors, k, a->word);
	}

	/* VEX statements used. */
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(VexInfo);
	ctl.hcxt = runcxt;
	vexes = hash_create("run vex", 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	{
		int			total = 0;
		Datum	   *d;
		int			k = 0;

		for (int i = 0; i < cands.n; i++)
			total += cands.items[i].nvex;
		d = palloc(sizeof(Datum) * Max(total, 1));
		for (int i = 0; i < cands.n; i++)
			for (int j = 0; j < cands.items[i].nvex; j++)
				d[k++] = Int64GetDatum(cands.items[i].vex[j]);
		t[1] = INT8ARRAYOID;
		v[1] = PointerGetDatum(construct_array(d, k, INT8OID, 8, true, TYPALIGN_DOUBLE));
		rows = run_query("SELECT v.statement_pk, coalesce(v.document_id, v.document_digest) || '#' || v.statement_id, "
						 "  v.issuer, v.status, v.justification, "
						 "  (extract(epoch FROM v.statement_time) * 1000000)::bigint, v.vulnerability, "
						 "  coalesce(v.product_purl, r.product_purl), v.vuln_aliases, "
						 "  'sha256:' || pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(v.document_digest || '#' || v.item, 'UTF8')), 'hex') "
						 "FROM (SELECT DISTINCT u.pk FROM pg_catalog.unnest($2::bigint[]) AS u(pk)) AS u "
						 "JOIN stellapolicy.vex_raw v ON v.statement_pk = u.pk "
						 "LEFT JOIN stellapolicy.vex_resolution r USING (statement_pk) "
						 "WHERE v.tenant = $1", 2, t, v, NULL);
	}
	for (int i = 0; i < rows; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		int64		pk = DatumGetInt64(SPI_getbinval(tup, td, 1, &isnull));
		VexInfo    *x = hash_search(vexes, &pk, HASH_ENTER, NULL);
		char	   *ts = SPI_getvalue(tup, td, 6);

		x->stmt.id = keep(tup, td, 2);
		x->stmt.issuer = keep(tup, td, 3);
		x->stmt.status = keep(tup, td, 4);
		x->stmt.justification = keep(tup, td, 5);
		x->stmt.timestamp = ts ? strtoll(ts, NULL, 10) : 0;
		x->stmt.vulnerability = keep(tup, td, 7);
		x->stmt.product = keep(tup, td, 8);
		x->vuln_aliases = keep_array(tup, td, 9, &x->naliases);
		x->digest = keep(tup, td, 10);
	}

	phase_done("details", &clock);
	sp_progress_set(SP_PROGRESS_TUPLES_TOTAL, cands.n);
	sp_progress_set(SP_PROGRESS_PHASE, SP_PHASE_EVALUATING);

	/* Evaluate every tuple. */
	out->nrules = sp_policy_rule_count(policy);
	out->rule_hits = palloc0(sizeof(int) * (out->nrules + 1));
	out->findings = palloc_extended(sizeof(RunFinding) * Max(cands.n, 1),
									MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	scratch = sp_arena_create_with(palloc, pfree);
	{
		SpVexStatement *vbuf = palloc(sizeof(SpVexStatement) * 64);
		int			vmax = 64;
		EVP_MD_CTX *vmd = EVP_MD_CTX_new();
		StringInfoData dbuf;
		StringInfoData buf;
		const char *last_sbom = NULL;
		void	  **last_st = NULL;
		AdvInfo    *last_a = NULL;
		StrIntern	strings = {0};
		int			eval_batch = Max(sp_batch_size, 1);

		if (vmd == NULL)
			elog(ERROR, "could not allocate a SHA-256 context");
		initStringInfo(&dbuf);
		initStringInfo(&buf);

		for (int i = 0; i < cands.n; i++)
		{
			Cand	   *cd = &cands.items[i];
			AdvInfo    *a;
			void	  **st;
			SpTuple		tu;
			SpVerdict	vd;
			RunFinding *f = &out->findings[out->nfindings];

			/* Batch boundary: progress, cancellation, heartbeat. */
			if (i % eval_batch == 0)
			{
				sp_progress_set(SP_PROGRESS_TUPLES_DONE, i);
				sp_run_checkpoint();
			}
			/* Tuples come grouped by advisory within an SBOM. */
			if (last_a == NULL || last_a->revision_id != cd->revision_id)
				last_a = hash_search(advs, &cd->revision_id, HASH_FIND, NULL);
			a = last_a;
			/* Tuples come grouped by SBOM: look its tags up once per SBOM. */
			if (last_sbom == NULL ||
				(last_sbom != cd->sbom_id && strcmp(last_sbom, cd->sbom_id) != 0))
			{
				last_st = strlen(cd->sbom_id) < 256
					? hash_search(sbomtags, cd->sbom_id, HASH_FIND, NULL) : NULL;
				last_sbom = cd->sbom_id;
			}
			st = last_st;
			if (a == NULL)
				elog(ERROR, "run inputs changed during the run (advisory revision " INT64_FORMAT ")",
					 cd->revision_id);

			memset(&tu, 0, sizeof(tu));
			tu.sbom_id = cd->sbom_id;
			if (st)
			{
				tu.sbom_tags = (const char *const *) st[256 / sizeof(void *)];
				tu.n_sbom_tags = (int) (intptr_t) st[256 / sizeof(void *) + 1];
			}
			tu.purl = cd->purl;
			tu.name = cd->name;
			tu.version = cd->version;
			tu.ecosystem = cd->ecosystem;
			tu.scope = cd->scope;
			tu.licenses = (const char *const *) cd->licenses;
			tu.n_licenses = cd->nlicenses;
			tu.advisory_id = a->advisory_id;
			tu.advisory_source = a->source;
			tu.aliases = (const char *const *) a->aliases;
			tu.n_aliases = a->naliases;
			tu.advisory_tags = (const char *const *) a->tags;
			tu.n_advisory_tags = a->ntags;
			tu.published = a->published;
			tu.modified = a->modified;
			tu.vectors = a->vectors;
			tu.n_vectors = a->nvectors;
			tu.severity_word = a->word;
			tu.base_score = a->base_score;
			tu.env = env;
			tu.n_env = nenv;
			tu.eval_time = in->eval_time;

			/* The statements the scan associated, under the id that matched. */
			if (cd->nvex > vmax)
			{
				vmax = cd->nvex * 2;
				vbuf = repalloc(vbuf, sizeof(SpVexStatement) * vmax);
			}
			for (int j = 0; j < cd->nvex; j++)
			{
				VexInfo    *x = hash_search(vexes, &cd->vex[j], HASH_FIND, NULL);
				bool		direct = false;

				if (x == NULL)
					elog(ERROR, "run inputs changed during the run (VEX statement " INT64_FORMAT ")", cd->vex[j]);
				vbuf[j] = x->stmt;
				if (pg_strcasecmp(x->stmt.vulnerability, a->advisory_id) == 0)
					direct = true;
				for (int k = 0; k < a->naliases && !direct; k++)
					direct = pg_strcasecmp(x->stmt.vulnerability, a->aliases[k]) == 0;
				for (int k = 0; k < x->naliases && !direct; k++)
				{
					bool		hit = pg_strcasecmp(x->vuln_aliases[k], a->advisory_id) == 0;

					for (int m = 0; m < a->naliases && !hit; m++)
						hit = pg_strcasecmp(x->vuln_aliases[k], a->aliases[m]) == 0;
					if (hit)
					{
						vbuf[j].vulnerability = x->vuln_aliases[k];
						direct = true;
					}
				}
			}
			tu.vex = vbuf;
			tu.n_vex = cd->nvex;

			sp_arena_reset(scratch);
			if (sp_dsl_evaluate(policy, &tu, &vd, scratch) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_OUT_OF_MEMORY),
						 errmsg("out of memory evaluating the policy")));

			f->sbom_id = cd->sbom_id;
			f->purl = cd->purl;
			f->advisory_id = a->advisory_id;
			f->key = cd->key;
			f->status = intern(&strings, vd.status);
			f->band = vd.band;
			f->score = vd.score;
			f->quiet = vd.quiet;
			f->has_quiet_until = vd.has_quiet_until;
			f->quiet_until = vd.quiet_until;
			f->rule = vd.rule ? intern(&strings, vd.rule) : NULL;
			f->rule_index = vd.rule_index;
			f->rationale = vd.rationale ? intern(&strings, vd.rationale) : NULL;
			/* Most findings have neither: share the empty forms. */
			if (vd.n_annotations == 0)
				f->annotations = "{}";
			else
			{
				resetStringInfo(&buf);
				appendStringInfoChar(&buf, '{');
				for (int k = 0; k < vd.n_annotations; k++)
				{
					if (k)
						appendStringInfoChar(&buf, ',');
					json_str(&buf, vd.annotations[k].key);
					appendStringInfo(&buf, ":%s", vd.annotations[k].json);
				}
				appendStringInfoChar(&buf, '}');
				f->annotations = pstrdup(buf.data);
			}
			if (vd.n_warnings == 0)
				f->warnings = "[]";
			else
			{
				resetStringInfo(&buf);
				json_str_array(&buf, (char **) vd.warnings, vd.n_warnings);
				f->warnings = pstrdup(buf.data);
			}
			{
				const char *vj = sp_verdict_json(&vd, scratch);

				sha256_hex_ctx(vmd, vj, strlen(vj), f->verdict_digest);
				/* Only simulations and replays show verdicts. */
				f->verdict_json = in->keep_verdicts ? pstrdup(vj) : NULL;
			}
			f->vex_override = vd.rule_index >= 0 && cd->nvex > 0 &&
				(strcmp(vd.status, "not_affected") == 0 || strcmp(vd.status, "fixed") == 0);
			if (in->explain)
				f->explain = pstrdup(sp_dsl_explain(policy, &tu,
													psprintf("%s|%s", cd->sbom_id, f->key),
													scratch));
			if (vd.rule_index >= 0)
			{
				out->rules_fired++;
				if (vd.rule_index < out->nrules)
					out->rule_hits[vd.rule_index]++;
			}
			else
				out->rule_hits[out->nrules]++;
			if (f->vex_override)
				out->vex_overrides++;
			out->nfindings++;
		}
		EVP_MD_CTX_free(vmd);
	}

	phase_done("evaluate", &clock);
	sp_progress_set(SP_PROGRESS_TUPLES_DONE, cands.n);
	sp_progress_set(SP_PROGRESS_PHASE, SP_PHASE_HASHING);

	/*
	 * Findings in the order the hash and the writer use: (SBOM id, key) as
	 * bytes.  The scan hands tuples over grouped by SBOM in that order, each
	 * SBOM's by advisory, so only each SBOM's findings are sorted by key
	 * (pointers, then one copy of the structs); a whole sort is kept for
	 * input in any other order.
	 */
	if (out->nfindings > 1)
	{
		bool		grouped = true;
		bool		ordered = true;

		for (int i = 1; i < out->nfindings && grouped; i++)
		{
			const RunFinding *x = &out->findings[i - 1];
			const RunFinding *y = &out->findings[i];
			int			c = x->sbom_id == y->sbom_id ? 0 : strcmp(x->sbom_id, y->sbom_id);

			if (c > 0)
				grouped = false;
			else if (c == 0 && ordered && strcmp(x->key, y->key) > 0)
				ordered = false;
		}
		if (!grouped || !ordered)
		{
			RunFinding **ptrs = palloc_extended(sizeof(RunFinding *) * out->nfindings,
												MCXT_ALLOC_HUGE);
			RunFinding *sorted = palloc_extended(sizeof(RunFinding) * out->nfindings,
												 MCXT_ALLOC_HUGE);

			for (int i = 0; i < out->nfindings; i++)
				ptrs[i] = &out->findings[i];
			if (!grouped)
				qsort(ptrs, out->nfindings, sizeof(RunFinding *), cmp_finding_ptr);
			else
			{
				for (int from = 0, to; from < out->nfindings; from = to)
				{
					for (to = from + 1; to < out->nfindings &&
						 (ptrs[to]->sbom_id == ptrs[from]->sbom_id ||
						  strcmp(ptrs[to]->sbom_id, ptrs[from]->sbom_id) == 0); to++)
						;
					if (to - from > 1)
						qsort(ptrs + from, to - from, sizeof(RunFinding *), cmp_finding_ptr);
				}
			}
			for (int i = 0; i < out->nfindings; i++)
				sorted[i] = *ptrs[i];
			pfree(ptrs);
			pfree(out->findings);
			out->findings = sorted;
		}
	}

	/* The determinism hash. */
	{
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		char		findings_digest[72];
		StringInfoData line;
		StringInfoData doc;
		char	  **list;
		int			nl;
		HASH_SEQ_STATUS hs;

		if (md == NULL || !EVP_DigestInit_ex(md, sp_sha256_md(), NULL))
			elog(ERROR, "could not start SHA-256");
		initStringInfo(&line);
		for (int i = 0; i < out->nfindings; i++)
		{
			/* Hash in large pieces: one update per line costs more. */
			if (line.len >= 65536)
			{
				EVP_DigestUpdate(md, line.data, line.len);
				resetStringInfo(&line);
			}
			hash_line(&line, &out->findings[i]);
		}
		EVP_DigestUpdate(md, line.data, line.len);
		sp_sha256_final_hex(md, findings_digest);
		EVP_MD_CTX_free(md);

		initStringInfo(&doc);
		appendStringInfoString(&doc, "{\"advisories\":");
		list = palloc(sizeof(char *) * (hash_get_num_entries(advs) + 1));
		nl = 0;
		{
			AdvInfo    *a;

			hash_seq_init(&hs, advs);
			while ((a = hash_seq_search(&hs)) != NULL)
				list[nl++] = a->digest;
		}
		json_str_array(&doc, list, sort_unique(list, nl));
		appendStringInfoString(&doc, ",\"engine\":");
		json_str(&doc, SP_ENGINE_VERSION);
		appendStringInfo(&doc, ",\"env\":%s,\"evaluationTime\":", out->env_json);
		json_str(&doc, sp_iso_micros(in->eval_time));
		appendStringInfoString(&doc, ",\"findings\":");
		json_str(&doc, findings_digest);
		appendStringInfoString(&doc, ",\"policy\":");
		json_str(&doc, in->digest);
		/* Keys in byte order: "sbomTags" sorts before "sboms". */
		appendStringInfoString(&doc, ",\"sbomTags\":");
		json_str_array(&doc, sbom_tag_list, sort_unique(sbom_tag_list, n_sbom_tags));
		appendStringInfoString(&doc, ",\"sboms\":");
		list = palloc(sizeof(char *) * Max(in->nsboms, 1));
		memcpy(list, sbom_digests, sizeof(char *) * in->nsboms);	/* keep the pairing */
		json_str_array(&doc, list, sort_unique(list, in->nsboms));
		appendStringInfoString(&doc, ",\"tags\":");
		{
			AdvInfo    *a;
			int			total = 0;

			hash_seq_init(&hs, advs);
			while ((a = hash_seq_search(&hs)) != NULL)
				total += a->ntags;
			list = palloc(sizeof(char *) * (total + 1));
			nl = 0;
			hash_seq_init(&hs, advs);
			while ((a = hash_seq_search(&hs)) != NULL)
				for (int k = 0; k < a->ntags; k++)
					list[nl++] = psprintf("%s:%s", a->advisory_id, a->tags[k]);
		}
		json_str_array(&doc, list, sort_unique(list, nl));
		appendStringInfoString(&doc, ",\"vex\":");
		{
			VexInfo    *x;

			list = palloc(sizeof(char *) * (hash_get_num_entries(vexes) + 1));
			nl = 0;
			hash_seq_init(&hs, vexes);
			while ((x = hash_seq_search(&hs)) != NULL)
				list[nl++] = x->digest;
		}
		json_str_array(&doc, list, sort_unique(list, nl));
		appendStringInfoChar(&doc, '}');
		sp_sha256_hex(doc.data, doc.len, out->hash);
	}
	phase_done("hash", &clock);

	/* The inputs as recorded on the run. */
	{
		StringInfoData buf;

		initStringInfo(&buf);
		appendStringInfoString(&buf, "{\"sbomSet\":[");
		for (int i = 0; i < in->nsboms; i++)
		{
			if (i)
				appendStringInfoChar(&buf, ',');
			appendStringInfoString(&buf, "{\"digest\":");
			json_str(&buf, sbom_digests[i]);
			appendStringInfoString(&buf, ",\"id\":");
			json_str(&buf, in->sbom_ids[i]);
			appendStringInfo(&buf, ",\"revision\":%d}", in->sbom_revisions[i]);
		}
		appendStringInfo(&buf, "],\"advisoryCursor\":" INT64_FORMAT
						 ",\"vexCursor\":" INT64_FORMAT ",\"env\":%s,\"evaluationTime\":",
						 in->adv_cursor, in->vex_cursor, out->env_record);
		json_str(&buf, sp_iso_micros(in->eval_time));
		appendStringInfoChar(&buf, '}');
		out->inputs_json = buf.data;
	}
	elog(DEBUG1, "stellapolicy run memory bytes=%zu tuples=%d",
		 MemoryContextMemAllocated(runcxt, true), cands.n);
}

/* ---------- writing findings ---------- */

/*
 * Text datums of the strings many findings share (SBOM ids, advisory ids,
 * statuses, bands, rule names, rationales), made once per distinct pointer:
 * the evaluator's output shares these pointers, so a small direct-mapped
 * cache keyed by address finds them.  The datums live in the cache's own
 * context.
 */
#define SP_TEXT_CACHE 256

typedef struct TextCache
{
	const char *src[SP_TEXT_CACHE];
	Datum		text[SP_TEXT_CACHE];
	MemoryContext cxt;
} TextCache;

static Datum
cached_text(TextCache *tc, const char *s)
{
	uint32		slot = (uint32) (((uintptr_t) s >> 3) * 2654435761u) % SP_TEXT_CACHE;

	if (tc->src[slot] != s)
	{
		MemoryContext old = MemoryContextSwitchTo(tc->cxt);

		tc->src[slot] = s;
		tc->text[slot] = CStringGetTextDatum(s);
		MemoryContextSwitchTo(old);
	}
	return tc->text[slot];
}

/*
 * Create the policy's partition of effective_finding if it is missing;
 * return its OID.
 */
static Oid
ensure_partition(const char *policy_id)
{
	char		digest[72];
	char		safe[32];
	int			k = 0;
	char	   *name;
	Oid			t[1] = {TEXTOID};
	Datum		v[1];
	int			rc;

	/* A readable, bounded, collision-free name: policy_<clean>_<hash>. */
	for (const char *p = policy_id; *p && k < 24; p++)
		safe[k++] = isalnum((unsigned char) *p) ? pg_ascii_tolower((unsigned char) *p) : '_';
	safe[k] = '\0';
	sp_sha256_hex(policy_id, strlen(policy_id), digest);
	name = psprintf("effective_finding_%s_%.8s", safe, digest + 7);

	v[0] = CStringGetTextDatum(psprintf("stellapolicy partition %s", policy_id));
	rc = SPI_execute_with_args("SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended($1, 11))",
							   1, t, v, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "advisory lock failed");

	/* Already there: nothing to do (and no NOTICE for the caller). */
	v[0] = CStringGetTextDatum(psprintf("stellapolicy.%s", quote_identifier(name)));
	rc = SPI_execute_with_args("SELECT pg_catalog.to_regclass($1) IS NOT NULL", 1, t, v, NULL, true, 1);
	if (rc == SPI_OK_SELECT && SPI_processed == 1 &&
		strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), "t") == 0)
		return get_relname_relid(name, get_namespace_oid("stellapolicy", false));

	/*
	 * Made apart, then attached: CREATE TABLE ... PARTITION OF would lock
	 * the parent ACCESS EXCLUSIVE until this run's transaction ends, holding
	 * up every tenant's readers and runs; ATTACH PARTITION takes SHARE
	 * UPDATE EXCLUSIVE, which neither reads nor writes of the other
	 * partitions conflict with.  The CHECK spares ATTACH its scan and goes
	 * after it.  The key is the partition's own (60_runs.sql says why).
	 */
	{
		const char *qname = quote_identifier(name);
		const char *qpolicy = quote_literal_cstr(policy_id);
		const char *steps[] = {
			psprintf("CREATE TABLE stellapolicy.%s (LIKE stellapolicy.effective_finding "
					 "INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)",
					 qname),
			psprintf("ALTER TABLE stellapolicy.%s ADD CONSTRAINT partition_bound CHECK (policy_id = %s), "
					 "ADD PRIMARY KEY (tenant, policy_id, sbom_id, finding_key)", qname, qpolicy),
			psprintf("ALTER TABLE stellapolicy.effective_finding ATTACH PARTITION stellapolicy.%s "
					 "FOR VALUES IN (%s)", qname, qpolicy),
			psprintf("ALTER TABLE stellapolicy.%s DROP CONSTRAINT partition_bound", qname),
		};

		for (size_t i = 0; i < lengthof(steps); i++)
		{
			rc = SPI_execute(steps[i], false, 0);
			if (rc != SPI_OK_UTILITY)
				elog(ERROR, "could not create the findings partition: %s", SPI_result_code_string(rc));
		}
	}
	return get_relname_relid(name, get_namespace_oid("stellapolicy", false));
}

/*
 * Insert new findings straight into the policy's partition, the way COPY
 * does (table_multi_insert, then the indexes), but from values rather than
 * text: this is the bulk of a first full run.  NOT NULL and CHECK
 * constraints are enforced (ExecConstraints) and a duplicate key fails as
 * it would in SQL.  Returns false, having written nothing, when the
 * partition has insert triggers, so that the caller uses SQL instead.
 */
static bool
insert_direct(Oid partoid, const RunInput *in, RunFinding **rows, int n,
			  const char *run_id)
{
	Relation	rel = table_open(partoid, RowExclusiveLock);
	TupleDesc	td = RelationGetDescr(rel);
	EState	   *estate;
	ResultRelInfo *rri;
	BulkInsertState bis;
	CommandId	cid = GetCurrentCommandId(true);
	TupleTableSlot *slots[1000];
	MemoryContext chunkcxt;
	MemoryContext old;
	TimestampTz seen = in->eval_time - SP_UNIX_EPOCH_OFFSET;
	static const char *names[] = {"tenant", "policy_id", "sbom_id", "finding_key",
		"component_purl", "advisory_id", "status", "severity_band", "score", "quiet",
		"quiet_until", "rule_name", "rationale", "policy_version", "annotations",
		"warnings", "run_id", "first_seen", "last_seen", "verdict_digest", NULL};
	AttrNumber	att[20];
	Datum		c_tenant = CStringGetTextDatum(in->tenant);
	Datum		c_policy = CStringGetTextDatum(in->policy_id);
	Datum		c_run = CStringGetTextDatum(run_id);
	Datum		empty_object = DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
	Datum		empty_array = DirectFunctionCall1(jsonb_in, CStringGetDatum("[]"));
	TextCache  *tc = palloc0(sizeof(TextCache));

	if (rel->trigdesc != NULL &&
		(rel->trigdesc->trig_insert_before_row || rel->trigdesc->trig_insert_after_row ||
		 rel->trigdesc->trig_insert_instead_row || rel->trigdesc->trig_insert_before_statement ||
		 rel->trigdesc->trig_insert_after_statement))
	{
		table_close(rel, RowExclusiveLock);
		return false;
	}
	for (int k = 0; names[k]; k++)
	{
		att[k] = get_attnum(partoid, names[k]);
		if (att[k] == InvalidAttrNumber)
			elog(ERROR, "findings partition has no column \"%s\"", names[k]);
	}

	/*
	 * An executor state with a range table entry for the partition: the
	 * constraint checks describe a failing row through it.
	 */
	estate = CreateExecutorState();
	{
		RangeTblEntry *rte = makeNode(RangeTblEntry);

		rte->rtekind = RTE_RELATION;
		rte->relid = partoid;
		rte->relkind = rel->rd_rel->relkind;
		rte->rellockmode = RowExclusiveLock;
		rte->requiredPerms = ACL_INSERT;
		ExecInitRangeTable(estate, list_make1(rte));
	}
	rri = makeNode(ResultRelInfo);
	InitResultRelInfo(rri, rel, 1, NULL, 0);
	ExecOpenIndices(rri, false);
	bis = GetBulkInsertState();
	chunkcxt = AllocSetContextCreate(CurrentMemoryContext, "findings insert",
									 ALLOCSET_DEFAULT_SIZES);
	tc->cxt = CurrentMemoryContext;
	for (int k = 0; k < (int) lengthof(slots); k++)
		slots[k] = MakeSingleTupleTableSlot(td, &TTSOpsVirtual);

	for (int start = 0; start < n; start += lengthof(slots))
	{
		int			cnt = Min((int) lengthof(slots), n - start);

		sp_run_checkpoint();
		old = MemoryContextSwitchTo(chunkcxt);
		for (int k = 0; k < cnt; k++)
		{
			RunFinding *f = rows[start + k];
			TupleTableSlot *sl = slots[k];
			Datum	   *v = sl->tts_values;
			bool	   *nl = sl->tts_isnull;

			ExecClearTuple(sl);
			memset(nl, true, sizeof(bool) * td->natts);
#define SET(i, d) (v[att[i] - 1] = (d), nl[att[i] - 1] = false)
			SET(0, c_tenant);
			SET(1, c_policy);
			SET(2, cached_text(tc, f->sbom_id));
			SET(3, CStringGetTextDatum(f->key));
			SET(4, CStringGetTextDatum(f->purl));
			SET(5, cached_text(tc, f->advisory_id));
			SET(6, cached_text(tc, f->status));
			SET(7, cached_text(tc, sp_band_name(f->band)));
			SET(8, NumericGetDatum(int64_div_fast_to_numeric(f->score, 3)));
			SET(9, BoolGetDatum(f->quiet));
			if (f->has_quiet_until)
				SET(10, TimestampTzGetDatum(f->quiet_until -
											SP_UNIX_EPOCH_OFFSET));
			if (f->rule)
				SET(11, cached_text(tc, f->rule));
			if (f->rationale)
				SET(12, cached_text(tc, f->rationale));
			SET(13, Int32GetDatum(in->version));
			SET(14, strcmp(f->annotations, "{}") == 0 ? empty_object
				: DirectFunctionCall1(jsonb_in, CStringGetDatum(f->annotations)));
			SET(15, strcmp(f->warnings, "[]") == 0 ? empty_array
				: DirectFunctionCall1(jsonb_in, CStringGetDatum(f->warnings)));
			SET(16, c_run);
			SET(17, TimestampTzGetDatum(seen));
			SET(18, TimestampTzGetDatum(seen));
			SET(19, CStringGetTextDatum(f->verdict_digest));
#undef SET
			ExecStoreVirtualTuple(sl);
			ExecConstraints(rri, sl, estate);
		}
		table_multi_insert(rel, slots, cnt, cid, 0, bis);
		sp_progress_set(SP_PROGRESS_FINDINGS_DONE, start + cnt);
		for (int k = 0; k < cnt; k++)
		{
			List	   *recheck = ExecInsertIndexTuples(rri, slots[k], estate,
														 false, false, NULL, NIL);

			list_free(recheck);
			ResetPerTupleExprContext(estate);
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(chunkcxt);
	}

	for (int k = 0; k < (int) lengthof(slots); k++)
		ExecDropSingleTupleTableSlot(slots[k]);
	FreeBulkInsertState(bis);
	ExecCloseIndices(rri);
	FreeExecutorState(estate);
	MemoryContextDelete(chunkcxt);
	table_close(rel, NoLock);
	return true;
}

typedef struct WriteBatch
{
	int			n;
	int			max;
	char	  **cols[14];
} WriteBatch;

static void
batch_add(WriteBatch *b, const RunFinding *f, const char *score)
{
	if (b->n == b->max)
	{
		b->max = b->max ? b->max * 2 : 1024;
		for (int k = 0; k < 14; k++)
			b->cols[k] = b->cols[k] ? repalloc(b->cols[k], sizeof(char *) * b->max)
				: palloc(sizeof(char *) * b->max);
	}
	b->cols[0][b->n] = f->sbom_id;
	b->cols[1][b->n] = f->key;
	b->cols[2][b->n] = f->purl;
	b->cols[3][b->n] = f->advisory_id;
	b->cols[4][b->n] = (char *) f->status;
	b->cols[5][b->n] = (char *) sp_band_name(f->band);
	b->cols[6][b->n] = (char *) score;
	b->cols[7][b->n] = f->quiet ? "t" : "f";
	b->cols[8][b->n] = f->has_quiet_until ? psprintf(INT64_FORMAT, f->quiet_until) : NULL;
	b->cols[9][b->n] = (char *) f->rule;
	b->cols[10][b->n] = (char *) f->rationale;
	b->cols[11][b->n] = f->annotations;
	b->cols[12][b->n] = f->warnings;
	b->cols[13][b->n] = (char *) f->verdict_digest;
	b->n++;
}

/* Run one batch statement over the batch's columns. */
static void
batch_flush(WriteBatch *b, const char *sql, const RunInput *in, const char *run_id)
{
	Oid			t[19];
	Datum		v[19];
	int			rc;

	if (b->n == 0)
		return;
	t[0] = TEXTOID;
	v[0] = CStringGetTextDatum(in->tenant);
	t[1] = TEXTOID;
	v[1] = CStringGetTextDatum(in->policy_id);
	t[2] = INT4OID;
	v[2] = Int32GetDatum(in->version);
	t[3] = TEXTOID;
	v[3] = CStringGetTextDatum(run_id);
	t[4] = INT8OID;
	v[4] = Int64GetDatum(in->eval_time);
	for (int k = 0; k < 14; k++)
	{
		t[5 + k] = TEXTARRAYOID;
		v[5 + k] = sp_text_array(b->cols[k], b->n);
	}
	rc = SPI_execute_with_args(sql, 19, t, v, NULL, false, 0);
	if (rc < 0)
		elog(ERROR, "writing findings failed: %s", SPI_result_code_string(rc));
	b->n = 0;
}

#define UNNEST_FINDINGS \
	"unnest($6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], " \
	"       $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], " \
	"       $18::text[], $19::text[]) " \
	"  AS u(sbom_id, finding_key, purl, advisory_id, status, band, score, quiet, " \
	"       quiet_until, rule_name, rationale, annotations, warnings, verdict_digest)"

#define EPOCH_TS(x) "(timestamptz 'epoch' + (" x ")::bigint * interval '1 microsecond')"

static const char *insert_sql =
"INSERT INTO stellapolicy.effective_finding (tenant, policy_id, sbom_id, finding_key, "
"  component_purl, advisory_id, status, severity_band, score, quiet, quiet_until, rule_name, "
"  rationale, policy_version, annotations, warnings, run_id, first_seen, last_seen, verdict_digest) "
"SELECT $1, $2, u.sbom_id, u.finding_key, u.purl, u.advisory_id, u.status, u.band, "
"  u.score::numeric, u.quiet::boolean, " EPOCH_TS("u.quiet_until") ", u.rule_name, u.rationale, $3, "
"  u.annotations::jsonb, u.warnings::jsonb, $4, " EPOCH_TS("$5") ", " EPOCH_TS("$5") ", u.verdict_digest "
"FROM " UNNEST_FINDINGS;

static const char *update_sql =
"UPDATE stellapolicy.effective_finding f SET status = u.status, severity_band = u.band, "
"  score = u.score::numeric, quiet = u.quiet::boolean, quiet_until = " EPOCH_TS("u.quiet_until") ", "
"  rule_name = u.rule_name, rationale = u.rationale, policy_version = $3, "
"  annotations = u.annotations::jsonb, warnings = u.warnings::jsonb, run_id = $4, "
"  last_seen = " EPOCH_TS("$5") ", verdict_digest = u.verdict_digest "
"FROM " UNNEST_FINDINGS " "
"WHERE f.tenant = $1 AND f.policy_id = $2 AND f.sbom_id = u.sbom_id AND f.finding_key = u.finding_key";

static const char *delete_sql =
"DELETE FROM stellapolicy.effective_finding f "
"USING " UNNEST_FINDINGS " "
"WHERE f.tenant = $1 AND f.policy_id = $2 AND f.sbom_id = u.sbom_id AND f.finding_key = u.finding_key "
"  AND $3 IS NOT NULL AND $4 IS NOT NULL AND $5 IS NOT NULL";

/*
 * Compare findings by (SBOM id, finding key), bytewise: the order findings
 * are hashed, stored and merged in.
 */
int
sp_finding_key_cmp(const char *s1, const char *k1,
				   const char *s2, const char *k2)
{
	int			c = strcmp(s1, s2);

	return c ? c : strcmp(k1, k2);
}

void
sp_run_write(const RunInput *in, RunOutput *out, const char *run_id)
{
	Oid			t[3] = {TEXTOID, TEXTOID, TEXTARRAYOID};
	Datum		v[3];
	char		n[3] = {' ', ' ', ' '};
	WriteBatch	ins = {0};
	RunFinding **newrows = palloc(sizeof(RunFinding *) * Max(out->nfindings, 1));
	int			nnew = 0;
	Oid			partoid;
	WriteBatch	upd = {0};
	WriteBatch	del = {0};
	int			batch_size = Max(sp_batch_size, 1);
	int			i = 0;
	int			rows;
	SPITupleTable *tt;
	int			rc;
	instr_time	clock;

	INSTR_TIME_SET_CURRENT(clock);
	sp_progress_set(SP_PROGRESS_PHASE, SP_PHASE_MERGING);
	partoid = ensure_partition(in->policy_id);

	/* The history trigger names this run as the one that changed rows. */
	v[0] = CStringGetTextDatum(run_id);
	rc = SPI_execute_with_args("SELECT pg_catalog.set_config('stellapolicy.run_id', $1, true)",
							   1, t, v, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "set_config failed");

	/* The stored findings this run answers for, in the same order. */
	v[0] = CStringGetTextDatum(in->tenant);
	v[1] = CStringGetTextDatum(in->policy_id);
	v[2] = sp_text_array(in->sbom_ids, in->nsboms);
	if (in->scoped)
	{
		/*
		 * A scoped run answers for the findings of its SBOMs, and for those
		 * of its advisories in the SBOMs it read.
		 */
		Oid			ts[5] = {TEXTOID, TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
		Datum		vs[5] = {v[0], v[1], v[2],
			sp_text_array(in->scope_sboms, in->n_scope_sboms),
		sp_text_array(in->scope_advs, in->n_scope_advs)};

		rows = run_query("SELECT sbom_id, finding_key, verdict_digest, policy_version FROM stellapolicy.effective_finding "
						 "WHERE tenant = $1 AND policy_id = $2 "
						 "  AND (sbom_id = ANY ($4) OR (advisory_id = ANY ($5) AND sbom_id = ANY ($3))) "
						 "ORDER BY sbom_id COLLATE \"C\", finding_key COLLATE \"C\"",
						 5, ts, vs, NULL);
	}
	else
		rows = run_query(in->all_sboms
					 ? "SELECT sbom_id, finding_key, verdict_digest, policy_version FROM stellapolicy.effective_finding "
					 "WHERE tenant = $1 AND policy_id = $2 AND $3::text[] IS NOT NULL "
					 "ORDER BY sbom_id COLLATE \"C\", finding_key COLLATE \"C\""
					 : "SELECT sbom_id, finding_key, verdict_digest, policy_version FROM stellapolicy.effective_finding "
					 "WHERE tenant = $1 AND policy_id = $2 AND sbom_id = ANY ($3) "
					 "ORDER BY sbom_id COLLATE \"C\", finding_key COLLATE \"C\"",
					 3, t, v, n);
	tt = SPI_tuptable;

	/* A canceled run stops here at the latest, before it writes anything. */
	sp_run_checkpoint();

	/* Merge: new, changed, unchanged, removed. */
	{
		int			j = 0;

		while (i < out->nfindings || j < rows)
		{
			RunFinding *f = i < out->nfindings ? &out->findings[i] : NULL;
			char	   *es = j < rows ? SPI_getvalue(tt->vals[j], tt->tupdesc, 1) : NULL;
			char	   *ek = j < rows ? SPI_getvalue(tt->vals[j], tt->tupdesc, 2) : NULL;
			int			c;

			if (f == NULL)
				c = 1;
			else if (es == NULL)
				c = -1;
			else
				c = sp_finding_key_cmp(f->sbom_id, f->key, es, ek);

			if (c < 0)
			{
				newrows[nnew++] = f;
				out->written++;
				i++;
			}
			else if (c > 0)
			{
				RunFinding	gone = {0};

				gone.sbom_id = pstrdup(es);
				gone.key = pstrdup(ek);
				gone.purl = gone.key;
				gone.advisory_id = gone.key;
				gone.status = "";
				gone.annotations = "{}";
				gone.warnings = "[]";
				batch_add(&del, &gone, "0");
				out->removed++;
				j++;
			}
			else
			{
				bool		vnull;
				int32		stored_version = DatumGetInt32(SPI_getbinval(tt->vals[j], tt->tupdesc,
																	 4, &vnull));

				/* Changed: another verdict, or the same one from another version. */
				if (strcmp(f->verdict_digest, SPI_getvalue(tt->vals[j], tt->tupdesc, 3)) != 0 ||
					stored_version != in->version)
				{
					batch_add(&upd, f, psprintf("%d.%03d", f->score / 1000, f->score % 1000));
					out->written++;
					out->changed++;
				}
				i++;
				j++;
			}
		}
	}

	phase_done("merge", &clock);
	sp_progress_set(SP_PROGRESS_FINDINGS_TOTAL, nnew + upd.n + del.n);
	sp_progress_set(SP_PROGRESS_PHASE, SP_PHASE_WRITING);

	/* New findings go in like COPY; SQL only if the partition has triggers. */
	if (nnew > 0 && !insert_direct(partoid, in, newrows, nnew, run_id))
		for (int k = 0; k < nnew; k++)
			batch_add(&ins, newrows[k], psprintf("%d.%03d", newrows[k]->score / 1000,
												 newrows[k]->score % 1000));

	/* Changes and removals in batches of stellapolicy.batch_size rows. */
	{
		WriteBatch *bs[3] = {&del, &upd, &ins};
		const char *sqls[3] = {delete_sql, update_sql, insert_sql};

		for (int b = 0; b < 3; b++)
		{
			WriteBatch *w = bs[b];
			int			total = w->n;

			for (int start = 0; start < total; start += batch_size)
			{
				WriteBatch	part;
				int			cnt = Min(batch_size, total - start);

				part.n = cnt;
				part.max = cnt;
				for (int k = 0; k < 14; k++)
					part.cols[k] = w->cols[k] + start;
				sp_run_checkpoint();
				batch_flush(&part, sqls[b], in, run_id);
			}
		}
	}

	phase_done("write", &clock);
	sp_progress_set(SP_PROGRESS_FINDINGS_DONE, nnew + upd.n + del.n);
	if (in->explain)
		sp_progress_set(SP_PROGRESS_PHASE, SP_PHASE_WRITING_EXPLAIN);

	/* Explain traces. */
	if (in->explain)
	{
		char	  **sb = palloc(sizeof(char *) * Max(out->nfindings, 1));
		char	  **fk = palloc(sizeof(char *) * Max(out->nfindings, 1));
		char	  **tr = palloc(sizeof(char *) * Max(out->nfindings, 1));
		Oid			te[5] = {TEXTOID, TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
		Datum		ve[5];

		for (int k = 0; k < out->nfindings; k += batch_size)
		{
			int			cnt = Min(batch_size, out->nfindings - k);

			for (int m = 0; m < cnt; m++)
			{
				sb[m] = out->findings[k + m].sbom_id;
				fk[m] = out->findings[k + m].key;
				tr[m] = out->findings[k + m].explain;
			}
			ve[0] = CStringGetTextDatum(in->tenant);
			ve[1] = CStringGetTextDatum(run_id);
			ve[2] = sp_text_array(sb, cnt);
			ve[3] = sp_text_array(fk, cnt);
			ve[4] = sp_text_array(tr, cnt);
			rc = SPI_execute_with_args("INSERT INTO stellapolicy.policy_explain (tenant, run_id, sbom_id, finding_key, trace) "
									   "SELECT $1, $2, s, k, t::jsonb FROM unnest($3::text[], $4::text[], $5::text[]) AS x(s, k, t)",
									   5, te, ve, NULL, false, 0);
			if (rc != SPI_OK_INSERT)
				elog(ERROR, "writing explain traces failed: %s", SPI_result_code_string(rc));
		}
	}
}
