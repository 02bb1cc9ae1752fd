/*-------------------------------------------------------------------------
 *
 * sql_purl.c
 *	  SQL entry points for package URLs: purl_canonical and purl_parse.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"

#include "arena.h"
#include "purl.h"

PG_FUNCTION_INFO_V1(stellapolicy_purl_canonical);
PG_FUNCTION_INFO_V1(stellapolicy_purl_parse);

/* Parse or raise invalid_text_representation with the parser's message. */
static SpPurl *
parse_or_error(text *t, SpArena *arena)
{
	char	   *s = text_to_cstring(t);
	SpPurl	   *p;
	char		err[256];

	if (sp_purl_parse(s, arena, &p, err, sizeof(err)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid purl \"%s\": %s", s, err)));
	return p;
}

/*
 * SQL: stellapolicy.purl_canonical(purl text) RETURNS text
 */
Datum
stellapolicy_purl_canonical(PG_FUNCTION_ARGS)
{
	SpArena    *arena = sp_arena_create_with(palloc, pfree);
	SpPurl	   *p = parse_or_error(PG_GETARG_TEXT_PP(0), arena);
	text	   *result = cstring_to_text(sp_purl_canonical(p, arena));

	sp_arena_destroy(arena);
	PG_RETURN_TEXT_P(result);
}

static void
json_field(StringInfo buf, const char *key, const char *value, bool *first)
{
	if (!*first)
		appendStringInfoChar(buf, ',');
	*first = false;
	escape_json(buf, key);
	appendStringInfoChar(buf, ':');
	if (value == NULL)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, value);
}

/*
 * SQL: stellapolicy.purl_parse(purl text) RETURNS jsonb
 * The parts of a purl, decoded, with its canonical and base forms.
 */
Datum
stellapolicy_purl_parse(PG_FUNCTION_ARGS)
{
	SpArena    *arena = sp_arena_create_with(palloc, pfree);
	SpPurl	   *p = parse_or_error(PG_GETARG_TEXT_PP(0), arena);
	StringInfoData buf;
	bool		first = true;
	bool		qfirst = true;
	int			i;
	Datum		result;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	json_field(&buf, "type", p->type, &first);
	json_field(&buf, "namespace", p->namespace, &first);
	json_field(&buf, "name", p->name, &first);
	json_field(&buf, "version", p->version, &first);
	json_field(&buf, "subpath", p->subpath, &first);
	json_field(&buf, "canonical", sp_purl_canonical(p, arena), &first);
	json_field(&buf, "base", sp_purl_base(p, false, arena), &first);
	appendStringInfoString(&buf, ",\"qualifiers\":{");
	for (i = 0; i < p->nqualifiers; i++)
		json_field(&buf, p->qualifiers[i].key, p->qualifiers[i].value, &qfirst);
	appendStringInfoString(&buf, "}}");

	result = DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
	sp_arena_destroy(arena);
	PG_RETURN_DATUM(result);
}
