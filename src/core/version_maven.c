/*-------------------------------------------------------------------------
 *
 * version_maven.c
 *	  Maven versions ordered as maven-artifact 3.x ComparableVersion does.
 *
 * Maven accepts any string.  The text is lower-cased and cut into items at
 * '.', at '-' (which opens a nested list) and at every switch between
 * digits and letters (which also opens a nested list).  Numbers compare by
 * value; words are qualifiers ranked alpha < beta < milestone < rc <
 * snapshot < "" (release; also ga, final, release) < sp < any other word,
 * other words ordering alphabetically; single letters a, b, m directly
 * followed by a digit mean alpha, beta, milestone, and cr means rc.  Null
 * items (0, "", empty lists) at the end of each list are dropped, innermost
 * lists first, so 1.0.0 == 1 and 1-ga == 1.
 *
 * The tree lives in the arena; comparison walks two trees and never
 * allocates.
 *
 *-------------------------------------------------------------------------
 */
#include "version.h"

#include <ctype.h>
#include <string.h>

#define MV_INT	0
#define MV_STR	1
#define MV_LIST 2

/* Rank of "" (a release) among the qualifiers. */
#define RELEASE_RANK 5
#define OTHER_RANK 7

typedef struct MvNode MvNode;
struct MvNode
{
	int			kind;
	SpNum		num;			/* MV_INT */
	int			rank;			/* MV_STR: 0..6 known, 7 other */
	const char *str;			/* MV_STR with rank 7 */
	size_t		slen;
	MvNode	   *first;			/* MV_LIST children */
	MvNode	   *next;			/* sibling */
};

typedef struct MvBuild
{
	SpArena    *arena;
	MvNode	  **lists;			/* every list in creation order */
	int			nlists;
	bool		oom;
} MvBuild;

static MvNode *
mv_new(MvBuild *b, int kind)
{
	MvNode	   *n = sp_alloc(b->arena, sizeof(MvNode));

	if (n == NULL)
		b->oom = true;
	else
		n->kind = kind;
	return n;
}

/* Append a child at the end of a list. */
static void
mv_add(MvNode *list, MvNode *item)
{
	MvNode	  **pp = &list->first;

	if (item == NULL)
		return;
	while (*pp)
		pp = &(*pp)->next;
	*pp = item;
}

/* Open a nested list inside list and return it. */
static MvNode *
mv_sublist(MvBuild *b, MvNode *list)
{
	MvNode	   *sub = mv_new(b, MV_LIST);

	if (sub == NULL)
		return list;
	mv_add(list, sub);
	b->lists[b->nlists++] = sub;
	return sub;
}

/* Build a string item, resolving aliases and the qualifier rank. */
static MvNode *
mv_string(MvBuild *b, const char *s, size_t len, bool followed_by_digit)
{
	static const char *const quals[] = {
		"alpha", "beta", "milestone", "rc", "snapshot", "", "sp"
	};
	MvNode	   *n = mv_new(b, MV_STR);

	if (n == NULL)
		return NULL;

	/* a1, b2, m3 */
	if (followed_by_digit && len == 1)
	{
		if (*s == 'a')
			s = "alpha", len = 5;
		else if (*s == 'b')
			s = "beta", len = 4;
		else if (*s == 'm')
			s = "milestone", len = 9;
	}

	/* ga, final and release mean a release; cr means rc */
	if ((len == 2 && memcmp(s, "ga", 2) == 0) ||
		(len == 5 && memcmp(s, "final", 5) == 0) ||
		(len == 7 && memcmp(s, "release", 7) == 0))
		len = 0;
	else if (len == 2 && memcmp(s, "cr", 2) == 0)
		s = "rc";

	n->rank = OTHER_RANK;
	for (int i = 0; i < 7; i++)
		if (strlen(quals[i]) == len && memcmp(quals[i], s, len) == 0)
			n->rank = i;
	n->str = s;
	n->slen = len;
	return n;
}

/* Build a number or word item from text[start, end). */
static MvNode *
mv_item(MvBuild *b, bool is_digit, const char *s, size_t len)
{
	MvNode	   *n;

	if (!is_digit)
		return mv_string(b, s, len, false);
	n = mv_new(b, MV_INT);
	if (n)
		n->num = sp_num_make(s, len);
	return n;
}

/* Is this item "null" in Maven's sense: 0, "" or an empty list? */
static bool
mv_is_null(const MvNode *n)
{
	switch (n->kind)
	{
		case MV_INT:
			return n->num.len == 0;
		case MV_STR:
			return n->rank == RELEASE_RANK;
		default:
			return n->first == NULL;
	}
}

/*
 * Drop null items from the end of a list, skipping over (but keeping)
 * non-null nested lists, as ListItem.normalize() does.
 */
static void
mv_normalize(MvNode *list)
{
	MvNode	   *items[64];
	MvNode	  **arr = items;
	MvNode	   *n;
	int			count = 0;
	int			i;

	for (n = list->first; n; n = n->next)
		count++;
	if (count == 0)
		return;
	if (count > 64)
	{
		/* rare: walk from the end by rescanning */
		for (i = count - 1; i >= 0; i--)
		{
			MvNode	  **pp = &list->first;

			for (int k = 0; k < i; k++)
				pp = &(*pp)->next;
			if (mv_is_null(*pp))
				*pp = (*pp)->next;
			else if ((*pp)->kind != MV_LIST)
				break;
		}
		return;
	}

	i = 0;
	for (n = list->first; n; n = n->next)
		arr[i++] = n;
	for (i = count - 1; i >= 0; i--)
	{
		if (mv_is_null(arr[i]))
		{
			/* unlink arr[i] */
			if (i == 0)
				list->first = arr[i]->next;
			else
				arr[i - 1]->next = arr[i]->next;
		}
		else if (arr[i]->kind != MV_LIST)
			break;
	}
}

