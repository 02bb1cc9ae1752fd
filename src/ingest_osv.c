/*-------------------------------------------------------------------------
 *
 * ingest_osv.c
 *	  stellapolicy.advisory_ingest: OSV documents into advisory_raw and
 *	  advisory_affected.
 *
 * advisory_raw is append-only.  Each OSV record is stored once per distinct
 * content (the SHA-256 of its canonical JSON); a record whose id is already
 * known with other content is a new revision that points at the revision it
 * supersedes (the newest earlier arrival of that id).  Each affected[] entry
 * of a revision becomes one advisory_affected row, with its ranges kept as
 * written and the key that matching joins on.  An array of records is
 * ingested all or nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "ingest.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/memutils.h"

#include "arena.h"
#include "matchkey.h"
#include "osvrange.h"
#include "stellapolicy.h"

PG_FUNCTION_INFO_V1(stellapolicy_advisory_ingest);

/* Check an optional timestamp member; return it or NULL. */
static const char *
osv_time(const SpDocument *doc, json_t *obj, const char *key, SpPath *path,
		 bool required, TimestampTz *ts)
{
	const char *s = sp_get_string(doc, obj, key, path, required);

	if (s != NULL && !sp_parse_timestamptz(s, ts))
	{
		sp_path_key(path, key);
		sp_doc_error(doc, ERRCODE_INVALID_DATETIME_FORMAT, path,
					 "\"%s\" is not an RFC 3339 timestamp", s);
	}
	return s;
}

/* Every element of an optional array member must be a string. */
static char **
osv_strings(const SpDocument *doc, json_t *obj, const char *key, SpPath *path,
			int *n)
{
	json_t	   *a = sp_get_array(doc, obj, key, path, false);
	char	  **out;
	size_t		i;
	json_t	   *v;
	int			old;

	*n = 0;
	if (a == NULL)
		return NULL;
	out = palloc0(sizeof(char *) * (json_array_size(a) + 1));
	old = sp_path_key(path, key);
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v) || json_string_length(v) == 0 ||
			strlen(json_string_value(v)) != json_string_length(v))
		{
			sp_path_index(path, i);
			sp_doc_error(doc, ERRCODE_INVALID_PARAMETER_VALUE, path,
						 "expected a non-empty string");
		}
		out[(*n)++] = pstrdup(json_string_value(v));
	}
	sp_path_restore(path, old);
	return out;
}

/* Validate one range: a known type and well-formed events. */
static int
osv_check_ranges(const SpDocument *doc, json_t *ranges, SpPath *path)
{
	size_t		i;
	json_t	   *r;

	json_array_foreach(ranges, i, r)
	{
		int			old = sp_path_index(path, i);
		const char *type;
		json_t	   *events;
		size_t		j;
		json_t	   *ev;

		if (!json_is_object(r))
			sp_doc_error(doc, ERRCODE_INVALID_PARAMETER_VALUE, path, "expected a range object");
		type = sp_get_string(doc, r, "type", path, true);
		if (strcmp(type, "SEMVER") != 0 && strcmp(type, "ECOSYSTEM") != 0 &&
			strcmp(type, "GIT") != 0)
		{
			sp_path_key(path, "type");
			sp_doc_error(doc, ERRCODE_INVALID_PARAMETER_VALUE, path,
						 "unknown range type \"%s\" (expected SEMVER, ECOSYSTEM or GIT)", type);
		}
		if (strcmp(type, "GIT") == 0)
			sp_get_string(doc, r, "repo", path, true);
		events = sp_get_array(doc, r, "events", path, true);
		if (json_array_size(events) == 0)
		{
			sp_path_key(path, "events");
			sp_doc_error(doc, ERRCODE_INVALID_PARAMETER_VALUE, path,
						 "a range needs at least one event");
		}
		sp_path_key(path, "events");
		json_array_foreach(events, j, ev)
		{
			int			o2 = sp_path_index(path, j);
			const char *k;
			json_t	   *v;
			int			nkeys = 0;

			if (!json_is_object(ev))
				sp_doc_error(doc, ERRCODE_INVALID_PARAMETER_VALUE, path, "expected an event object");
			json_object_foreach(ev, k, v)
			{
				if (strcmp(k, "introduced") != 0 && strcmp(k, "fixed") != 0 &&
					strcmp(k, "last_affected") != 0 && strcmp(k, "limit") != 0)
				{
					sp_path_key(path, k);
					sp_doc_error(doc, ERRCODE_INVALID_PARAMETER_VALUE, path,
								 "unknown event \"%s\"", k);
				}
				if (!json_is_string(v) || json_string_length(v) == 0)
				{
					sp_path_key(path, k);
					sp_doc_error(doc, ERRCODE_INVALID_PARAMETER_VALUE, path,
								 "an event version must be a non-empty string");
				}
				nkeys++;
			}
			if (nkeys != 1)
				sp_doc_error(doc, ERRCODE_INVALID_PARAMETER_VALUE, path,
							 "an event must have exactly one of introduced, fixed, last_affected, limit");
			sp_path_restore(path, o2);
		}
		sp_path_restore(path, old);
	}
	return (int) json_array_size(ranges);
}

