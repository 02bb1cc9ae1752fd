/*-------------------------------------------------------------------------
 *
 * dsl_check.c
 *	  Name resolution and compile-time type checks of stella-dsl@1.
 *
 * The checker walks the parser's AST, replaces identifiers, member
 * accesses and calls by resolved nodes (tuple fields, env keys, built-in
 * functions, VEX quantifiers), folds band names into band constants, and
 * reports what can be seen before any tuple exists: unknown names, wrong
 * argument counts, comparisons between incompatible types, `in` over a
 * non-array, duplicate rule names.  It keeps going after an error so that
 * all problems are reported together.  Finally it sorts the rules into
 * evaluation order.
 *
 *-------------------------------------------------------------------------
 */
#include "dsl_int.h"

#include <stdlib.h>
#include <string.h>

#include "cvss.h"

const FieldInfo sp_fields[F__COUNT] = {
	{"sbom", "id", "sbom.id", TY_STR},
	{"sbom", "tags", "sbom.tags", TY_LIST},
	{"component", "purl", "component.purl", TY_STR},
	{"component", "name", "component.name", TY_STR},
	{"component", "version", "component.version", TY_STR},
	{"component", "ecosystem", "component.ecosystem", TY_STR},
	{"component", "scope", "component.scope", TY_STR},
	{"component", "licenses", "component.licenses", TY_LIST},
	{"advisory", "id", "advisory.id", TY_STR},
	{"advisory", "source", "advisory.source", TY_STR},
	{"advisory", "aliases", "advisory.aliases", TY_LIST},
	{"advisory", "tags", "advisory.tags", TY_LIST},
	{"advisory", "published", "advisory.published", TY_STR},
	{"advisory", "modified", "advisory.modified", TY_STR},
	{"severity", "score", "severity.score", TY_NUM},
	{"severity", "normalized", "severity.normalized", TY_BAND},
	{"vex", "status", "vex.status", TY_STR},
	{"vex", "justification", "vex.justification", TY_STR},
};

const char *const sp_stmt_members[SM__COUNT] = {
	"statementId", "status", "justification", "issuer"
};

const char *const sp_func_names[FN__COUNT] = {
	"severity_band", "normalize_cvss", "cvss", "exists", "coalesce",
	"lowercase", "sbom.has_tag", "advisory.has_tag"
};

static const char *const namespaces[] = {
	"sbom", "component", "advisory", "severity", "vex", "env"
};

static const char *const type_names[] = {
	"any", "null", "boolean", "number", "string", "band", "array",
	"VEX statement"
};

typedef struct Checker
{
	DiagList   *diags;
	SpArena    *arena;
	bool		in_pred;		/* inside vex.any/vex.all */
	bool		in_profile;		/* severity profile conditions */
} Checker;

static VType check_expr(Checker *c, Expr *e);

static bool
is_namespace(const char *s)
{
	size_t		i;

	for (i = 0; i < sizeof(namespaces) / sizeof(namespaces[0]); i++)
		if (strcmp(s, namespaces[i]) == 0)
			return true;
	return false;
}

/* Band rank of a name such as "High" (any case); -1 when unknown. */
int
sp_band_from_name(const char *s, size_t len)
{
	static const char *const names[] = {"none", "low", "medium", "high",
	"critical"};
	int			i;

	for (i = 0; i < 5; i++)
	{
		size_t		j;

		if (strlen(names[i]) != len)
			continue;
		for (j = 0; j < len; j++)
		{
			char		ch = s[j];

			if (ch >= 'A' && ch <= 'Z')
				ch = (char) (ch - 'A' + 'a');
			if (ch != names[i][j])
				break;
		}
		if (j == len)
			return i;
	}
	return -1;
}

/* Turn a string literal into a band constant, reporting unknown names. */
static bool
fold_band(Checker *c, Expr *e)
{
	int			b = sp_band_from_name(e->str, e->slen);

	if (b < 0)
	{
		sp_diag(c->diags, e->line, e->col,
				"unknown severity band \"%s\"; expected None, Low, Medium, High or Critical",
				e->str);
		return false;
	}
	e->kind = EK_BAND;
	e->num = b;
	e->type = TY_BAND;
	return true;
}

