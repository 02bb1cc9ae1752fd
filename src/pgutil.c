/*-------------------------------------------------------------------------
 *
 * pgutil.c
 *	  Small PostgreSQL helpers for the files that cannot include
 *	  utils/builtins.h because they use jansson.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "pgutil.h"

Datum
sp_cstring_text(const char *s)
{
	return PointerGetDatum(cstring_to_text(s));
}

char *
sp_text_cstring(Datum d)
{
	return TextDatumGetCString(d);
}

/* A text[] of n elements; NULL elements are allowed. */
Datum
sp_text_array(char **values, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(n, 1));
	int			dims[1] = {n};
	int			lbs[1] = {1};
	int			i;

	for (i = 0; i < n; i++)
	{
		nulls[i] = (values[i] == NULL);
		elems[i] = nulls[i] ? (Datum) 0 : CStringGetTextDatum(values[i]);
	}
	if (n == 0)
		return PointerGetDatum(construct_empty_array(TEXTOID));
	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs,
											  TEXTOID, -1, false, TYPALIGN_INT));
}

/* Does an ISO-8601 date-time end in Z or a numeric offset? */
static bool
has_zone(const char *s, size_t len)
{
	if (s[len - 1] == 'Z' || s[len - 1] == 'z')
		return true;
	if (len <= 10)
		return true;			/* a bare date; the caller makes it UTC */

	/* After the date and its separator (T, t or a space): an offset? */
	for (const char *p = s + 11; *p; p++)
		if (*p == '+' || *p == '-')
			return true;
	return false;
}

/*
 * Read s as a timestamp with time zone, the way timestamptz input does, but
 * report failure instead of raising an error so that the caller can name the
 * JSON path.  A value without a zone is taken as UTC, not as the session's
 * zone, so that ingestion does not depend on the session.
 */
bool
sp_parse_timestamptz(const char *s, TimestampTz *out)
{
	char		workbuf[MAXDATELEN + MAXDATEFIELDS];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf;
	int			dtype;
	struct pg_tm tt,
			   *tm = &tt;
	fsec_t		fsec;
	int			tz = 0;

	size_t		len = strlen(s);
	char		buf[MAXDATELEN + 16];

	if (len < 10 || len >= MAXDATELEN)
		return false;

	/*
	 * RFC 3339 only: YYYY-MM-DD first.  The server's parser would also take
	 * words such as "now" or "yesterday", which read the clock.
	 */
	for (int i = 0; i < 10; i++)
	{
		if ((i == 4 || i == 7) ? s[i] != '-' : !isdigit((unsigned char) s[i]))
			return false;
	}
	if (len > 10 && s[10] != 'T' && s[10] != 't' && s[10] != ' ')
		return false;

	/* No zone designator at the end of a date-time: read it as UTC. */
	memcpy(buf, s, len + 1);
	if (len == 10)
		strcat(buf, "T00:00:00Z");	/* a bare date is midnight UTC */
	else if (!has_zone(buf, len))
		strcat(buf, "Z");
	s = buf;

	if (ParseDateTime(s, workbuf, sizeof(workbuf), field, ftype,
					  MAXDATEFIELDS, &nf) != 0)
		return false;
	if (DecodeDateTime(field, ftype, nf, &dtype, tm, &fsec, &tz) != 0)
		return false;
	if (dtype != DTK_DATE)
		return false;
	if (tm2timestamp(tm, fsec, &tz, out) != 0)
		return false;
	return true;
}

/* The elements of a one-dimensional text[] as C strings (NULLs skipped). */
char	  **
sp_text_array_elems(Datum arr, int *n)
{
	ArrayType  *a = DatumGetArrayTypeP(arr);
	Datum	   *elems;
	bool	   *nulls;
	int			count;
	char	  **out;
	int			k = 0;

	deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &count);
	out = palloc(sizeof(char *) * (count + 1));
	for (int i = 0; i < count; i++)
		if (!nulls[i])
			out[k++] = TextDatumGetCString(elems[i]);
	out[k] = NULL;
	*n = k;
	return out;
}

/*
 * The SHA-256 implementation, fetched once per backend: EVP_sha256() makes
 * OpenSSL 3 look the provider up again at every EVP_DigestInit_ex, which
 * costs more than hashing a short string.
 */
const EVP_MD *
sp_sha256_md(void)
{
	static EVP_MD *fetched = NULL;

	if (fetched == NULL)
		fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
	return fetched != NULL ? fetched : EVP_sha256();
}

static void
sha256_to_hex(const unsigned char *d, unsigned int dl, char out[72])
{
	static const char hex[] = "0123456789abcdef";

	if (dl != 32)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute SHA-256 digest")));
	memcpy(out, "sha256:", 7);
	for (unsigned int i = 0; i < dl; i++)
	{
		out[7 + 2 * i] = hex[d[i] >> 4];
		out[8 + 2 * i] = hex[d[i] & 0xf];
	}
	out[71] = '\0';
}

/* Finish a SHA-256 context into "sha256:<hex>". */
void
sp_sha256_final_hex(EVP_MD_CTX *md, char out[72])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;

	if (!EVP_DigestFinal_ex(md, d, &dl))
		dl = 0;
	sha256_to_hex(d, dl, out);
}

void
sp_sha256_hex(const char *data, size_t len, char out[72])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;

	if (!EVP_Digest(data, len, d, &dl, sp_sha256_md(), NULL))
		dl = 0;
	sha256_to_hex(d, dl, out);
}
