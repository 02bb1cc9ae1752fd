/*-------------------------------------------------------------------------
 *
 * dsl_parse.c
 *	  Recursive-descent parser of stella-dsl@1 into an AST.
 *
 * The parser builds the unresolved tree (identifiers, member accesses,
 * calls) that dsl_check.c then resolves.  On a syntax error it records a
 * diagnostic and skips to a point where parsing can resume (the next
 * clause of a rule, the next rule, the end of a block), so that one run
 * reports several errors.  Expression nesting is bounded, so hostile input
 * cannot exhaust the stack.
 *
 *-------------------------------------------------------------------------
 */
#include "dsl_int.h"

#include <string.h>

typedef struct Parser
{
	Lexer		lx;
	Token		cur;
	Token		next;
	DiagList   *diags;
	SpArena    *arena;
	int			depth;
	bool		oom;
} Parser;

static Expr *parse_expr(Parser *p);

/* Grow an arena array by doubling; old contents are copied. */
static void *
grow(Parser *p, void *arr, int n, int *cap, size_t elem)
{
	void	   *na;

	if (n < *cap)
		return arr;

	/* The capacity may be stale (a block parsed twice): cover n too. */
	*cap = *cap ? *cap * 2 : 4;
	while (*cap <= n)
		*cap *= 2;
	na = sp_alloc(p->arena, (size_t) *cap * elem);
	if (na == NULL)
	{
		p->oom = true;
		return NULL;
	}
	if (arr != NULL && n > 0)
		memcpy(na, arr, (size_t) n * elem);
	return na;
}

static void
bump(Parser *p)
{
	p->cur = p->next;
	sp_lex_next(&p->lx, &p->next);
}

static bool
at(Parser *p, TokKind k)
{
	return p->cur.kind == k;
}

static bool
at_word(Parser *p, const char *w)
{
	return p->cur.kind == T_IDENT && strcmp(p->cur.text, w) == 0;
}

static bool
accept(Parser *p, TokKind k)
{
	if (p->cur.kind != k)
		return false;
	bump(p);
	return true;
}

/* Describe the current token for "expected X, found Y" messages. */
static void
err_expected(Parser *p, const char *what)
{
	if (p->cur.kind == T_IDENT)
		sp_diag(p->diags, p->cur.line, p->cur.col,
				"expected %s, found identifier \"%s\"", what, p->cur.text);
	else
		sp_diag(p->diags, p->cur.line, p->cur.col,
				"expected %s, found %s", what, sp_tok_name(p->cur.kind));
}

static bool
expect(Parser *p, TokKind k, const char *what)
{
	if (accept(p, k))
		return true;
	err_expected(p, what);
	return false;
}

/*
 * Skip tokens until one that can start the next clause: a token in stops
 * (at nesting depth zero) or the '}' that closes the current block, which
 * is left unconsumed.  Nested braces are skipped whole.
 */
static void
sync_to(Parser *p, const TokKind *stops, int nstops)
{
	int			depth = 0;

	while (!at(p, T_EOF))
	{
		int			i;

		if (depth == 0)
		{
			if (at(p, T_RBRACE))
				return;
			for (i = 0; i < nstops; i++)
				if (p->cur.kind == stops[i])
					return;
		}
		if (at(p, T_LBRACE))
			depth++;
		else if (at(p, T_RBRACE))
			depth--;
		bump(p);
	}
}

static Expr *
new_expr(Parser *p, ExprKind kind, const Token *at_tok)
{
	Expr	   *e = sp_alloc(p->arena, sizeof(Expr));

	if (e == NULL)
	{
		p->oom = true;
		return NULL;
	}
	e->kind = (uint8_t) kind;
	e->line = at_tok->line;
	e->col = at_tok->col;
	return e;
}

