/*-------------------------------------------------------------------------
 *
 * ingest_common.c
 *	  JSON loading, canonical digests, JSON-path errors and purl checks
 *	  shared by the SBOM, OSV and VEX ingestion code.
 *
 * Documents are parsed with jansson, whose allocations are routed to palloc
 * so that an ERROR anywhere in ingestion leaks nothing.  A document is
 * refused whole: every check runs before the first INSERT, and the INSERTs
 * of one call share the caller's transaction, so a late failure leaves no
 * row behind either.
 *
 *-------------------------------------------------------------------------
 */
#include "ingest.h"

#include <openssl/evp.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "arena.h"
#include "purl.h"
#include "stellapolicy.h"

/*
 * jansson allocates through these, so its memory belongs to a context.
 * While a document is parsed the allocations are counted against a budget:
 * a document of many tiny values (say 64 MB of "{}," ) takes a hundred times
 * its size as a tree, and would otherwise run the server out of memory
 * before any field is checked.  Past the budget jansson gets NULL, which it
 * reports as out of memory.
 */
static size_t json_budget = 0;	/* 0: not parsing, no budget */
static size_t json_used = 0;
static bool json_over_budget = false;

static void *
json_palloc(size_t size)
{
	if (json_budget != 0)
	{
		if (size > json_budget - json_used)
		{
			json_over_budget = true;
			return NULL;
		}
		json_used += size;
	}
	return MemoryContextAllocExtended(CurrentMemoryContext, size,
									  MCXT_ALLOC_HUGE);
}

static void
json_pfree(void *ptr)
{
	if (ptr != NULL)
		pfree(ptr);
}

/* Called once from _PG_init. */
void
sp_json_init(void)
{
	json_set_alloc_funcs(json_palloc, json_pfree);
}

void
sp_path_init(SpPath *path)
{
	strcpy(path->buf, "$");
	path->len = 1;
}

/* Append ".key" (or ["key"] when the key is not a plain word); return the old length. */
int
sp_path_key(SpPath *path, const char *key)
{
	int			old = path->len;
	bool		plain = (key[0] != '\0');
	const char *p;
	int			n;

	for (p = key; *p; p++)
		if (!(isalnum((unsigned char) *p) || *p == '_' || *p == '-' || *p == '@'))
			plain = false;
	if (plain)
		n = snprintf(path->buf + path->len, sizeof(path->buf) - path->len, ".%s", key);
	else
		n = snprintf(path->buf + path->len, sizeof(path->buf) - path->len, "[\"%s\"]", key);
	path->len = Min(path->len + n, (int) sizeof(path->buf) - 1);
	return old;
}

int
sp_path_index(SpPath *path, size_t index)
{
	int			old = path->len;
	int			n;

	n = snprintf(path->buf + path->len, sizeof(path->buf) - path->len, "[%zu]", index);
	path->len = Min(path->len + n, (int) sizeof(path->buf) - 1);
	return old;
}

void
sp_path_restore(SpPath *path, int len)
{
	path->len = len;
	path->buf[len] = '\0';
}

void
sp_doc_error(const SpDocument *doc, int sqlerrcode, const SpPath *path,
			 const char *fmt,...)
{
	char		msg[1024];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	ereport(ERROR,
			(errcode(sqlerrcode),
			 errmsg("invalid %s at %s: %s", doc->what,
					path ? path->buf : "$", msg),
			 errdetail("The document was refused whole; nothing was stored.")));
}

/*
 * SHA-256 of the canonical form of a JSON value: keys sorted bytewise, no
 * insignificant whitespace, strings as UTF-8.  Layout and key order of the
 * source do not change it.
 */
