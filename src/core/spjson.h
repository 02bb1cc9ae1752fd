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
 * For the same reason, memory jansson hands back (json_dumps) must be
 * released with sp_json_free(): in the server it came from palloc.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SP_SPJSON_H
#define SP_SPJSON_H

#include <stdlib.h>

#include <jansson.h>

static inline json_t *
sp_json_object_new(void)
{
	return json_pack("{}");
}

#define json_object() sp_json_object_new()

/*
 * Free what jansson allocated for us (json_dumps output): with jansson's
 * own free function, which in the server is pfree, not libc free().
 */
static inline void
sp_json_free(void *ptr)
{
	json_free_t free_fn = NULL;

	json_get_alloc_funcs(NULL, &free_fn);
	if (ptr != NULL)
		free_fn ? free_fn(ptr) : free(ptr);
}

#endif							/* SP_SPJSON_H */