/* Parse any string into a ComparableVersion item tree. */
int
sp_maven_parse(const char *s, SpArena *arena, SpVersion *out, char *eb,
			   size_t el)
{
	MvBuild		b;
	size_t		len = strlen(s);
	char	   *v;
	MvNode	   *root;
	MvNode	   *list;
	bool		is_digit = false;
	size_t		start = 0;

	b.arena = arena;
	b.oom = false;
	b.nlists = 0;
	b.lists = sp_alloc(arena, sizeof(MvNode *) * (len + 2));
	v = sp_strndup(arena, s, len);
	if (b.lists == NULL || v == NULL)
		return sp_verr(eb, el, SP_SCHEME_MAVEN, s, "out of memory");

	/* Maven lower-cases with an English locale */
	for (size_t i = 0; i < len; i++)
		v[i] = (char) tolower((unsigned char) v[i]);

	root = mv_new(&b, MV_LIST);
	if (root == NULL)
		return sp_verr(eb, el, SP_SCHEME_MAVEN, s, "out of memory");
	b.lists[b.nlists++] = root;
	list = root;

	for (size_t i = 0; i < len; i++)
	{
		char		c = v[i];

		if (c == '.' || c == '-')
		{
			/* an empty item counts as 0 */
			if (i == start)
				mv_add(list, mv_item(&b, true, "0", 1));
			else
				mv_add(list, mv_item(&b, is_digit, v + start, i - start));
			start = i + 1;
			if (c == '-')
				list = mv_sublist(&b, list);
		}
		else if (isdigit((unsigned char) c))
		{
			/*
			 * letters then digits: the word goes into a fresh list (unless
			 * the current one is still empty) and the digits into another,
			 * so "1rc1" becomes [1, [[rc, [1]]]]
			 */
			if (!is_digit && i > start)
			{
				if (list->first != NULL)
					list = mv_sublist(&b, list);
				mv_add(list, mv_string(&b, v + start, i - start, true));
				start = i;
				list = mv_sublist(&b, list);
			}
			is_digit = true;
		}
		else
		{
			if (is_digit && i > start)
			{
				mv_add(list, mv_item(&b, true, v + start, i - start));
				start = i;
				list = mv_sublist(&b, list);
			}
			is_digit = false;
		}
	}
	if (len > start)
	{
		/* a final word also gets a fresh list, as above */
		if (!is_digit && list->first != NULL)
			list = mv_sublist(&b, list);
		mv_add(list, mv_item(&b, is_digit, v + start, len - start));
	}

	/* innermost lists first, as Maven pops its stack */
	for (int i = b.nlists - 1; i >= 0; i--)
		mv_normalize(b.lists[i]);

	if (b.oom)
		return sp_verr(eb, el, SP_SCHEME_MAVEN, s, "out of memory");
	out->u.tree = root;
	return 0;
}

static int	mv_cmp(const MvNode *l, const MvNode *r);

/* Compare two qualifiers: by rank, then other words alphabetically. */
static int
mv_qual_cmp(const MvNode *a, const MvNode *b)
{
	size_t		n;
	int			c;

	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	if (a->rank != OTHER_RANK)
		return 0;
	n = a->slen < b->slen ? a->slen : b->slen;
	c = memcmp(a->str, b->str, n);
	if (c)
		return c < 0 ? -1 : 1;
	return a->slen == b->slen ? 0 : (a->slen < b->slen ? -1 : 1);
}

/* Compare an item with "nothing" (the other list ran out). */
static int
mv_cmp_null(const MvNode *l)
{
	switch (l->kind)
	{
		case MV_INT:
			return l->num.len == 0 ? 0 : 1;
		case MV_STR:
			return l->rank < RELEASE_RANK ? -1 : (l->rank > RELEASE_RANK);
		default:
			for (const MvNode *n = l->first; n; n = n->next)
			{
				int			c = mv_cmp_null(n);

				if (c)
					return c;
			}
			return 0;
	}
}

/* Item.compareTo() for two present items. */
static int
mv_cmp(const MvNode *l, const MvNode *r)
{
	if (r == NULL)
		return mv_cmp_null(l);

	switch (l->kind)
	{
		case MV_INT:
			if (r->kind == MV_INT)
				return sp_numcmp(l->num, r->num);
			return 1;			/* 1.1 > 1-sp, 1.1 > 1-1 */
		case MV_STR:
			if (r->kind == MV_STR)
				return mv_qual_cmp(l, r);
			return -1;			/* 1.rc < 1.1, 1-rc < 1-1 */
		default:
			if (r->kind == MV_INT)
				return -1;
			if (r->kind == MV_STR)
				return 1;
			{
				const MvNode *a = l->first;
				const MvNode *b = r->first;

				while (a || b)
				{
					int			c;

					if (a == NULL)
						c = -mv_cmp_null(b);
					else
						c = mv_cmp(a, b);
					if (c)
						return c;
					if (a)
						a = a->next;
					if (b)
						b = b->next;
				}
				return 0;
			}
	}
}

/* Compare two parsed Maven versions. */
int
sp_maven_cmp(const SpVersion *a, const SpVersion *b)
{
	return mv_cmp((const MvNode *) a->u.tree, (const MvNode *) b->u.tree);
}