void
sp_canonical_digest(json_t *node, char out[72])
{
	char	   *canon = json_dumps(node, JSON_SORT_KEYS | JSON_COMPACT |
								   JSON_ENCODE_ANY);

	if (canon == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not serialise document for its digest")));
	sp_sha256_hex(canon, strlen(canon), out);
	pfree(canon);
}

/*
 * Parse a document.  Malformed JSON, duplicate keys, a NUL escape and an
 * over-size document are refused here with the position jansson reports.
 */
void
sp_document_load(SpDocument *doc, const char *text, size_t len, const char *what)
{
	json_error_t jerr;
	size_t		limit = (size_t) sp_max_document_size_kb * 1024;

	memset(doc, 0, sizeof(*doc));
	doc->what = what;
	doc->text = text;
	doc->len = len;

	if (len > limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s of %zu bytes exceeds the limit of %zu bytes", what, len, limit),
				 errhint("Raise stellapolicy.max_document_size to accept larger documents.")));

	/* The parsed tree may take 32 times the text, and at least 64 MB. */
	json_budget = Max((size_t) 64 * 1024 * 1024, len * 32);
	json_used = 0;
	json_over_budget = false;
	PG_TRY();
	{
		doc->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	}
	PG_FINALLY();
	{
		json_budget = 0;
	}
	PG_END_TRY();
	if (json_over_budget)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s of %zu bytes needs more than %zu bytes of memory to parse", what, len,
						Max((size_t) 64 * 1024 * 1024, len * 32)),
				 errdetail("A document of many tiny values takes far more memory as a tree than as text; it was refused whole.")));
	if (doc->root == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_JSON_TEXT),
				 errmsg("malformed JSON in %s at line %d, column %d: %s",
						what, jerr.line, jerr.column, jerr.text),
				 errdetail("The document was refused whole; nothing was stored.")));

	if (!json_is_object(doc->root) && !json_is_array(doc->root))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s at $: expected a JSON object", what)));

	sp_canonical_digest(doc->root, doc->digest);
}

void
sp_document_free(SpDocument *doc)
{
	if (doc->root)
		json_decref(doc->root);
	doc->root = NULL;
}

static const char *
json_type_name(json_t *v)
{
	switch (json_typeof(v))
	{
		case JSON_OBJECT:
			return "an object";
		case JSON_ARRAY:
			return "an array";
		case JSON_STRING:
			return "a string";
		case JSON_INTEGER:
		case JSON_REAL:
			return "a number";
		case JSON_TRUE:
		case JSON_FALSE:
			return "a boolean";
		case JSON_NULL:
			return "null";
	}
	return "a value";
}

/* Common lookup: NULL when absent and optional; refuse when required. */
static json_t *
get_member(const SpDocument *doc, json_t *obj, const char *key, SpPath *path,
		   bool required)
{
	json_t	   *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if ((v == NULL || json_is_null(v)) && required)
	{
		int			old = sp_path_key(path, key);

		sp_doc_error(doc, ERRCODE_INVALID_PARAMETER_VALUE, path,
					 "required field \"%s\" is missing", key);
		sp_path_restore(path, old);
	}
	return json_is_null(v) ? NULL : v;
}

const char *
sp_get_string(const SpDocument *doc, json_t *obj, const char *key,
			  SpPath *path, bool required)
{
	json_t	   *v = get_member(doc, obj, key, path, required);

	if (v == NULL)
		return NULL;
	if (!json_is_string(v))
	{
		sp_path_key(path, key);
		sp_doc_error(doc, ERRCODE_INVALID_PARAMETER_VALUE, path,
					 "expected a string, found %s", json_type_name(v));
	}
	if (required && json_string_length(v) == 0)
	{
		sp_path_key(path, key);
		sp_doc_error(doc, ERRCODE_INVALID_PARAMETER_VALUE, path,
					 "required field \"%s\" is empty", key);
	}
	if (strlen(json_string_value(v)) != json_string_length(v))
	{
		sp_path_key(path, key);
		sp_doc_error(doc, ERRCODE_INVALID_PARAMETER_VALUE, path,
					 "string contains a NUL character");
	}
	return json_string_value(v);
}

json_t *
sp_get_array(const SpDocument *doc, json_t *obj, const char *key,
			 SpPath *path, bool required)
{
	json_t	   *v = get_member(doc, obj, key, path, required);

	if (v != NULL && !json_is_array(v))
	{
		sp_path_key(path, key);
		sp_doc_error(doc, ERRCODE_INVALID_PARAMETER_VALUE, path,
					 "expected an array, found %s", json_type_name(v));
	}
	return v;
}

json_t *
sp_get_object(const SpDocument *doc, json_t *obj, const char *key,
			  SpPath *path, bool required)
{
	json_t	   *v = get_member(doc, obj, key, path, required);

	if (v != NULL && !json_is_object(v))
	{
		sp_path_key(path, key);
		sp_doc_error(doc, ERRCODE_INVALID_PARAMETER_VALUE, path,
					 "expected an object, found %s", json_type_name(v));
	}
	return v;
}

