/*-------------------------------------------------------------------------
 *
 * pgutil.h
 *	  PostgreSQL helpers usable from files that include jansson (and so
 *	  cannot include utils/builtins.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef SP_PGUTIL_H
#define SP_PGUTIL_H

#include "postgres.h"

#include <openssl/evp.h>

#include "datatype/timestamp.h"

extern Datum sp_cstring_text(const char *s);
extern char *sp_text_cstring(Datum d);
extern Datum sp_text_array(char **values, int n);
extern char **sp_text_array_elems(Datum arr, int *n);
extern bool sp_parse_timestamptz(const char *s, TimestampTz *out);

/* SHA-256 as "sha256:" and 64 lower-case hex digits. */
extern const EVP_MD *sp_sha256_md(void);
extern void sp_sha256_final_hex(EVP_MD_CTX *md, char out[72]);
extern void sp_sha256_hex(const char *data, size_t len, char out[72]);

#endif							/* SP_PGUTIL_H */