static bool
known(VType t)
{
	return t != TY_ANY && t != TY_NULL;
}

/* Require a string-ish argument. */
static void
want_string(Checker *c, Expr *arg, VType t, const char *fn)
{
	if (known(t) && t != TY_STR)
		sp_diag(c->diags, arg->line, arg->col,
				"%s expects a string, not a %s", fn, type_names[t]);
}

static bool
check_arity(Checker *c, Expr *e, const char *fn, int min, int max)
{
	if (e->nargs < min || (max >= 0 && e->nargs > max))
	{
		if (min == max)
			sp_diag(c->diags, e->line, e->col,
					"%s takes %d argument%s, not %d", fn, min,
					min == 1 ? "" : "s", e->nargs);
		else
			sp_diag(c->diags, e->line, e->col,
					"%s takes at least %d argument%s, not %d", fn, min,
					min == 1 ? "" : "s", e->nargs);
		return false;
	}
	return true;
}

/* Resolve a call: built-in functions and namespace methods. */
static VType
check_call(Checker *c, Expr *e)
{
	Expr	   *callee = e->a;
	VType		at[64];
	int			i;

	if (callee->kind == EK_IDENT)
	{
		const char *fn = callee->str;
		int			id = -1;

		for (i = 0; i < FN_SBOM_HAS_TAG; i++)
			if (strcmp(fn, sp_func_names[i]) == 0)
				id = i;
		if (id < 0)
		{
			sp_diag(c->diags, callee->line, callee->col,
					"unknown function \"%s\"", fn);
			for (i = 0; i < e->nargs; i++)
				check_expr(c, e->args[i]);
			return TY_ANY;
		}
		for (i = 0; i < e->nargs; i++)
		{
			VType		t = check_expr(c, e->args[i]);

			if (i < 64)
				at[i] = t;
		}
		e->kind = EK_FUNC;
		e->id = (int16_t) id;
		e->a = NULL;
		switch (id)
		{
			case FN_SEVERITY_BAND:
				if (!check_arity(c, e, fn, 1, 1))
					return TY_BAND;
				want_string(c, e->args[0], at[0], fn);

				/* A literal band name becomes a constant. */
				if (e->args[0]->kind == EK_STR)
				{
					Expr	   *arg = e->args[0];

					arg->line = e->line;
					arg->col = e->col;
					if (fold_band(c, arg))
						*e = *arg;
				}
				return TY_BAND;
			case FN_NORMALIZE_CVSS:
			case FN_CVSS:
				if (!check_arity(c, e, fn, 1, 1))
					return id == FN_CVSS ? TY_NUM : TY_BAND;
				want_string(c, e->args[0], at[0], fn);
				if (e->args[0]->kind == EK_STR)
				{
					int32_t		score;
					char		err[128];

					if (sp_cvss_base_score(e->args[0]->str, &score, err,
										   sizeof(err)) != 0)
						sp_diag(c->diags, e->args[0]->line,
								e->args[0]->col, "invalid CVSS vector: %s",
								err);
				}
				return id == FN_CVSS ? TY_NUM : TY_BAND;
			case FN_EXISTS:
				check_arity(c, e, fn, 1, 1);
				return TY_BOOL;
			case FN_COALESCE:
				{
					VType		common = TY_NULL;

					if (!check_arity(c, e, fn, 1, -1))
						return TY_ANY;
					for (i = 0; i < e->nargs && i < 64; i++)
					{
						if (at[i] == TY_NULL)
							continue;
						if (common == TY_NULL)
							common = at[i];
						else if (common != at[i])
							common = TY_ANY;
					}
					return common;
				}
			case FN_LOWERCASE:
				if (check_arity(c, e, fn, 1, 1))
					want_string(c, e->args[0], at[0], fn);
				return TY_STR;
		}
		return TY_ANY;
	}

	if (callee->kind == EK_MEMBER && callee->a->kind == EK_IDENT)
	{
		const char *ns = callee->a->str;
		const char *m = callee->str;

		if (strcmp(ns, "vex") == 0 &&
			(strcmp(m, "any") == 0 || strcmp(m, "all") == 0))
		{
			e->kind = strcmp(m, "any") == 0 ? EK_VEX_ANY : EK_VEX_ALL;
			e->a = NULL;
			if (c->in_pred)
			{
				sp_diag(c->diags, e->line, e->col,
						"vex.%s cannot be nested inside another VEX predicate",
						m);
				return TY_BOOL;
			}
			if (!check_arity(c, e, m, 1, 1))
				return TY_BOOL;
			c->in_pred = true;
			{
				VType		t = check_expr(c, e->args[0]);

				if (known(t) && t != TY_BOOL)
					sp_diag(c->diags, e->args[0]->line, e->args[0]->col,
							"vex.%s needs a boolean predicate, not a %s",
							m, type_names[t]);
			}
			c->in_pred = false;
			e->a = e->args[0];
			e->args = NULL;
			e->nargs = 0;
			return TY_BOOL;
		}
		if (strcmp(ns, "vex") == 0 && strcmp(m, "latest") == 0)
		{
			e->kind = EK_VEX_LATEST;
			e->a = NULL;
			check_arity(c, e, "vex.latest", 0, 0);
			return TY_STMT;
		}
		if ((strcmp(ns, "sbom") == 0 || strcmp(ns, "advisory") == 0) &&
			strcmp(m, "has_tag") == 0)
		{
			VType		t = TY_ANY;

			for (i = 0; i < e->nargs; i++)
				t = check_expr(c, e->args[i]);
			e->kind = EK_FUNC;
			e->id = ns[0] == 's' ? FN_SBOM_HAS_TAG : FN_ADV_HAS_TAG;
			e->a = NULL;
			if (check_arity(c, e, sp_func_names[e->id], 1, 1))
				want_string(c, e->args[0], t, sp_func_names[e->id]);
			return TY_BOOL;
		}
		if (is_namespace(ns))
			sp_diag(c->diags, callee->line, callee->col,
					"unknown function \"%s.%s\"", ns, m);
		else
			sp_diag(c->diags, callee->a->line, callee->a->col,
					"unknown namespace \"%s\"", ns);
		return TY_ANY;
	}

	sp_diag(c->diags, e->line, e->col, "this expression cannot be called");
	return TY_ANY;
}