/*
 * Parse and canonicalise a purl found at path.  Returns the canonical string
 * and, through the optional out parameters, its parts; qualifiers come back
 * as a canonical JSON object text.
 */
char *
sp_canonical_purl_at(const SpDocument *doc, const char *purl, SpPath *path,
					 char **type, char **ns, char **name, char **version,
					 char **qualifiers_json, char **distro, char **upstream)
{
	SpArena    *arena = sp_arena_create_with(palloc, pfree);
	SpPurl	   *p;
	char		err[256];
	char	   *canon;

	if (sp_purl_parse(purl, arena, &p, err, sizeof(err)) != 0)
		sp_doc_error(doc, ERRCODE_INVALID_PARAMETER_VALUE, path,
					 "invalid purl \"%s\": %s", purl, err);

	canon = pstrdup(sp_purl_canonical(p, arena));
	if (type)
		*type = pstrdup(p->type);
	if (ns)
		*ns = p->namespace ? pstrdup(p->namespace) : NULL;
	if (name)
		*name = pstrdup(p->name);
	if (version)
		*version = p->version ? pstrdup(p->version) : NULL;
	if (distro)
	{
		const char *d = sp_purl_qualifier(p, "distro");

		*distro = d ? pstrdup(d) : NULL;
	}
	if (upstream)
	{
		const char *u = sp_purl_qualifier(p, "upstream");

		*upstream = u ? pstrdup(u) : NULL;
	}
	if (qualifiers_json)
	{
		json_t	   *q = json_object();
		int			i;
		char	   *s;

		for (i = 0; i < p->nqualifiers; i++)
			json_object_set_new(q, p->qualifiers[i].key,
								json_string(p->qualifiers[i].value));
		s = json_dumps(q, JSON_SORT_KEYS | JSON_COMPACT);
		*qualifiers_json = pstrdup(s);
		pfree(s);
		json_decref(q);
	}

	sp_arena_destroy(arena);
	return canon;
}

SPIPlanPtr
sp_spi_prepare(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	return plan;
}

/* Execute a prepared statement; expected < 0 means any row count. */
void
sp_spi_exec(SPIPlanPtr plan, Datum *values, const char *nulls, int expected)
{
	int			rc = SPI_execute_plan(plan, values, nulls, false, 0);

	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	if (expected >= 0 && SPI_processed != (uint64) expected)
		elog(ERROR, "statement affected " UINT64_FORMAT " rows, expected %d",
			 SPI_processed, expected);
}

/* The value of key in a canonical qualifiers JSON object text, or NULL. */
char *
sp_purl_qualifier_value(const char *qualifiers_json, const char *key)
{
	json_t	   *q;
	json_t	   *v;
	char	   *out = NULL;

	if (qualifiers_json == NULL)
		return NULL;
	q = json_loads(qualifiers_json, 0, NULL);
	if (q == NULL)
		return NULL;
	v = json_object_get(q, key);
	if (json_is_string(v))
		out = pstrdup(json_string_value(v));
	json_decref(q);
	return out;
}

PG_FUNCTION_INFO_V1(stellapolicy_canonical_json);

/*
 * SQL: stellapolicy.canonical_json(document text) RETURNS text
 */
Datum
stellapolicy_canonical_json(PG_FUNCTION_ARGS)
{
	SpDocument	doc;
	char	   *canon;
	Datum		result;

	sp_document_load(&doc, VARDATA_ANY(PG_GETARG_TEXT_PP(0)),
					 VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(0)), "JSON document");
	canon = json_dumps(doc.root, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
	result = sp_cstring_text(canon);
	sp_json_free(canon);
	sp_document_free(&doc);
	PG_RETURN_DATUM(result);
}

/*
 * The specVersion of a CycloneDX document, SBOM or VEX: required, and one of
 * the versions read (1.2 to 1.6), else 0A000.
 */
const char *
sp_cyclonedx_spec_version(const SpDocument *doc, json_t *root, SpPath *path)
{
	const char *sv = sp_get_string(doc, root, "specVersion", path, true);

	if (strcmp(sv, "1.2") != 0 && strcmp(sv, "1.3") != 0 &&
		strcmp(sv, "1.4") != 0 && strcmp(sv, "1.5") != 0 &&
		strcmp(sv, "1.6") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("unsupported CycloneDX specVersion \"%s\"", sv),
				 errhint("CycloneDX JSON 1.2 to 1.6 is supported.")));
	return sv;
}