/* Comma-separated expressions up to the closing token. */
static bool
parse_list(Parser *p, TokKind close, Expr ***items, int *nitems)
{
	int			cap = 0;

	*items = NULL;
	*nitems = 0;
	if (accept(p, close))
		return true;
	for (;;)
	{
		Expr	   *e = parse_expr(p);

		if (e == NULL)
			return false;
		*items = grow(p, *items, *nitems, &cap, sizeof(Expr *));
		if (*items == NULL)
			return false;
		(*items)[(*nitems)++] = e;
		if (accept(p, T_COMMA))
		{
			/* Allow a trailing comma. */
			if (accept(p, close))
				return true;
			continue;
		}
		return expect(p, close, close == T_RBRACKET ? "',' or ']'" :
					  "',' or ')'");
	}
}

static Expr *
parse_primary(Parser *p)
{
	Token		t = p->cur;
	Expr	   *e;

	switch (t.kind)
	{
		case T_STRING:
			bump(p);
			e = new_expr(p, EK_STR, &t);
			if (e)
			{
				e->str = t.text;
				e->slen = t.len;
			}
			return e;
		case T_NUMBER:
			bump(p);
			e = new_expr(p, EK_NUM, &t);
			if (e)
				e->num = t.num;
			return e;
		case T_TRUE:
		case T_FALSE:
			bump(p);
			e = new_expr(p, EK_BOOL, &t);
			if (e)
				e->num = t.kind == T_TRUE;
			return e;
		case T_NULL:
			bump(p);
			return new_expr(p, EK_NULL, &t);
		case T_IDENT:
		case T_ENV:
			bump(p);
			e = new_expr(p, EK_IDENT, &t);
			if (e)
			{
				e->str = t.kind == T_ENV ? "env" : t.text;
				e->slen = strlen(e->str);
			}
			return e;
		case T_LBRACKET:
			bump(p);
			e = new_expr(p, EK_ARRAY, &t);
			if (e == NULL || !parse_list(p, T_RBRACKET, &e->args, &e->nargs))
				return NULL;
			return e;
		case T_LPAREN:
			bump(p);
			e = parse_expr(p);
			if (e == NULL || !expect(p, T_RPAREN, "')'"))
				return NULL;
			return e;
		default:
			err_expected(p, "an expression");
			return NULL;
	}
}

/* Member access and calls bind tightest. */
static Expr *
parse_postfix(Parser *p)
{
	Expr	   *e = parse_primary(p);

	while (e != NULL)
	{
		Token		t = p->cur;

		if (accept(p, T_DOT))
		{
			Expr	   *m;

			/* Keywords are fine as member names (env.priority). */
			if (p->cur.kind != T_IDENT && p->cur.kind < T_POLICY)
			{
				err_expected(p, "a member name after '.'");
				return NULL;
			}
			if (p->cur.kind >= T_LBRACE)
			{
				err_expected(p, "a member name after '.'");
				return NULL;
			}
			m = new_expr(p, EK_MEMBER, &p->cur);
			if (m == NULL)
				return NULL;
			m->str = p->cur.kind == T_IDENT ? p->cur.text :
				sp_tok_name(p->cur.kind);
			m->slen = strlen(m->str);
			m->a = e;
			bump(p);
			e = m;
		}
		else if (accept(p, T_LPAREN))
		{
			Expr	   *c = new_expr(p, EK_CALL, &t);

			if (c == NULL)
				return NULL;
			c->line = e->line;
			c->col = e->col;
			c->a = e;
			if (!parse_list(p, T_RPAREN, &c->args, &c->nargs))
				return NULL;
			e = c;
		}
		else
			break;
	}
	return e;
}

static bool
cmp_op(TokKind k, CmpOp *op)
{
	switch (k)
	{
		case T_EQ:
			*op = OP_EQ;
			return true;
		case T_NE:
			*op = OP_NE;
			return true;
		case T_LT:
			*op = OP_LT;
			return true;
		case T_LE:
			*op = OP_LE;
			return true;
		case T_GT:
			*op = OP_GT;
			return true;
		case T_GE:
			*op = OP_GE;
			return true;
		default:
			return false;
	}
}

