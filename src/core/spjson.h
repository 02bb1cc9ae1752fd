/*-------------------------------------------------------------------------
 *
 * spjson.h
 *	  Include this instead of <jansson.h> everywhere in stellapolicy.
 *
 * The PostgreSQL server binary exports a function named json_object (the SQL
 * function of that name).  Inside the server, a call to jansson's
 * json_object() from our module binds to the server's symbol, not to
 * libjansson's, and crashes.  jansson's own internal calls bind within the
 * library, so we create empty objects through json_pack("{}"), which makes
 * the object inside libjansson.  Outside the server (tools, tests, fuzzers)
 * the detour is harmless.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SP_SPJSON_H
#define SP_SPJSON_H

#include <jansson.h>

static inline json_t *
sp_json_object_new(void)
{
	return json_pack("{}");
}

#define json_object() sp_json_object_new()

#endif							/* SP_SPJSON_H */
