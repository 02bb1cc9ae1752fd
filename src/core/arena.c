/*-------------------------------------------------------------------------
 *
 * arena.c
 *	  Region allocator for the plain-C core.
 *
 * Blocks are chained newest first.  Allocation bumps a pointer in the head
 * block; a request that does not fit gets a new block at least as large as
 * the request.  Nothing is freed individually: callers reset or destroy the
 * whole arena, which keeps the hot paths of the evaluator free of frees.
 *
 *-------------------------------------------------------------------------
 */
#include "arena.h"

#include <stdlib.h>
#include <string.h>

#define SP_ARENA_ALIGN		16
#define SP_ARENA_MIN_BLOCK	(32 * 1024)

struct SpArenaBlock
{
	SpArenaBlock *next;
	size_t		size;			/* usable bytes after the header */
	/* payload follows, aligned */
};

#define BLOCK_HDR \
	((sizeof(SpArenaBlock) + SP_ARENA_ALIGN - 1) & ~(size_t) (SP_ARENA_ALIGN - 1))

static void *
malloc_block(size_t size)
{
	return malloc(size);
}

static void
free_block(void *ptr)
{
	free(ptr);
}

SpArena *
sp_arena_create(void)
{
	return sp_arena_create_with(malloc_block, free_block);
}

SpArena *
sp_arena_create_with(SpBlockAlloc block_alloc, SpBlockFree block_free)
{
	SpArena    *arena = block_alloc(sizeof(SpArena));

	if (arena == NULL)
		return NULL;
	memset(arena, 0, sizeof(SpArena));
	arena->block_alloc = block_alloc;
	arena->block_free = block_free;
	return arena;
}

void *
sp_alloc(SpArena *arena, size_t size)
{
	size_t		need = (size + SP_ARENA_ALIGN - 1) & ~(size_t) (SP_ARENA_ALIGN - 1);
	char	   *p;

	if (need == 0)
		need = SP_ARENA_ALIGN;

	/* Start a new block when the request does not fit in the head one. */
	if (arena->head == NULL || arena->cap - arena->used < need)
	{
		size_t		bsize = need > SP_ARENA_MIN_BLOCK ? need : SP_ARENA_MIN_BLOCK;
		SpArenaBlock *b;

		if (arena->head != NULL && bsize < arena->cap * 2 && arena->cap < 8 * 1024 * 1024)
			bsize = arena->cap * 2 > need ? arena->cap * 2 : need;
		b = arena->block_alloc(BLOCK_HDR + bsize);
		if (b == NULL)
			return NULL;
		b->next = arena->head;
		b->size = bsize;
		arena->head = b;
		arena->used = 0;
		arena->cap = bsize;
		arena->total += BLOCK_HDR + bsize;
	}

	p = (char *) arena->head + BLOCK_HDR + arena->used;
	arena->used += need;
	memset(p, 0, size);
	return p;
}

char *
sp_strndup(SpArena *arena, const char *s, size_t len)
{
	char	   *d = sp_alloc(arena, len + 1);

	if (d == NULL)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

char *
sp_strdup(SpArena *arena, const char *s)
{
	return sp_strndup(arena, s, strlen(s));
}

void
sp_arena_reset(SpArena *arena)
{
	SpArenaBlock *b;

	if (arena->head == NULL)
		return;

	/* Keep the oldest block, which is the smallest; free the others. */
	b = arena->head;
	while (b->next != NULL)
	{
		SpArenaBlock *next = b->next;

		arena->block_free(b);
		b = next;
	}
	arena->head = b;
	arena->cap = b->size;
	arena->used = 0;
	arena->total = BLOCK_HDR + b->size;
}

void
sp_arena_destroy(SpArena *arena)
{
	SpArenaBlock *b = arena->head;
	SpBlockFree block_free = arena->block_free;

	while (b != NULL)
	{
		SpArenaBlock *next = b->next;

		block_free(b);
		b = next;
	}
	block_free(arena);
}