/* Resolve a member access: a namespace field, env key or statement field. */
static VType
check_member(Checker *c, Expr *e)
{
	Expr	   *obj = e->a;
	int			i;

	if (obj->kind == EK_IDENT && !(c->in_pred && !is_namespace(obj->str)))
	{
		const char *ns = obj->str;

		if (!is_namespace(ns))
		{
			sp_diag(c->diags, obj->line, obj->col,
					"unknown namespace \"%s\"", ns);
			return TY_ANY;
		}
		if (strcmp(ns, "env") == 0)
		{
			char	   *key = sp_strndup(c->arena, e->str, e->slen);
			size_t		j;

			/* Env keys are case-insensitive: fold them once, here. */
			if (key == NULL)
				return TY_ANY;
			for (j = 0; j < e->slen; j++)
				if (key[j] >= 'A' && key[j] <= 'Z')
					key[j] = (char) (key[j] - 'A' + 'a');
			e->kind = EK_ENV;
			e->str = key;
			e->a = NULL;
			return TY_ANY;
		}
		if (strcmp(ns, "severity") == 0 && c->in_profile)
		{
			sp_diag(c->diags, e->line, e->col,
					"severity.%s cannot be used inside the severity profile",
					e->str);
			return TY_ANY;
		}
		for (i = 0; i < F__COUNT; i++)
		{
			if (strcmp(sp_fields[i].ns, ns) == 0 &&
				strcmp(sp_fields[i].member, e->str) == 0)
			{
				e->kind = EK_FIELD;
				e->id = (int16_t) i;
				e->a = NULL;
				return sp_fields[i].type;
			}
		}
		if (strcmp(e->str, "has_tag") == 0 || strcmp(e->str, "any") == 0 ||
			strcmp(e->str, "all") == 0 || strcmp(e->str, "latest") == 0)
			sp_diag(c->diags, e->line, e->col,
					"%s.%s is a function and must be called", ns, e->str);
		else
			sp_diag(c->diags, e->line, e->col,
					"unknown member \"%s\" of \"%s\"", e->str, ns);
		return TY_ANY;
	}

	/* Members of a statement, e.g. vex.latest().justification. */
	{
		VType		t = check_expr(c, obj);

		if (t == TY_STMT || t == TY_ANY)
		{
			for (i = 0; i < SM__COUNT; i++)
			{
				if (strcmp(sp_stmt_members[i], e->str) == 0)
				{
					e->kind = EK_STMT_MEMBER;
					e->id = (int16_t) i;
					return TY_STR;
				}
			}
			sp_diag(c->diags, e->line, e->col,
					"unknown member \"%s\" of a VEX statement; expected statementId, status, justification or issuer",
					e->str);
			return TY_ANY;
		}
		sp_diag(c->diags, e->line, e->col,
				"a %s has no member \"%s\"", type_names[t], e->str);
		return TY_ANY;
	}
}