/* One comparison or membership test; chains are refused. */
static Expr *
parse_cmp(Parser *p)
{
	Expr	   *l = parse_postfix(p);
	Expr	   *e;
	Token		t = p->cur;
	CmpOp		op;

	if (l == NULL)
		return NULL;
	if (cmp_op(t.kind, &op))
	{
		bump(p);
		e = new_expr(p, EK_CMP, &t);
		if (e == NULL)
			return NULL;
		e->op = (uint8_t) op;
	}
	else if (t.kind == T_IN ||
			 (t.kind == T_NOT && p->next.kind == T_IN))
	{
		e = new_expr(p, EK_IN, &t);
		if (e == NULL)
			return NULL;
		if (t.kind == T_NOT)
		{
			bump(p);
			e->negate = 1;
		}
		bump(p);
	}
	else
		return l;

	e->a = l;
	e->b = parse_postfix(p);
	if (e->b == NULL)
		return NULL;
	if (cmp_op(p->cur.kind, &op) || at(p, T_IN))
	{
		sp_diag(p->diags, p->cur.line, p->cur.col,
				"comparisons cannot be chained; use and");
		return NULL;
	}
	return e;
}

static Expr *
parse_not(Parser *p)
{
	Token		t = p->cur;
	Expr	   *e;

	if (!accept(p, T_NOT))
		return parse_cmp(p);
	if (++p->depth > SP_MAX_DEPTH)
	{
		sp_diag(p->diags, t.line, t.col, "expression nested too deeply");
		return NULL;
	}
	e = new_expr(p, EK_NOT, &t);
	if (e == NULL)
		return NULL;
	e->a = parse_not(p);
	p->depth--;
	return e->a ? e : NULL;
}

/* and/or chains become one n-ary node each. */
static Expr *
parse_chain(Parser *p, TokKind optok, ExprKind kind,
			Expr *(*sub) (Parser *))
{
	Expr	   *first = sub(p);
	Expr	   *e;
	int			cap = 0;

	if (first == NULL || !at(p, optok))
		return first;
	e = new_expr(p, kind, &p->cur);
	if (e == NULL)
		return NULL;
	e->args = grow(p, NULL, 0, &cap, sizeof(Expr *));
	if (e->args == NULL)
		return NULL;
	e->args[e->nargs++] = first;
	while (accept(p, optok))
	{
		Expr	   *x = sub(p);

		if (x == NULL)
			return NULL;
		e->args = grow(p, e->args, e->nargs, &cap, sizeof(Expr *));
		if (e->args == NULL)
			return NULL;
		e->args[e->nargs++] = x;
	}
	return e;
}

static Expr *
parse_and(Parser *p)
{
	return parse_chain(p, T_AND, EK_AND, parse_not);
}

static Expr *
parse_expr(Parser *p)
{
	Expr	   *e;

	if (++p->depth > SP_MAX_DEPTH)
	{
		sp_diag(p->diags, p->cur.line, p->cur.col,
				"expression nested too deeply");
		return NULL;
	}
	e = parse_chain(p, T_OR, EK_OR, parse_and);
	p->depth--;
	return e;
}

/* A literal value (or array of them) for metadata and settings. */
static Expr *
parse_value(Parser *p)
{
	Expr	   *e = parse_expr(p);

	return e;
}

/* metadata { k = v ... } and settings { k: v ... } */
static void
parse_kv_block(Parser *p, KeyValue **out, int *nout)
{
	static const TokKind stops[] = {T_IDENT, T_SEMI};
	int			cap = 0;

	bump(p);					/* keyword */
	if (!expect(p, T_LBRACE, "'{'"))
		return;
	while (!at(p, T_RBRACE) && !at(p, T_EOF))
	{
		KeyValue	kv;

		if (accept(p, T_SEMI) || accept(p, T_COMMA))
			continue;
		memset(&kv, 0, sizeof(kv));
		kv.line = p->cur.line;
		kv.col = p->cur.col;
		if (at(p, T_IDENT) || at(p, T_STRING) ||
			(p->cur.kind >= T_POLICY && p->cur.kind <= T_BECAUSE))
		{
			kv.key = p->cur.kind == T_IDENT || p->cur.kind == T_STRING ?
				p->cur.text : sp_tok_name(p->cur.kind);
			bump(p);
		}
		else
		{
			err_expected(p, "a key");
			bump(p);
			sync_to(p, stops, 2);
			continue;
		}
		if (!accept(p, T_ASSIGN) && !accept(p, T_COLON))
		{
			err_expected(p, "'=' or ':'");
			sync_to(p, stops, 2);
			continue;
		}
		kv.value = parse_value(p);
		if (kv.value == NULL)
		{
			sync_to(p, stops, 2);
			continue;
		}
		*out = grow(p, *out, *nout, &cap, sizeof(KeyValue));
		if (*out == NULL)
			return;
		(*out)[(*nout)++] = kv;
	}
	expect(p, T_RBRACE, "'}'");
}

