/*-------------------------------------------------------------------------
 *
 * fuzz_purl.c
 *	  libFuzzer target for the purl parser and canonical printer.
 *
 * Feeds arbitrary bytes (cut at the first NUL, as a C caller would see
 * them) to sp_purl_parse().  When the input parses, the canonical string
 * must parse again to the very same parts and print identically, and the
 * base forms must be prefixes of it.  When it does not parse, the message
 * must name an offset inside the input.  Any violation aborts, which
 * libFuzzer reports with the input.
 *
 * Build and run (seeds in test/fuzz/purl_seeds):
 *	  clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/core \
 *		  src/core/arena.c src/core/purl.c test/fuzz/fuzz_purl.c -o fuzz_purl
 *	  ./fuzz_purl -max_total_time=180 corpus_dir test/fuzz/purl_seeds
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "purl.h"

/* Stop the run and show what broke; libFuzzer saves the input. */
#define FUZZ_CHECK(cond, what) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "fuzz_purl: %s\n", what); \
			abort(); \
		} \
	} while (0)

/* Compare two optional strings, NULL equal only to NULL. */
static int
same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Optional parts are NULL or non-empty, never "". */
static int
absent_or_nonempty(const char *s)
{
	return s == NULL || s[0] != '\0';
}

/* Check the invariants that every successful parse promises. */
static void
check_parts(const SpPurl *p)
{
	FUZZ_CHECK(p->type != NULL && p->type[0] != '\0', "empty type");
	FUZZ_CHECK(p->name != NULL && p->name[0] != '\0', "empty name");
	FUZZ_CHECK(absent_or_nonempty(p->namespace), "empty namespace");
	FUZZ_CHECK(absent_or_nonempty(p->version), "empty version");
	FUZZ_CHECK(absent_or_nonempty(p->subpath), "empty subpath");
	for (int i = 0; i < p->nqualifiers; i++)
	{
		FUZZ_CHECK(p->qualifiers[i].value[0] != '\0', "empty qualifier value");
		FUZZ_CHECK(i == 0 || strcmp(p->qualifiers[i - 1].key,
									p->qualifiers[i].key) < 0,
				   "qualifiers not strictly sorted");
		FUZZ_CHECK(sp_purl_qualifier(p, p->qualifiers[i].key) ==
				   p->qualifiers[i].value, "qualifier look-up misses a key");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *s = malloc(size + 1);
	SpArena    *a = sp_arena_create();
	SpPurl	   *p;
	SpPurl	   *p2;
	char		err[256];

	memcpy(s, data, size);
	s[size] = '\0';

	if (sp_purl_parse(s, a, &p, err, sizeof(err)) == 0)
	{
		char	   *c1;
		char	   *c2;
		char	   *base_v;
		char	   *base;

		check_parts(p);
		c1 = sp_purl_canonical(p, a);
		FUZZ_CHECK(c1 != NULL, "canonical returned NULL");

		/* The canonical form is itself a purl with the same parts. */
		FUZZ_CHECK(sp_purl_parse(c1, a, &p2, err, sizeof(err)) == 0,
				   "canonical form does not parse");
		check_parts(p2);
		FUZZ_CHECK(same(p->type, p2->type), "type changed on re-parse");
		FUZZ_CHECK(same(p->namespace, p2->namespace),
				   "namespace changed on re-parse");
		FUZZ_CHECK(same(p->name, p2->name), "name changed on re-parse");
		FUZZ_CHECK(same(p->version, p2->version),
				   "version changed on re-parse");
		FUZZ_CHECK(same(p->subpath, p2->subpath),
				   "subpath changed on re-parse");
		FUZZ_CHECK(p->nqualifiers == p2->nqualifiers,
				   "qualifier count changed on re-parse");
		for (int i = 0; i < p->nqualifiers; i++)
			FUZZ_CHECK(same(p->qualifiers[i].key, p2->qualifiers[i].key) &&
					   same(p->qualifiers[i].value, p2->qualifiers[i].value),
					   "qualifier changed on re-parse");

		c2 = sp_purl_canonical(p2, a);
		FUZZ_CHECK(same(c1, c2), "canonical form not stable");

		/* The matching keys are prefixes of the canonical form. */
		base_v = sp_purl_base(p, 1, a);
		base = sp_purl_base(p, 0, a);
		FUZZ_CHECK(base_v != NULL && base != NULL, "base returned NULL");
		FUZZ_CHECK(strncmp(c1, base_v, strlen(base_v)) == 0,
				   "base with version is not a prefix of the canonical form");
		FUZZ_CHECK(strncmp(base_v, base, strlen(base)) == 0,
				   "base is not a prefix of base with version");
	}
	else
	{
		const char *at = strstr(err, " at offset ");

		/* Every input error names a position inside the input. */
		FUZZ_CHECK(err[0] != '\0', "error without a message");
		FUZZ_CHECK(at != NULL, "error without an offset");
		FUZZ_CHECK(strtoul(at + 11, NULL, 10) <= strlen(s),
				   "error offset past the end of the input");
	}

	sp_arena_destroy(a);
	free(s);
	return 0;
}