/* Compile-time checks of a comparison; folds band names. */
static void
check_cmp(Checker *c, Expr *e, VType lt, VType rt)
{
	static const char *const ops[] = {"==", "!=", "<", "<=", ">", ">="};
	bool		ordering = e->op >= OP_LT;

	/* "High" next to a band is a band. */
	if (lt == TY_BAND && e->b->kind == EK_STR)
	{
		if (!fold_band(c, e->b))
			return;
		rt = TY_BAND;
	}
	if (rt == TY_BAND && e->a->kind == EK_STR)
	{
		if (!fold_band(c, e->a))
			return;
		lt = TY_BAND;
	}

	if (!known(lt) || !known(rt))
	{
		if (ordering && (lt == TY_NULL || rt == TY_NULL))
			sp_diag(c->diags, e->line, e->col,
					"operator %s cannot order null", ops[e->op]);
		return;
	}
	if ((lt == TY_BAND && rt == TY_STR) || (lt == TY_STR && rt == TY_BAND))
		return;					/* converted at run time */
	if (lt != rt)
	{
		sp_diag(c->diags, e->line, e->col,
				"cannot compare a %s with a %s", type_names[lt],
				type_names[rt]);
		return;
	}
	if (lt == TY_LIST || lt == TY_STMT)
		sp_diag(c->diags, e->line, e->col,
				"cannot compare values of type %s with %s",
				type_names[lt], ops[e->op]);
	else if (ordering && lt == TY_BOOL)
		sp_diag(c->diags, e->line, e->col,
				"operator %s cannot order booleans", ops[e->op]);
}