/* profile severity { map vendor_weight {...} env name {...} } */
static void
parse_profile(Parser *p, PolicyAst *ast)
{
	static const TokKind stops[] = {T_MAP, T_ENV, T_SEMI};
	int			wcap = 0,
				acap = 0;
	Token		t;

	bump(p);					/* profile */
	t = p->cur;
	if (!expect(p, T_IDENT, "a profile name"))
		return;
	/* TODO accept StellaOps' other profile kinds once policies need them. */
	if (strcmp(t.text, "severity") != 0)
		sp_diag(p->diags, t.line, t.col,
				"unknown profile \"%s\"; the supported profile is \"severity\"",
				t.text);
	if (ast->has_profile)
		sp_diag(p->diags, t.line, t.col, "duplicate profile \"%s\"", t.text);
	ast->has_profile = true;
	if (!expect(p, T_LBRACE, "'{'"))
		return;

	while (!at(p, T_RBRACE) && !at(p, T_EOF))
	{
		if (accept(p, T_SEMI))
			continue;
		if (accept(p, T_MAP))
		{
			Token		name = p->cur;

			if (!expect(p, T_IDENT, "a map name") ||
				!expect(p, T_LBRACE, "'{'"))
			{
				sync_to(p, stops, 3);
				continue;
			}
			if (strcmp(name.text, "vendor_weight") != 0)
				sp_diag(p->diags, name.line, name.col,
						"unknown map \"%s\"; the supported map is \"vendor_weight\"",
						name.text);
			while (!at(p, T_RBRACE) && !at(p, T_EOF))
			{
				VendorWeight w;

				if (accept(p, T_SEMI) || accept(p, T_COMMA))
					continue;
				memset(&w, 0, sizeof(w));
				w.line = p->cur.line;
				w.col = p->cur.col;
				if (!at_word(p, "source"))
				{
					err_expected(p, "source");
					sync_to(p, stops, 0);
					break;
				}
				bump(p);
				w.source = p->cur.text;
				if (!expect(p, T_STRING, "a source name string") ||
					!expect(p, T_ARROW, "'=>'"))
				{
					sync_to(p, stops, 0);
					break;
				}
				w.weight = p->cur.num;
				if (!expect(p, T_NUMBER, "a weight number"))
				{
					sync_to(p, stops, 0);
					break;
				}
				ast->weights = grow(p, ast->weights, ast->nweights, &wcap,
									sizeof(VendorWeight));
				if (ast->weights == NULL)
					return;
				ast->weights[ast->nweights++] = w;
			}
			expect(p, T_RBRACE, "'}'");
		}
		else if (accept(p, T_ENV))
		{
			Token		name = p->cur;

			if (!expect(p, T_IDENT, "an adjustment block name") ||
				!expect(p, T_LBRACE, "'{'"))
			{
				sync_to(p, stops, 3);
				continue;
			}
			while (!at(p, T_RBRACE) && !at(p, T_EOF))
			{
				EnvAdjust	adj;

				if (accept(p, T_SEMI) || accept(p, T_COMMA))
					continue;
				memset(&adj, 0, sizeof(adj));
				adj.block = name.text;
				if (!at_word(p, "if"))
				{
					err_expected(p, "if");
					sync_to(p, stops, 0);
					break;
				}
				bump(p);
				adj.cond = parse_expr(p);
				if (adj.cond == NULL || !expect(p, T_THEN, "then"))
				{
					sync_to(p, stops, 0);
					break;
				}
				adj.delta = p->cur.num;
				if (!expect(p, T_NUMBER, "an adjustment number"))
				{
					sync_to(p, stops, 0);
					break;
				}
				ast->adjusts = grow(p, ast->adjusts, ast->nadjusts, &acap,
									sizeof(EnvAdjust));
				if (ast->adjusts == NULL)
					return;
				ast->adjusts[ast->nadjusts++] = adj;
			}
			expect(p, T_RBRACE, "'}'");
		}
		else
		{
			err_expected(p, "map or env");
			bump(p);
			sync_to(p, stops, 3);
		}
	}
	expect(p, T_RBRACE, "'}'");
}

