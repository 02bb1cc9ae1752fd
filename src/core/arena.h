/*-------------------------------------------------------------------------
 *
 * arena.h
 *	  Region allocator shared by the plain-C core of stellapolicy.
 *
 * The core (version comparison, purl handling, range evaluation, the DSL
 * compiler and evaluator) includes no PostgreSQL header, so that it can be
 * fuzzed, benchmarked and linked into command-line tools.  Everything it
 * allocates comes from an SpArena.  The arena obtains its blocks through a
 * pair of hooks: the extension passes palloc/pfree so that an ERROR
 * unwinding through core code leaks nothing, while tools use malloc/free.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SP_ARENA_H
#define SP_ARENA_H

#include <stddef.h>

typedef void *(*SpBlockAlloc) (size_t size);
typedef void (*SpBlockFree) (void *ptr);

typedef struct SpArenaBlock SpArenaBlock;

typedef struct SpArena
{
	SpArenaBlock *head;			/* newest block first */
	size_t		used;			/* bytes used in head */
	size_t		cap;			/* usable bytes in head */
	size_t		total;			/* bytes obtained from block_alloc */
	SpBlockAlloc block_alloc;
	SpBlockFree block_free;
} SpArena;

/* Create an arena whose blocks come from malloc/free. */
extern SpArena *sp_arena_create(void);

/*
 * Create an arena whose blocks come from the given hooks.  block_alloc must
 * never return NULL (palloc throws instead); with malloc the arena aborts the
 * allocation by returning NULL from sp_alloc.
 */
extern SpArena *sp_arena_create_with(SpBlockAlloc block_alloc,
									 SpBlockFree block_free);

/* Allocate size bytes, 16-byte aligned, zero-filled.  NULL on exhaustion. */
extern void *sp_alloc(SpArena *arena, size_t size);

/* Copy a string (or the first len bytes of one) into the arena. */
extern char *sp_strdup(SpArena *arena, const char *s);
extern char *sp_strndup(SpArena *arena, const char *s, size_t len);

/* Forget everything allocated but keep the first block for reuse. */
extern void sp_arena_reset(SpArena *arena);

/* Release every block and the arena itself. */
extern void sp_arena_destroy(SpArena *arena);

#endif							/* SP_ARENA_H */