static VType
check_expr(Checker *c, Expr *e)
{
	VType		t = TY_ANY;
	int			i;

	switch ((ExprKind) e->kind)
	{
		case EK_NULL:
			t = TY_NULL;
			break;
		case EK_BOOL:
			t = TY_BOOL;
			break;
		case EK_NUM:
			t = TY_NUM;
			break;
		case EK_STR:
			t = TY_STR;
			break;
		case EK_BAND:
			t = TY_BAND;
			break;
		case EK_ARRAY:
			for (i = 0; i < e->nargs; i++)
			{
				VType		et = check_expr(c, e->args[i]);

				if (et == TY_LIST || et == TY_STMT)
					sp_diag(c->diags, e->args[i]->line, e->args[i]->col,
							"array elements must be scalar values");
			}
			t = TY_LIST;
			break;
		case EK_IDENT:
			if (c->in_pred)
			{
				for (i = 0; i < SM__COUNT; i++)
				{
					if (strcmp(e->str, sp_stmt_members[i]) == 0)
					{
						e->kind = EK_PRED;
						e->id = (int16_t) i;
						t = TY_STR;
						break;
					}
				}
				if (e->kind == EK_PRED)
					break;
			}
			if (is_namespace(e->str))
				sp_diag(c->diags, e->line, e->col,
						"namespace \"%s\" needs a member, as in %s.<name>",
						e->str, e->str);
			else if (c->in_pred)
				sp_diag(c->diags, e->line, e->col,
						"unknown identifier \"%s\"; inside a VEX predicate use status, justification, issuer or statementId",
						e->str);
			else
				sp_diag(c->diags, e->line, e->col,
						"unknown identifier \"%s\"", e->str);
			break;
		case EK_MEMBER:
			t = check_member(c, e);
			break;
		case EK_CALL:
			t = check_call(c, e);
			break;
		case EK_AND:
		case EK_OR:
			for (i = 0; i < e->nargs; i++)
			{
				VType		at = check_expr(c, e->args[i]);

				if (known(at) && at != TY_BOOL)
					sp_diag(c->diags, e->args[i]->line, e->args[i]->col,
							"%s needs boolean operands, not a %s",
							e->kind == EK_AND ? "and" : "or", type_names[at]);
			}
			t = TY_BOOL;
			break;
		case EK_NOT:
			{
				VType		at = check_expr(c, e->a);

				if (known(at) && at != TY_BOOL)
					sp_diag(c->diags, e->a->line, e->a->col,
							"not needs a boolean operand, not a %s",
							type_names[at]);
				t = TY_BOOL;
				break;
			}
		case EK_CMP:
			{
				VType		lt = check_expr(c, e->a);
				VType		rt = check_expr(c, e->b);

				check_cmp(c, e, lt, rt);
				t = TY_BOOL;
				break;
			}
		case EK_IN:
			{
				VType		lt = check_expr(c, e->a);
				VType		rt = check_expr(c, e->b);

				if (known(rt) && rt != TY_LIST)
					sp_diag(c->diags, e->b->line, e->b->col,
							"in needs an array on its right, not a %s",
							type_names[rt]);
				else if (lt == TY_LIST || lt == TY_STMT)
					sp_diag(c->diags, e->a->line, e->a->col,
							"in needs a scalar on its left, not a %s",
							type_names[lt]);
				else if (e->b->kind == EK_ARRAY)
				{
					/* Band membership: fold names; check literal types. */
					for (i = 0; i < e->b->nargs; i++)
					{
						Expr	   *x = e->b->args[i];

						if (lt == TY_BAND && x->kind == EK_STR)
							fold_band(c, x);
						else if (known(lt) && known((VType) x->type) &&
								 x->type != lt &&
								 !(lt == TY_STR && x->type == TY_BAND) &&
								 !(lt == TY_BAND && x->type == TY_STR))
							sp_diag(c->diags, x->line, x->col,
									"array element is a %s but the left side of in is a %s",
									type_names[x->type], type_names[lt]);
					}
				}
				t = TY_BOOL;
				break;
			}
		default:
			/* Already resolved (cannot happen for parser output). */
			t = (VType) e->type;
			break;
	}
	e->type = (uint8_t) t;
	return t;
}

/* Check a literal-only value of metadata or settings. */
static bool
is_literal(const Expr *e)
{
	int			i;

	switch (e->kind)
	{
		case EK_NULL:
		case EK_BOOL:
		case EK_NUM:
		case EK_STR:
			return true;
		case EK_ARRAY:
			for (i = 0; i < e->nargs; i++)
				if (!is_literal(e->args[i]))
					return false;
			return true;
		default:
			return false;
	}
}

static void
check_kv(Checker *c, KeyValue *kv, int n, const char *block)
{
	int			i,
				j;

	for (i = 0; i < n; i++)
	{
		if (!is_literal(kv[i].value))
			sp_diag(c->diags, kv[i].value->line, kv[i].value->col,
					"%s values must be literals or arrays of literals",
					block);
		for (j = 0; j < i; j++)
			if (strcmp(kv[i].key, kv[j].key) == 0)
			{
				sp_diag(c->diags, kv[i].line, kv[i].col,
						"duplicate %s key \"%s\"", block, kv[i].key);
				break;
			}
	}
}