/* A bracketed list of strings (requireVex). */
static bool
parse_string_array(Parser *p, const char ***out, int *nout)
{
	int			cap = 0;

	if (!expect(p, T_LBRACKET, "'['"))
		return false;
	while (!accept(p, T_RBRACKET))
	{
		Token		t = p->cur;

		if (!expect(p, T_STRING, "a string"))
			return false;
		*out = grow(p, *out, *nout, &cap, sizeof(char *));
		if (*out == NULL)
			return false;
		(*out)[(*nout)++] = t.text;
		if (!accept(p, T_COMMA) && !at(p, T_RBRACKET))
		{
			err_expected(p, "',' or ']'");
			return false;
		}
	}
	return true;
}

/* True when the current token can begin an action. */
static bool
at_action(Parser *p)
{
	static const char *const words[] = {
		"status", "escalate", "warn", "ignore", "requireVex", "annotate"
	};
	size_t		i;

	if (!at(p, T_IDENT))
		return false;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(p->cur.text, words[i]) == 0)
			return true;
	return false;
}

/* One action; false after reporting an error. */
static bool
parse_action(Parser *p, Action *a)
{
	Token		t = p->cur;

	memset(a, 0, sizeof(*a));
	a->line = t.line;
	a->col = t.col;
	bump(p);
	if (strcmp(t.text, "status") == 0)
	{
		a->kind = A_STATUS;
		if (!expect(p, T_DEFINE, "':='"))
			return false;
		a->value = parse_expr(p);
		return a->value != NULL;
	}
	if (strcmp(t.text, "escalate") == 0)
	{
		a->kind = A_ESCALATE;
		if (!at_word(p, "to"))
		{
			err_expected(p, "to");
			return false;
		}
		bump(p);
		a->value = parse_expr(p);
		return a->value != NULL;
	}
	if (strcmp(t.text, "warn") == 0)
	{
		a->kind = A_WARN;
		if (at_word(p, "message"))
			bump(p);
		a->value = parse_expr(p);
		return a->value != NULL;
	}
	if (strcmp(t.text, "ignore") == 0)
	{
		Token		ts;

		a->kind = A_IGNORE;
		if (!at_word(p, "until"))
		{
			err_expected(p, "until");
			return false;
		}
		bump(p);
		ts = p->cur;
		if (!expect(p, T_STRING, "a timestamp string"))
			return false;
		if (!sp_parse_timestamp(ts.text, ts.len, &a->until))
		{
			sp_diag(p->diags, ts.line, ts.col,
					"invalid timestamp \"%s\"; expected ISO-8601 such as 2026-01-01T00:00:00Z",
					ts.text);
			return false;
		}
		return true;
	}
	if (strcmp(t.text, "requireVex") == 0)
	{
		a->kind = A_REQUIRE_VEX;
		if (!expect(p, T_LBRACE, "'{'"))
			return false;
		while (!accept(p, T_RBRACE))
		{
			Token		k = p->cur;

			if (accept(p, T_SEMI) || accept(p, T_COMMA))
				continue;
			if (!expect(p, T_IDENT, "vendors or justifications"))
				return false;
			if (!accept(p, T_ASSIGN) && !accept(p, T_COLON))
			{
				err_expected(p, "'=' or ':'");
				return false;
			}
			if (strcmp(k.text, "vendors") == 0)
			{
				if (!parse_string_array(p, &a->vendors, &a->nvendors))
					return false;
			}
			else if (strcmp(k.text, "justifications") == 0)
			{
				if (!parse_string_array(p, &a->justs, &a->njusts))
					return false;
			}
			else
			{
				sp_diag(p->diags, k.line, k.col,
						"unknown requireVex key \"%s\"; expected vendors or justifications",
						k.text);
				return false;
			}
		}
		return true;
	}

	/* annotate */
	a->kind = A_ANNOTATE;
	a->key = p->cur.text;
	if (!expect(p, T_IDENT, "an annotation key") ||
		!expect(p, T_DEFINE, "':='"))
		return false;
	a->value = parse_expr(p);
	return a->value != NULL;
}

