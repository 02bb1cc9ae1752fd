/*-------------------------------------------------------------------------
 *
 * spver.c
 *	  Batch version comparison for the differential test.
 *
 * Reads lines "scheme<TAB>a<TAB>b" from stdin and prints one line per input
 * line: -1, 0 or 1, or "ERR" when either version is invalid for the scheme
 * (or the scheme is unknown).  With -v the error message follows "ERR".
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "version.h"

/* Compare each input line and print the answer. */
int
main(int argc, char **argv)
{
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		len;
	int			verbose = (argc > 1 && strcmp(argv[1], "-v") == 0);

	while ((len = getline(&line, &cap, stdin)) >= 0)
	{
		char	   *a;
		char	   *b;
		SpScheme	scheme;
		int			r;
		char		err[512];

		/* strip only the newline: spaces are part of the test input */
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		a = strchr(line, '\t');
		b = a ? strchr(a + 1, '\t') : NULL;
		if (b == NULL)
		{
			puts("ERR");
			continue;
		}
		*a++ = '\0';
		*b++ = '\0';
		if (sp_scheme_from_name(line, &scheme) != 0)
		{
			puts(verbose ? "ERR unknown scheme" : "ERR");
			continue;
		}
		if (sp_version_cmp(scheme, a, b, &r, err, sizeof(err)) != 0)
		{
			if (verbose)
				printf("ERR %s\n", err);
			else
				puts("ERR");
			continue;
		}
		printf("%d\n", r);
	}
	free(line);
	return 0;
}
