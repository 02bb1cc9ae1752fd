/*-------------------------------------------------------------------------
 *
 * ingest.h
 *	  Shared pieces of document ingestion (SBOM, OSV, VEX, KEV).
 *
 * Files that include <jansson.h> must not include utils/builtins.h (both
 * declare json_object); the text and array helpers they need are declared
 * here and live in pgutil.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SP_INGEST_H
#define SP_INGEST_H

#include "postgres.h"

#include "spjson.h"

#include "utils/timestamp.h"

#include "pgutil.h"
#include "executor/spi.h"

/* A JSON path being walked, for error messages such as $.components[3].purl */
typedef struct SpPath
{
	char		buf[512];
	int			len;
} SpPath;

extern void sp_path_init(SpPath *path);
extern int	sp_path_key(SpPath *path, const char *key);
extern int	sp_path_index(SpPath *path, size_t index);
extern void sp_path_restore(SpPath *path, int len);

/*
 * A loaded document: the parsed tree, the source text and the SHA-256 of
 * its canonical form (keys sorted, no insignificant whitespace).
 */
typedef struct SpDocument
{
	json_t	   *root;
	const char *text;
	size_t		len;
	char		digest[72];		/* "sha256:" + 64 hex + NUL */
	const char *what;			/* "SBOM", "OSV document", ... for messages */
} SpDocument;

/* Route jansson's allocations to palloc; called from _PG_init. */
extern void sp_json_init(void);

extern void sp_document_load(SpDocument *doc, const char *text, size_t len,
							 const char *what);
extern void sp_document_free(SpDocument *doc);
extern void sp_canonical_digest(json_t *node, char out[72]);

/* Refuse a document whole: errcode, the JSON path, and a message. */
extern void sp_doc_error(const SpDocument *doc, int sqlerrcode,
						 const SpPath *path, const char *fmt,...)
			pg_attribute_printf(4, 5) pg_attribute_noreturn();

/* Typed accessors that refuse the document on a type mismatch. */
extern const char *sp_get_string(const SpDocument *doc, json_t *obj,
								 const char *key, SpPath *path, bool required);
extern json_t *sp_get_array(const SpDocument *doc, json_t *obj,
							const char *key, SpPath *path, bool required);
extern json_t *sp_get_object(const SpDocument *doc, json_t *obj,
							 const char *key, SpPath *path, bool required);

/* Canonical purl of a string, or an error naming the path. */
extern const char *sp_cyclonedx_spec_version(const SpDocument *doc, json_t *root,
											  SpPath *path);
extern char *sp_canonical_purl_at(const SpDocument *doc, const char *purl,
								  SpPath *path, char **type, char **ns,
								  char **name, char **version,
								  char **qualifiers_json, char **distro,
								  char **upstream);

extern char *sp_purl_qualifier_value(const char *qualifiers_json,
									 const char *key);

/* Insert helper: run a prepared INSERT with the given values and nulls. */
extern void sp_spi_exec(SPIPlanPtr plan, Datum *values, const char *nulls,
						int expected);
extern SPIPlanPtr sp_spi_prepare(const char *sql, int nargs, Oid *argtypes);

#endif							/* SP_INGEST_H */