/* Store one OSV record; return 1 when it was new, 0 when already stored. */
static int
osv_ingest_one(const SpDocument *outer, json_t *rec, SpPath *path,
			   const char *tenant, const char *given_source)
{
	SpDocument	doc = *outer;
	const char *id;
	const char *modified;
	TimestampTz ts_modified = 0,
				ts_published = 0,
				ts_withdrawn = 0;
	const char *published;
	const char *withdrawn;
	const char *summary;
	const char *sevword = NULL;
	const char *source;
	char	  **aliases;
	int			naliases;
	json_t	   *severity;
	json_t	   *affected;
	json_t	   *dbs;
	char		digest[72];
	char	   *rec_text;
	Oid			t[14];
	Datum		v[14];
	char		n[14];
	int			rc;
	int64		revision_id;
	bool		isnull;
	size_t		i;
	json_t	   *aff;

	if (!json_is_object(rec))
		sp_doc_error(&doc, ERRCODE_INVALID_PARAMETER_VALUE, path, "expected an OSV object");

	/* Check everything first. */
	id = sp_get_string(&doc, rec, "id", path, true);
	if (strlen(id) > 200)
		sp_doc_error(&doc, ERRCODE_INVALID_PARAMETER_VALUE, path, "id is longer than 200 bytes");
	modified = osv_time(&doc, rec, "modified", path, true, &ts_modified);
	published = osv_time(&doc, rec, "published", path, false, &ts_published);
	withdrawn = osv_time(&doc, rec, "withdrawn", path, false, &ts_withdrawn);
	summary = sp_get_string(&doc, rec, "summary", path, false);
	aliases = osv_strings(&doc, rec, "aliases", path, &naliases);
	severity = sp_get_array(&doc, rec, "severity", path, false);
	if (severity != NULL)
	{
		json_t	   *s;
		int			old = sp_path_key(path, "severity");

		json_array_foreach(severity, i, s)
		{
			int			o2 = sp_path_index(path, i);

			sp_get_string(&doc, s, "type", path, true);
			sp_get_string(&doc, s, "score", path, true);
			sp_path_restore(path, o2);
		}
		sp_path_restore(path, old);
	}
	dbs = sp_get_object(&doc, rec, "database_specific", path, false);
	if (dbs != NULL && json_is_string(json_object_get(dbs, "severity")))
		sevword = json_string_value(json_object_get(dbs, "severity"));

	affected = sp_get_array(&doc, rec, "affected", path, false);
	if (affected != NULL)
	{
		int			old = sp_path_key(path, "affected");

		json_array_foreach(affected, i, aff)
		{
			int			o2 = sp_path_index(path, i);
			json_t	   *pkg;
			json_t	   *ranges;
			int			nv;

			if (!json_is_object(aff))
				sp_doc_error(&doc, ERRCODE_INVALID_PARAMETER_VALUE, path, "expected an object");
			pkg = sp_get_object(&doc, aff, "package", path, false);
			if (pkg != NULL)
			{
				int			o3 = sp_path_key(path, "package");
				const char *purl;

				sp_get_string(&doc, pkg, "ecosystem", path, true);
				sp_get_string(&doc, pkg, "name", path, true);
				purl = sp_get_string(&doc, pkg, "purl", path, false);
				if (purl != NULL)
				{
					int			o4 = sp_path_key(path, "purl");

					sp_canonical_purl_at(&doc, purl, path, NULL, NULL, NULL,
										 NULL, NULL, NULL, NULL);
					sp_path_restore(path, o4);
				}
				sp_path_restore(path, o3);
			}
			ranges = sp_get_array(&doc, aff, "ranges", path, false);
			if (ranges != NULL)
			{
				int			o3 = sp_path_key(path, "ranges");

				osv_check_ranges(&doc, ranges, path);
				sp_path_restore(path, o3);
			}
			osv_strings(&doc, aff, "versions", path, &nv);

			/*
			 * Every bound must parse with its ecosystem's scheme: a bound
			 * that does not would make the range meaningless, so the record
			 * is refused rather than partly matched.
			 */
			{
				SpArena    *arena = sp_arena_create_with(palloc, pfree);
				SpOsvAffected parsed;
				char		err[512];

				if (sp_affected_from_json(aff, "affected", arena, &parsed,
										  err, sizeof(err)) != 0)
					sp_doc_error(&doc, ERRCODE_INVALID_PARAMETER_VALUE, path,
								 "%s", err);
				sp_arena_destroy(arena);
			}
			sp_path_restore(path, o2);
		}
		sp_path_restore(path, old);
	}

	/* The feed: as given, else the id's prefix before the first '-'. */
	if (given_source != NULL)
		source = given_source;
	else
	{
		const char *dash = strchr(id, '-');

		source = dash ? pnstrdup(id, dash - id) : id;
	}

	sp_canonical_digest(rec, digest);
	rec_text = json_dumps(rec, JSON_COMPACT);

	/*
	 * Already stored with this content: nothing to do.  Two sessions that
	 * ingest one id at once take turns (a lock on tenant and id), so the
	 * second sees the first's row instead of failing on the unique key.
	 */
	t[0] = TEXTOID;
	t[1] = TEXTOID;
	t[2] = TEXTOID;
	v[0] = sp_cstring_text(psprintf("%s\x1f%s", tenant, id));
	rc = SPI_execute_with_args("SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended($1, 29))",
							   1, t, v, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "advisory lock failed");
	v[0] = sp_cstring_text(tenant);
	v[1] = sp_cstring_text(id);
	v[2] = sp_cstring_text(digest);
	rc = SPI_execute_with_args("SELECT 1 FROM stellapolicy.advisory_raw "
							   "WHERE tenant = $1 AND advisory_id = $2 AND content_digest = $3",
							   3, t, v, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "advisory lookup failed");
	if (SPI_processed > 0)
		return 0;

	/* The revision row, superseding the newest earlier arrival of the id. */
	{
		Oid			ta[13] = {TEXTOID, TEXTOID, TEXTOID, TEXTARRAYOID, TEXTOID,
			TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, TEXTOID,
		TEXTOID, TEXTOID, TEXTOID};

		memset(n, ' ', sizeof(n));
		v[0] = sp_cstring_text(tenant);
		v[1] = sp_cstring_text(id);
		v[2] = sp_cstring_text(source);
		v[3] = sp_text_array(aliases, naliases);
		v[4] = sp_cstring_text(sp_get_string(&doc, rec, "schema_version", path, false) ?
							   sp_get_string(&doc, rec, "schema_version", path, false) : "");
		if (sp_get_string(&doc, rec, "schema_version", path, false) == NULL)
			n[4] = 'n';
		(void) modified;
		v[5] = TimestampTzGetDatum(ts_modified);
		v[6] = TimestampTzGetDatum(ts_published);
		if (!published)
			n[6] = 'n';
		v[7] = TimestampTzGetDatum(ts_withdrawn);
		if (!withdrawn)
			n[7] = 'n';
		if (summary)
			v[8] = sp_cstring_text(summary);
		else
			n[8] = 'n';
		{
			char	   *sev = json_dumps(severity ? severity : json_array(), JSON_COMPACT);

			v[9] = sp_cstring_text(sev);
		}
		if (sevword)
			v[10] = sp_cstring_text(sevword);
		else
			n[10] = 'n';
		v[11] = sp_cstring_text(digest);
		v[12] = sp_cstring_text(rec_text);

		rc = SPI_execute_with_args(
								   "INSERT INTO stellapolicy.advisory_raw (tenant, advisory_id, source, "
								   "  aliases, schema_version, modified, published, withdrawn, summary, "
								   "  severity, severity_word, content_digest, document, supersedes) "
								   "VALUES ($1, $2, $3, $4, $5, $6, $7, "
								   "  $8, $9, $10::jsonb, $11, $12, $13::jsonb, "
								   "  (SELECT revision_id FROM stellapolicy.advisory_raw p "
								   "   WHERE p.tenant = $1 AND p.advisory_id = $2 "
								   "   ORDER BY p.change_seq DESC LIMIT 1)) "
								   "RETURNING revision_id",
								   13, ta, v, n, false, 1);
		if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
			elog(ERROR, "advisory insert failed");
		revision_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												  SPI_tuptable->tupdesc, 1, &isnull));
	}

	/* One row per affected[] entry. */
	if (affected != NULL)
	{
		static const char *sql =
		"INSERT INTO stellapolicy.advisory_affected (tenant, revision_id, entry, "
		"  ecosystem, base_ecosystem, release, package, match_package, package_purl, "
		"  ranges, versions, range_count) "
		"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12)";
		Oid			ta[12] = {TEXTOID, INT8OID, INT4OID, TEXTOID, TEXTOID, TEXTOID,
			TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTARRAYOID, INT4OID};
		SPIPlanPtr	plan = sp_spi_prepare(sql, 12, ta);

		json_array_foreach(affected, i, aff)
		{
			json_t	   *pkg = json_object_get(aff, "package");
			json_t	   *ranges = json_object_get(aff, "ranges");
			const char *eco = NULL;
			const char *name = NULL;
			const char *purl = NULL;
			char	  **versions;
			int			nv;
			SpMatchKey	key = {0};
			char	   *rtext;

			if (json_is_object(pkg))
			{
				eco = json_string_value(json_object_get(pkg, "ecosystem"));
				name = json_string_value(json_object_get(pkg, "name"));
				purl = json_string_value(json_object_get(pkg, "purl"));
				sp_advisory_match_key(eco, name, &key);
			}
			versions = osv_strings(&doc, aff, "versions", path, &nv);
			rtext = json_dumps(json_is_array(ranges) ? ranges : json_array(), JSON_COMPACT);

			memset(n, ' ', sizeof(n));
			v[0] = sp_cstring_text(tenant);
			v[1] = Int64GetDatum(revision_id);
			v[2] = Int32GetDatum((int) i);
#define OPT(k, s) do { if (s) v[k] = sp_cstring_text(s); else n[k] = 'n'; } while (0)
			OPT(3, eco);
			OPT(4, key.ecosystem);
			OPT(5, key.release);
			OPT(6, name);
			OPT(7, key.package);
			if (purl)
				v[8] = sp_cstring_text(sp_canonical_purl_at(&doc, purl, path, NULL, NULL,
															NULL, NULL, NULL, NULL, NULL));
			else
				n[8] = 'n';
#undef OPT
			v[9] = sp_cstring_text(rtext);
			v[10] = sp_text_array(versions, nv);
			v[11] = Int32GetDatum(json_is_array(ranges) ? (int) json_array_size(ranges) : 0);
			sp_spi_exec(plan, v, n, 1);
		}
	}
	return 1;
}