/* Actions after then/else, until a clause keyword or the rule's end. */
static void
parse_actions(Parser *p, Action **out, int *nout)
{
	static const TokKind stops[] = {T_ELSE, T_BECAUSE, T_WHEN, T_THEN,
	T_IDENT, T_SEMI};
	int			cap = 0;

	for (;;)
	{
		Action		a;

		if (accept(p, T_SEMI))
			continue;
		if (!at(p, T_IDENT))
			break;
		if (!at_action(p))
		{
			sp_diag(p->diags, p->cur.line, p->cur.col,
					"unknown action \"%s\"", p->cur.text);
			bump(p);
			sync_to(p, stops, 6);
			continue;
		}
		if (!parse_action(p, &a))
		{
			/* Resume at the next action or clause. */
			while (!at(p, T_EOF) && !at(p, T_RBRACE) && !at_action(p) &&
				   !at(p, T_ELSE) && !at(p, T_BECAUSE) && !at(p, T_RULE))
			{
				if (at(p, T_LBRACE))
					sync_to(p, stops, 0);
				bump(p);
			}
			continue;
		}
		*out = grow(p, *out, *nout, &cap, sizeof(Action));
		if (*out == NULL)
			return;
		(*out)[(*nout)++] = a;
	}
}

/* rule name [priority n] { when ... then ... [else ...] [because "..."] } */
static bool
parse_rule(Parser *p, Rule *r)
{
	static const TokKind stops[] = {T_THEN, T_ELSE, T_BECAUSE, T_WHEN};
	Token		t;
	bool		saw_then = false;

	memset(r, 0, sizeof(*r));
	bump(p);					/* rule */
	t = p->cur;
	r->line = t.line;
	r->col = t.col;
	if (!expect(p, T_IDENT, "a rule name"))
		return false;
	r->name = t.text;
	if (accept(p, T_PRIORITY))
	{
		Token		n = p->cur;

		if (!expect(p, T_NUMBER, "a priority number"))
			return false;
		if (n.num % 1000 != 0)
			sp_diag(p->diags, n.line, n.col, "priority must be an integer");
		r->has_priority = true;
		r->priority = n.num / 1000;
	}
	if (!expect(p, T_LBRACE, "'{'"))
		return false;

	while (!at(p, T_RBRACE) && !at(p, T_EOF))
	{
		Token		c = p->cur;

		if (accept(p, T_SEMI))
			continue;
		if (accept(p, T_WHEN))
		{
			if (r->when != NULL)
				sp_diag(p->diags, c.line, c.col,
						"rule \"%s\" has more than one when", r->name);
			r->when = parse_expr(p);
			if (r->when == NULL)
				sync_to(p, stops, 4);
		}
		else if (accept(p, T_THEN))
		{
			if (saw_then)
				sp_diag(p->diags, c.line, c.col,
						"rule \"%s\" has more than one then", r->name);
			saw_then = true;
			parse_actions(p, &r->then_acts, &r->nthen);
			if (r->nthen == 0 && !p->oom)
				sp_diag(p->diags, c.line, c.col,
						"then needs at least one action");
		}
		else if (accept(p, T_ELSE))
		{
			if (r->has_else)
				sp_diag(p->diags, c.line, c.col,
						"rule \"%s\" has more than one else", r->name);
			r->has_else = true;
			parse_actions(p, &r->else_acts, &r->nelse);
			if (r->nelse == 0 && !p->oom)
				sp_diag(p->diags, c.line, c.col,
						"else needs at least one action");
		}
		else if (accept(p, T_BECAUSE))
		{
			Token		s = p->cur;

			if (r->because != NULL)
				sp_diag(p->diags, c.line, c.col,
						"rule \"%s\" has more than one because", r->name);
			if (expect(p, T_STRING, "a rationale string"))
				r->because = s.text;
			else
				sync_to(p, stops, 4);
		}
		else
		{
			err_expected(p, "when, then, else or because");
			bump(p);
			sync_to(p, stops, 4);
		}
	}
	if (!expect(p, T_RBRACE, "'}'"))
		return false;
	if (r->when == NULL)
		sp_diag(p->diags, r->line, r->col, "rule \"%s\" has no when",
				r->name);
	if (!saw_then)
		sp_diag(p->diags, r->line, r->col, "rule \"%s\" has no then",
				r->name);
	return true;
}