/* Check one action of a rule. */
static void
check_action(Checker *c, Action *a)
{
	VType		t;

	switch (a->kind)
	{
		case A_STATUS:
		case A_WARN:
			t = check_expr(c, a->value);
			if (t != TY_ANY && t != TY_STR)
				sp_diag(c->diags, a->value->line, a->value->col,
						"%s needs a string, not a %s",
						a->kind == A_STATUS ? "status :=" : "warn message",
						type_names[t]);
			break;
		case A_ESCALATE:
			t = check_expr(c, a->value);
			if (a->value->kind == EK_STR)
				fold_band(c, a->value);
			else if (t != TY_ANY && t != TY_BAND)
				sp_diag(c->diags, a->value->line, a->value->col,
						"escalate to needs a severity band, not a %s",
						type_names[t]);
			break;
		case A_ANNOTATE:
			check_expr(c, a->value);
			break;
		case A_IGNORE:
		case A_REQUIRE_VEX:
			break;
	}
}

/* Evaluation order: priority ascending, unprioritised last, then name. */
int
sp_rule_order_cmp(const void *a, const void *b)
{
	const Rule *x = a;
	const Rule *y = b;

	if (x->has_priority != y->has_priority)
		return x->has_priority ? -1 : 1;
	if (x->has_priority && x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Resolve and check a parsed policy; sorts its rules. */
void
sp_dsl_check(PolicyAst *ast, DiagList *diags, SpArena *arena)
{
	Checker		c;
	int			i,
				j;

	memset(&c, 0, sizeof(c));
	c.diags = diags;
	c.arena = arena;

	check_kv(&c, ast->metadata, ast->nmetadata, "metadata");
	/* XXX should unknown settings keys be errors instead of kept in IR? */
	check_kv(&c, ast->settings, ast->nsettings, "settings");
	for (i = 0; i < ast->nsettings; i++)
	{
		KeyValue   *kv = &ast->settings[i];

		if (strcmp(kv->key, "default_status") == 0 &&
			kv->value->kind != EK_STR)
			sp_diag(diags, kv->value->line, kv->value->col,
					"settings.default_status must be a string");
		else if (strcmp(kv->key, "shadow") == 0 &&
				 kv->value->kind != EK_BOOL)
			sp_diag(diags, kv->value->line, kv->value->col,
					"settings.shadow must be true or false");
	}

	for (i = 0; i < ast->nweights; i++)
		for (j = 0; j < i; j++)
			if (strcmp(ast->weights[i].source, ast->weights[j].source) == 0)
			{
				sp_diag(diags, ast->weights[i].line, ast->weights[i].col,
						"duplicate vendor_weight source \"%s\"",
						ast->weights[i].source);
				break;
			}

	c.in_profile = true;
	for (i = 0; i < ast->nadjusts; i++)
	{
		VType		t = check_expr(&c, ast->adjusts[i].cond);

		if (known(t) && t != TY_BOOL)
			sp_diag(diags, ast->adjusts[i].cond->line,
					ast->adjusts[i].cond->col,
					"an env adjustment needs a boolean condition, not a %s",
					type_names[t]);
	}
	c.in_profile = false;

	for (i = 0; i < ast->nrules; i++)
	{
		Rule	   *r = &ast->rules[i];

		for (j = 0; j < i; j++)
			if (strcmp(r->name, ast->rules[j].name) == 0)
			{
				sp_diag(diags, r->line, r->col,
						"duplicate rule name \"%s\" (first defined at line %d)",
						r->name, ast->rules[j].line);
				break;
			}
		if (r->when != NULL)
		{
			VType		t = check_expr(&c, r->when);

			if (known(t) && t != TY_BOOL)
				sp_diag(diags, r->when->line, r->when->col,
						"when needs a boolean condition, not a %s",
						type_names[t]);
		}
		for (j = 0; j < r->nthen; j++)
			check_action(&c, &r->then_acts[j]);
		for (j = 0; j < r->nelse; j++)
			check_action(&c, &r->else_acts[j]);
	}

	if (diags->n == 0 && ast->nrules > 1)
		qsort(ast->rules, (size_t) ast->nrules, sizeof(Rule),
			  sp_rule_order_cmp);
}