/*
 * SQL: stellapolicy.advisory_ingest(document text, source text) RETURNS integer
 */
Datum
stellapolicy_advisory_ingest(PG_FUNCTION_ARGS)
{
	text	   *doctext;
	const char *tenant;
	const char *source = NULL;
	SpDocument	doc;
	SpPath		path;
	int			stored = 0;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("OSV document must not be null")));
	doctext = PG_GETARG_TEXT_PP(0);
	if (!PG_ARGISNULL(1))
	{
		source = sp_text_cstring(PG_GETARG_DATUM(1));
		if (source[0] == '\0' || strlen(source) > 100)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid advisory source \"%s\"", source),
					 errdetail("A source name must be 1 to 100 bytes long.")));
	}
	tenant = sp_current_tenant();
	sp_document_load(&doc, VARDATA_ANY(doctext), VARSIZE_ANY_EXHDR(doctext),
					 "OSV document");
	sp_path_init(&path);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	if (json_is_array(doc.root))
	{
		size_t		i;
		json_t	   *rec;

		if (json_array_size(doc.root) == 0)
			sp_doc_error(&doc, ERRCODE_INVALID_PARAMETER_VALUE, &path,
						 "the array holds no OSV records");
		json_array_foreach(doc.root, i, rec)
		{
			int			old = sp_path_index(&path, i);

			stored += osv_ingest_one(&doc, rec, &path, tenant, source);
			sp_path_restore(&path, old);
		}
	}
	else
		stored = osv_ingest_one(&doc, doc.root, &path, tenant, source);

	SPI_finish();
	sp_document_free(&doc);
	PG_RETURN_INT32(stored);
}