/* Parse a whole policy file; diagnostics go to diags. */
PolicyAst *
sp_dsl_parse(const char *src, size_t len, DiagList *diags, SpArena *arena)
{
	static const TokKind top[] = {T_METADATA, T_SETTINGS, T_PROFILE, T_RULE};
	Parser		p;
	PolicyAst  *ast;
	int			rcap = 0;
	Token		t;

	memset(&p, 0, sizeof(p));
	p.diags = diags;
	p.arena = arena;
	ast = sp_alloc(arena, sizeof(PolicyAst));
	if (ast == NULL)
		return NULL;
	sp_lex_init(&p.lx, src, len, diags, arena);
	sp_lex_next(&p.lx, &p.cur);
	sp_lex_next(&p.lx, &p.next);

	/* Header: policy "name" syntax "stella-dsl@1" { */
	if (!expect(&p, T_POLICY, "policy"))
		return NULL;
	t = p.cur;
	if (!expect(&p, T_STRING, "a policy name string"))
		return NULL;
	ast->name = t.text;
	if (!expect(&p, T_SYNTAX, "syntax"))
		return NULL;
	t = p.cur;
	if (!expect(&p, T_STRING, "a syntax string"))
		return NULL;
	ast->syntax = t.text;
	ast->syntax_line = t.line;
	ast->syntax_col = t.col;
	if (strcmp(t.text, SP_DSL_SYNTAX) != 0)
		sp_diag(diags, t.line, t.col,
				"unsupported syntax \"%s\"; supported syntaxes: \"%s\"",
				t.text, SP_DSL_SYNTAX);
	if (!expect(&p, T_LBRACE, "'{'"))
		return NULL;

	while (!at(&p, T_RBRACE) && !at(&p, T_EOF) && !p.oom)
	{
		if (accept(&p, T_SEMI))
			continue;
		switch (p.cur.kind)
		{
			case T_METADATA:
				if (ast->metadata != NULL)
					sp_diag(diags, p.cur.line, p.cur.col,
							"duplicate metadata block");
				parse_kv_block(&p, &ast->metadata, &ast->nmetadata);
				break;
			case T_SETTINGS:
				if (ast->settings != NULL)
					sp_diag(diags, p.cur.line, p.cur.col,
							"duplicate settings block");
				parse_kv_block(&p, &ast->settings, &ast->nsettings);
				break;
			case T_PROFILE:
				parse_profile(&p, ast);
				break;
			case T_RULE:
				{
					Rule		r;

					if (parse_rule(&p, &r))
					{
						ast->rules = grow(&p, ast->rules, ast->nrules, &rcap,
										  sizeof(Rule));
						if (ast->rules == NULL)
							return NULL;
						ast->rules[ast->nrules++] = r;
					}
					else
					{
						sync_to(&p, top, 4);
						accept(&p, T_RBRACE);
					}
					break;
				}
			default:
				err_expected(&p, "metadata, settings, profile or rule");
				bump(&p);
				sync_to(&p, top, 4);
				break;
		}
	}
	if (p.oom)
	{
		sp_diag(diags, p.cur.line, p.cur.col, "out of memory");
		return NULL;
	}
	if (!expect(&p, T_RBRACE, "'}'"))
		return NULL;
	if (!at(&p, T_EOF))
	{
		err_expected(&p, "end of input (one policy per file)");
		return NULL;
	}
	return ast;
}
