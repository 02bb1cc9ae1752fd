/*-------------------------------------------------------------------------
 *
 * dsl_ir.c
 *	  Canonical IR of stella-dsl@1 policies: emission, digest and loading.
 *
 * The IR is the compiled policy as JSON: keys sorted bytewise, no
 * insignificant whitespace, all numbers integers (scores and weights in
 * thousandths, times in epoch microseconds), rules already in evaluation
 * order, conditions as expression trees.  It holds no source positions,
 * so comments and layout never reach it; its SHA-256 is the policy digest.
 * sp_dsl_load() reads IR back into the resolved tree the evaluator walks,
 * validating every node, since IR may come from storage.  This file also
 * holds the compile entry point that runs the phases in order, and the
 * small string builder the other phases share.
 *
 *-------------------------------------------------------------------------
 */
#include "dsl_int.h"

#include "spjson.h"
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#define SP_IR_SCHEMA		"stellapolicy.ir@1"
#define SP_MAX_SOURCE		(16 * 1024 * 1024)

static const char *const cmp_names[] = {"==", "!=", "<", "<=", ">", ">="};
static const char *const band_names[] = {"None", "Low", "Medium", "High",
"Critical"};
static const char *const action_names[] = {"status", "escalate", "warn",
"ignore", "requireVex", "annotate"};

/* ---- string builder ---- */

void
sb_init(StrBuf *sb, SpArena *arena, size_t cap)
{
	sb->arena = arena;
	sb->len = 0;
	sb->cap = cap < 16 ? 16 : cap;
	sb->failed = false;
	sb->data = sp_alloc(arena, sb->cap);
	if (sb->data == NULL)
	{
		sb->failed = true;
		sb->cap = 0;
	}
}

void
sb_putn(StrBuf *sb, const char *s, size_t n)
{
	if (sb->failed)
		return;
	if (sb->len + n + 1 > sb->cap)
	{
		size_t		ncap = sb->cap * 2;
		char	   *nd;

		while (ncap < sb->len + n + 1)
			ncap *= 2;
		nd = sp_alloc(sb->arena, ncap);
		if (nd == NULL)
		{
			sb->failed = true;
			return;
		}
		memcpy(nd, sb->data, sb->len);
		sb->data = nd;
		sb->cap = ncap;
	}
	memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

void
sb_puts(StrBuf *sb, const char *s)
{
	sb_putn(sb, s, strlen(s));
}

void
sb_putc(StrBuf *sb, char c)
{
	sb_putn(sb, &c, 1);
}

/* A JSON string literal; bytes >= 0x80 pass through (input is UTF-8). */
void
sb_json_str(StrBuf *sb, const char *s, size_t n)
{
	size_t		i,
				run = 0;

	sb_putc(sb, '"');
	for (i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];
		char		esc[8];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		sb_putn(sb, s + run, i - run);
		run = i + 1;
		switch (c)
		{
			case '"':
				sb_puts(sb, "\\\"");
				break;
			case '\\':
				sb_puts(sb, "\\\\");
				break;
			case '\n':
				sb_puts(sb, "\\n");
				break;
			case '\t':
				sb_puts(sb, "\\t");
				break;
			case '\r':
				sb_puts(sb, "\\r");
				break;
			case '\b':
				sb_puts(sb, "\\b");
				break;
			case '\f':
				sb_puts(sb, "\\f");
				break;
			default:
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				sb_puts(sb, esc);
				break;
		}
	}
	sb_putn(sb, s + run, n - run);
	sb_putc(sb, '"');
}

void
sb_int(StrBuf *sb, int64_t v)
{
	char		buf[32];
	char	   *p = buf + sizeof(buf);
	uint64_t	u = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;

	/* By hand: snprintf is slow, and this runs for every verdict. */
	do
	{
		*--p = (char) ('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	sb_putn(sb, p, (size_t) (buf + sizeof(buf) - p));
}

/* Thousandths as the shortest decimal: 2500 -> 2.5, -1000 -> -1. */
void
sb_fixed(StrBuf *sb, int64_t t)
{
	char		buf[40];
	uint64_t	a = t < 0 ? (uint64_t) 0 - (uint64_t) t : (uint64_t) t;
	unsigned	frac = (unsigned) (a % 1000);

	if (frac == 0)
		snprintf(buf, sizeof(buf), "%s%llu", t < 0 ? "-" : "",
				 (unsigned long long) (a / 1000));
	else if (frac % 100 == 0)
		snprintf(buf, sizeof(buf), "%s%llu.%u", t < 0 ? "-" : "",
				 (unsigned long long) (a / 1000), frac / 100);
	else if (frac % 10 == 0)
		snprintf(buf, sizeof(buf), "%s%llu.%02u", t < 0 ? "-" : "",
				 (unsigned long long) (a / 1000), frac / 10);
	else
		snprintf(buf, sizeof(buf), "%s%llu.%03u", t < 0 ? "-" : "",
				 (unsigned long long) (a / 1000), frac);
	sb_puts(sb, buf);
}

/* ---- emission ---- */

typedef struct Emit
{
	bool		failed;
} Emit;

/* Attach a value; a NULL from a jansson constructor fails the emission. */
static void
put(Emit *em, json_t *obj, const char *key, json_t *val)
{
	if (val == NULL || json_object_set_new(obj, key, val) != 0)
		em->failed = true;
}

static void
push(Emit *em, json_t *arr, json_t *val)
{
	if (val == NULL || json_array_append_new(arr, val) != 0)
		em->failed = true;
}

static json_t *
jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *emit_expr(Emit *em, const Expr *e);

static json_t *
emit_list(Emit *em, Expr **items, int n)
{
	json_t	   *arr = json_array();
	int			i;

	if (arr == NULL)
	{
		em->failed = true;
		return NULL;
	}
	for (i = 0; i < n; i++)
		push(em, arr, emit_expr(em, items[i]));
	return arr;
}

static json_t *
emit_expr(Emit *em, const Expr *e)
{
	json_t	   *o = json_object();

	if (o == NULL)
	{
		em->failed = true;
		return NULL;
	}
	switch ((ExprKind) e->kind)
	{
		case EK_NULL:
			put(em, o, "k", json_string("null"));
			break;
		case EK_BOOL:
			put(em, o, "k", json_string("bool"));
			put(em, o, "v", json_boolean(e->num != 0));
			break;
		case EK_NUM:
			put(em, o, "k", json_string("num"));
			put(em, o, "v", json_integer(e->num));
			break;
		case EK_STR:
			put(em, o, "k", json_string("str"));
			put(em, o, "v", json_stringn(e->str, e->slen));
			break;
		case EK_BAND:
			put(em, o, "k", json_string("band"));
			put(em, o, "v", json_string(band_names[e->num]));
			break;
		case EK_ARRAY:
			put(em, o, "k", json_string("array"));
			put(em, o, "items", emit_list(em, e->args, e->nargs));
			break;
		case EK_FIELD:
			put(em, o, "k", json_string("field"));
			put(em, o, "name", json_string(sp_fields[e->id].name));
			break;
		case EK_ENV:
			put(em, o, "k", json_string("env"));
			put(em, o, "key", json_string(e->str));
			break;
		case EK_PRED:
			put(em, o, "k", json_string("pred"));
			put(em, o, "name", json_string(sp_stmt_members[e->id]));
			break;
		case EK_FUNC:
			put(em, o, "k", json_string("call"));
			put(em, o, "fn", json_string(sp_func_names[e->id]));
			put(em, o, "args", emit_list(em, e->args, e->nargs));
			break;
		case EK_VEX_ANY:
		case EK_VEX_ALL:
			put(em, o, "k", json_string(e->kind == EK_VEX_ANY ?
										 "vex.any" : "vex.all"));
			put(em, o, "pred", emit_expr(em, e->a));
			break;
		case EK_VEX_LATEST:
			put(em, o, "k", json_string("vex.latest"));
			break;
		case EK_STMT_MEMBER:
			put(em, o, "k", json_string("member"));
			put(em, o, "name", json_string(sp_stmt_members[e->id]));
			put(em, o, "of", emit_expr(em, e->a));
			break;
		case EK_AND:
		case EK_OR:
			put(em, o, "k", json_string(e->kind == EK_AND ? "and" : "or"));
			put(em, o, "args", emit_list(em, e->args, e->nargs));
			break;
		case EK_NOT:
			put(em, o, "k", json_string("not"));
			put(em, o, "arg", emit_expr(em, e->a));
			break;
		case EK_CMP:
			put(em, o, "k", json_string("cmp"));
			put(em, o, "op", json_string(cmp_names[e->op]));
			put(em, o, "l", emit_expr(em, e->a));
			put(em, o, "r", emit_expr(em, e->b));
			break;
		case EK_IN:
			put(em, o, "k", json_string("in"));
			put(em, o, "not", json_boolean(e->negate));
			put(em, o, "l", emit_expr(em, e->a));
			put(em, o, "r", emit_expr(em, e->b));
			break;
		default:
			/* Unresolved nodes never survive a clean check. */
			em->failed = true;
			break;
	}
	return o;
}

static json_t *
emit_strings(Emit *em, const char **s, int n)
{
	json_t	   *arr;
	int			i;

	if (s == NULL)
		return json_null();
	arr = json_array();
	if (arr == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		push(em, arr, json_string(s[i]));
	return arr;
}

static json_t *
emit_actions(Emit *em, const Action *acts, int n)
{
	json_t	   *arr = json_array();
	int			i;

	if (arr == NULL)
		return NULL;
	for (i = 0; i < n; i++)
	{
		const Action *a = &acts[i];
		json_t	   *o = json_object();

		if (o == NULL)
		{
			em->failed = true;
			break;
		}
		put(em, o, "kind", json_string(action_names[a->kind]));
		switch (a->kind)
		{
			case A_STATUS:
			case A_ESCALATE:
			case A_WARN:
				put(em, o, "value", emit_expr(em, a->value));
				break;
			case A_ANNOTATE:
				put(em, o, "key", json_string(a->key));
				put(em, o, "value", emit_expr(em, a->value));
				break;
			case A_IGNORE:
				put(em, o, "until", json_integer(a->until));
				break;
			case A_REQUIRE_VEX:
				put(em, o, "vendors", emit_strings(em, a->vendors,
												   a->nvendors));
				put(em, o, "justifications", emit_strings(em, a->justs,
														  a->njusts));
				break;
		}
		push(em, arr, o);
	}
	return arr;
}

/* Literal values of metadata/settings: numbers stay in thousandths. */
static json_t *
emit_literal(Emit *em, const Expr *e)
{
	switch (e->kind)
	{
		case EK_NULL:
			return json_null();
		case EK_BOOL:
			return json_boolean(e->num != 0);
		case EK_NUM:
			return json_integer(e->num);
		case EK_STR:
			return json_stringn(e->str, e->slen);
		case EK_ARRAY:
			{
				json_t	   *arr = json_array();
				int			i;

				if (arr == NULL)
					return NULL;
				for (i = 0; i < e->nargs; i++)
					push(em, arr, emit_literal(em, e->args[i]));
				return arr;
			}
		default:
			em->failed = true;
			return json_null();
	}
}

/* Write a checked policy as canonical IR text. */
char *
sp_dsl_emit_ir(const PolicyAst *ast, SpArena *arena, size_t *len,
			   const char **err)
{
	Emit		em = {false};
	json_t	   *root = json_object();
	json_t	   *meta = json_object();
	json_t	   *settings = json_object();
	json_t	   *profile = json_object();
	json_t	   *weights = json_object();
	json_t	   *adjusts = json_array();
	json_t	   *rules = json_array();
	char	   *text;
	char	   *copy = NULL;
	int			i;

	if (!root || !meta || !settings || !profile || !weights || !adjusts ||
		!rules)
		em.failed = true;

	put(&em, root, "schema", json_string(SP_IR_SCHEMA));
	put(&em, root, "syntax", json_string(ast->syntax));
	put(&em, root, "name", json_string(ast->name));

	for (i = 0; meta && i < ast->nmetadata; i++)
		put(&em, meta, ast->metadata[i].key,
			emit_literal(&em, ast->metadata[i].value));
	put(&em, root, "metadata", meta);

	/* Settings, with the defaults written out so they are hashed too. */
	put(&em, settings, "default_status", json_string("affected"));
	put(&em, settings, "shadow", json_false());
	for (i = 0; settings && i < ast->nsettings; i++)
		put(&em, settings, ast->settings[i].key,
			emit_literal(&em, ast->settings[i].value));
	put(&em, root, "settings", settings);

	for (i = 0; weights && i < ast->nweights; i++)
		put(&em, weights, ast->weights[i].source,
			json_integer(ast->weights[i].weight));
	for (i = 0; adjusts && i < ast->nadjusts; i++)
	{
		json_t	   *o = json_object();

		if (o == NULL)
		{
			em.failed = true;
			break;
		}
		put(&em, o, "block", json_string(ast->adjusts[i].block));
		put(&em, o, "when", emit_expr(&em, ast->adjusts[i].cond));
		put(&em, o, "delta", json_integer(ast->adjusts[i].delta));
		push(&em, adjusts, o);
	}
	put(&em, profile, "vendor_weight", weights);
	put(&em, profile, "env_adjustments", adjusts);
	put(&em, root, "profile", profile);

	for (i = 0; rules && i < ast->nrules; i++)
	{
		const Rule *r = &ast->rules[i];
		json_t	   *o = json_object();

		if (o == NULL)
		{
			em.failed = true;
			break;
		}
		put(&em, o, "name", json_string(r->name));
		put(&em, o, "priority", r->has_priority ?
			json_integer(r->priority) : json_null());
		put(&em, o, "when", emit_expr(&em, r->when));
		put(&em, o, "then", emit_actions(&em, r->then_acts, r->nthen));
		put(&em, o, "else", r->has_else ?
			emit_actions(&em, r->else_acts, r->nelse) : json_null());
		put(&em, o, "because", jstr(r->because));
		push(&em, rules, o);
	}
	put(&em, root, "rules", rules);

	if (em.failed)
	{
		json_decref(root);
		*err = "could not build the IR (out of memory or invalid text)";
		return NULL;
	}
	text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(root);
	if (text == NULL)
	{
		*err = "could not serialise the IR";
		return NULL;
	}
	*len = strlen(text);
	copy = sp_strndup(arena, text, *len);
	sp_json_free(text);
	if (copy == NULL)
		*err = "out of memory";
	return copy;
}

/* "sha256:<hex>" of a byte string. */
static char *
digest_of(const char *data, size_t len, SpArena *arena)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char	   *out;
	unsigned int i;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
		mdlen != 32)
		return NULL;
	out = sp_alloc(arena, 7 + 64 + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, "sha256:", 7);
	for (i = 0; i < mdlen; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	return out;
}

/* ---- compile entry ---- */

SpCompileResult *
sp_dsl_compile(const char *src, size_t len, SpArena *arena)
{
	SpCompileResult *res = sp_alloc(arena, sizeof(SpCompileResult));
	DiagList   *dl = sp_alloc(arena, sizeof(DiagList));
	PolicyAst  *ast = NULL;

	if (res == NULL || dl == NULL)
		return NULL;
	dl->arena = arena;

	if (src == NULL)
		len = 0;
	if (len > SP_MAX_SOURCE)
		sp_diag(dl, 1, 1, "policy source is %zu bytes; the limit is %d",
				len, SP_MAX_SOURCE);
	else
	{
		/*
		 * The parser keeps only complete nodes after recovering from an
		 * error, so the checker can run on a partial tree too and report
		 * semantic errors together with syntax errors.
		 */
		ast = sp_dsl_parse(src ? src : "", len, dl, arena);
		if (ast != NULL)
			sp_dsl_check(ast, dl, arena);
		if (ast == NULL && dl->n == 0)
			sp_diag(dl, 1, 1, "out of memory");
	}

	if (dl->n == 0)
	{
		const char *err = NULL;

		res->ir_json = sp_dsl_emit_ir(ast, arena, &res->ir_len, &err);
		if (res->ir_json == NULL)
			sp_diag(dl, 1, 1, "%s", err);
		else
		{
			res->digest = digest_of(res->ir_json, res->ir_len, arena);
			if (res->digest == NULL)
			{
				res->ir_json = NULL;
				sp_diag(dl, 1, 1, "could not compute the digest");
			}
		}
	}
	if (dl->overflow && dl->n > 0)
	{
		/* Mark the truncation on the last diagnostic. */
		SpDiag	   *last = &dl->items[dl->n - 1];
		char	   *m = sp_alloc(arena, strlen(last->message) + 40);

		if (m != NULL)
		{
			sprintf(m, "%s (further errors not shown)", last->message);
			last->message = m;
		}
	}

	/* Report in source order, whichever phase found the problem. */
	{
		int			i,
					j;

		for (i = 1; i < dl->n; i++)
		{
			SpDiag		d = dl->items[i];

			for (j = i; j > 0 && (dl->items[j - 1].line > d.line ||
								  (dl->items[j - 1].line == d.line &&
								   dl->items[j - 1].column > d.column)); j--)
				dl->items[j] = dl->items[j - 1];
			dl->items[j] = d;
		}

		/* Recovery can report one problem twice at one place: once is enough. */
		for (i = 1, j = 1; i < dl->n; i++)
			if (dl->items[i].line != dl->items[j - 1].line ||
				dl->items[i].column != dl->items[j - 1].column ||
				strcmp(dl->items[i].message, dl->items[j - 1].message) != 0)
				dl->items[j++] = dl->items[i];
		if (dl->n > 0)
			dl->n = j;
	}

	res->ok = dl->n == 0;
	res->diags = dl->items;
	res->ndiags = dl->n;
	if (!res->ok)
	{
		res->ir_json = NULL;
		res->ir_len = 0;
		res->digest = NULL;
	}
	return res;
}

char *
sp_dsl_compile_result_json(const SpCompileResult *res, SpArena *arena)
{
	StrBuf		sb;
	int			i;

	sb_init(&sb, arena, res->ir_len + 256);
	sb_puts(&sb, "{\"diagnostics\":[");
	for (i = 0; i < res->ndiags; i++)
	{
		const SpDiag *d = &res->diags[i];

		if (i > 0)
			sb_putc(&sb, ',');
		sb_puts(&sb, "{\"code\":");
		sb_json_str(&sb, d->code, strlen(d->code));
		sb_puts(&sb, ",\"column\":");
		sb_int(&sb, d->column);
		sb_puts(&sb, ",\"line\":");
		sb_int(&sb, d->line);
		sb_puts(&sb, ",\"message\":");
		sb_json_str(&sb, d->message, strlen(d->message));
		sb_puts(&sb, ",\"severity\":");
		sb_json_str(&sb, d->severity, strlen(d->severity));
		sb_putc(&sb, '}');
	}
	sb_puts(&sb, "],\"digest\":");
	if (res->ok)
		sb_json_str(&sb, res->digest, strlen(res->digest));
	else
		sb_puts(&sb, "null");
	sb_puts(&sb, ",\"ir\":");
	if (res->ok)
		sb_putn(&sb, res->ir_json, res->ir_len);
	else
		sb_puts(&sb, "null");
	sb_putc(&sb, '}');
	return sb.failed ? NULL : sb.data;
}

/* ---- loading ---- */

typedef struct Loader
{
	SpArena    *arena;
	const char *err;
	int			depth;
	bool		uses_vex;
} Loader;

static Expr *load_expr(Loader *ld, json_t *j);

static bool
fail(Loader *ld, const char *msg)
{
	if (ld->err == NULL)
		ld->err = msg;
	return false;
}

static const char *
get_str(Loader *ld, json_t *o, const char *key)
{
	json_t	   *v = json_object_get(o, key);
	const char *s;

	if (!json_is_string(v))
	{
		fail(ld, "IR: expected a string member");
		return NULL;
	}
	s = sp_strndup(ld->arena, json_string_value(v), json_string_length(v));
	if (s == NULL)
		fail(ld, "out of memory");
	return s;
}

static bool
get_int(Loader *ld, json_t *o, const char *key, int64_t *out)
{
	json_t	   *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return fail(ld, "IR: expected an integer member");
	*out = (int64_t) json_integer_value(v);
	return true;
}

static bool
load_list(Loader *ld, json_t *arr, Expr ***items, int *n)
{
	size_t		i;

	if (!json_is_array(arr) || json_array_size(arr) > 1000000)
		return fail(ld, "IR: expected an array");
	*n = (int) json_array_size(arr);
	*items = sp_alloc(ld->arena, sizeof(Expr *) * (*n + 1));
	if (*items == NULL)
		return fail(ld, "out of memory");
	for (i = 0; i < json_array_size(arr); i++)
	{
		(*items)[i] = load_expr(ld, json_array_get(arr, i));
		if ((*items)[i] == NULL)
			return false;
	}
	return true;
}

static int
name_index(const char *const *names, int n, const char *s)
{
	int			i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

static Expr *
load_expr_inner(Loader *ld, json_t *j)
{
	Expr	   *e;
	const char *k;
	json_t	   *v;
	int			i;

	if (!json_is_object(j) || !json_is_string(json_object_get(j, "k")))
	{
		fail(ld, "IR: expected an expression object");
		return NULL;
	}
	e = sp_alloc(ld->arena, sizeof(Expr));
	if (e == NULL)
	{
		fail(ld, "out of memory");
		return NULL;
	}
	k = json_string_value(json_object_get(j, "k"));
	v = json_object_get(j, "v");

	if (strcmp(k, "null") == 0)
		e->kind = EK_NULL;
	else if (strcmp(k, "bool") == 0 && json_is_boolean(v))
	{
		e->kind = EK_BOOL;
		e->num = json_is_true(v);
	}
	else if (strcmp(k, "num") == 0 && json_is_integer(v))
	{
		e->kind = EK_NUM;
		e->num = (int64_t) json_integer_value(v);
	}
	else if (strcmp(k, "str") == 0 && json_is_string(v))
	{
		e->kind = EK_STR;
		e->slen = json_string_length(v);
		e->str = sp_strndup(ld->arena, json_string_value(v), e->slen);
	}
	else if (strcmp(k, "band") == 0 && json_is_string(v))
	{
		e->kind = EK_BAND;
		e->num = name_index(band_names, 5, json_string_value(v));
		if (e->num < 0)
			return fail(ld, "IR: unknown band"), NULL;
	}
	else if (strcmp(k, "array") == 0)
	{
		e->kind = EK_ARRAY;
		if (!load_list(ld, json_object_get(j, "items"), &e->args, &e->nargs))
			return NULL;
	}
	else if (strcmp(k, "field") == 0)
	{
		const char *name = get_str(ld, j, "name");

		if (name == NULL)
			return NULL;
		e->kind = EK_FIELD;
		for (i = 0; i < F__COUNT; i++)
			if (strcmp(sp_fields[i].name, name) == 0)
				e->id = (int16_t) i;
		if (strcmp(sp_fields[e->id].name, name) != 0)
			return fail(ld, "IR: unknown field"), NULL;
		if (e->id == F_VEX_STATUS || e->id == F_VEX_JUSTIFICATION)
			ld->uses_vex = true;
	}
	else if (strcmp(k, "env") == 0)
	{
		e->kind = EK_ENV;
		e->str = get_str(ld, j, "key");
		if (e->str == NULL)
			return NULL;
		e->slen = strlen(e->str);
	}
	else if (strcmp(k, "pred") == 0 || strcmp(k, "member") == 0)
	{
		const char *name = get_str(ld, j, "name");

		if (name == NULL)
			return NULL;
		e->kind = k[0] == 'p' ? EK_PRED : EK_STMT_MEMBER;
		e->id = (int16_t) name_index(sp_stmt_members, SM__COUNT, name);
		if (e->id < 0)
			return fail(ld, "IR: unknown statement member"), NULL;
		if (e->kind == EK_STMT_MEMBER)
		{
			e->a = load_expr(ld, json_object_get(j, "of"));
			if (e->a == NULL)
				return NULL;
		}
	}
	else if (strcmp(k, "call") == 0)
	{
		const char *fn = get_str(ld, j, "fn");

		if (fn == NULL)
			return NULL;
		e->kind = EK_FUNC;
		e->id = (int16_t) name_index(sp_func_names, FN__COUNT, fn);
		if (e->id < 0)
			return fail(ld, "IR: unknown function"), NULL;
		if (!load_list(ld, json_object_get(j, "args"), &e->args, &e->nargs))
			return NULL;

		/* The evaluator relies on the arity the checker enforced. */
		if ((e->id == FN_COALESCE && e->nargs < 1) ||
			(e->id != FN_COALESCE && e->nargs != 1))
			return fail(ld, "IR: wrong argument count"), NULL;
	}
	else if (strcmp(k, "vex.any") == 0 || strcmp(k, "vex.all") == 0)
	{
		e->kind = k[4] == 'a' && k[5] == 'n' ? EK_VEX_ANY : EK_VEX_ALL;
		e->a = load_expr(ld, json_object_get(j, "pred"));
		ld->uses_vex = true;
		if (e->a == NULL)
			return NULL;
	}
	else if (strcmp(k, "vex.latest") == 0)
	{
		e->kind = EK_VEX_LATEST;
		ld->uses_vex = true;
	}
	else if (strcmp(k, "and") == 0 || strcmp(k, "or") == 0)
	{
		e->kind = k[0] == 'a' ? EK_AND : EK_OR;
		if (!load_list(ld, json_object_get(j, "args"), &e->args, &e->nargs))
			return NULL;
	}
	else if (strcmp(k, "not") == 0)
	{
		e->kind = EK_NOT;
		e->a = load_expr(ld, json_object_get(j, "arg"));
		if (e->a == NULL)
			return NULL;
	}
	else if (strcmp(k, "cmp") == 0 || strcmp(k, "in") == 0)
	{
		e->kind = k[0] == 'c' ? EK_CMP : EK_IN;
		if (e->kind == EK_CMP)
		{
			const char *op = get_str(ld, j, "op");

			if (op == NULL)
				return NULL;
			i = name_index(cmp_names, 6, op);
			if (i < 0)
				return fail(ld, "IR: unknown operator"), NULL;
			e->op = (uint8_t) i;
		}
		else
			e->negate = json_is_true(json_object_get(j, "not"));
		e->a = load_expr(ld, json_object_get(j, "l"));
		if (e->a == NULL)
			return NULL;
		e->b = load_expr(ld, json_object_get(j, "r"));
		if (e->b == NULL)
			return NULL;
	}
	else
		return fail(ld, "IR: unknown expression kind"), NULL;
	if (e->kind == EK_STR && e->str == NULL)
		return fail(ld, "out of memory"), NULL;
	return e;
}

static Expr *
load_expr(Loader *ld, json_t *j)
{
	Expr	   *e;

	if (++ld->depth > SP_MAX_DEPTH * 2)
	{
		fail(ld, "IR: expression nested too deeply");
		return NULL;
	}
	e = load_expr_inner(ld, j);
	ld->depth--;
	return e;
}

static bool
load_strings(Loader *ld, json_t *arr, const char ***out, int *n)
{
	size_t		i;

	*out = NULL;
	*n = 0;
	if (arr == NULL || json_is_null(arr))
		return true;
	if (!json_is_array(arr))
		return fail(ld, "IR: expected an array of strings");
	*out = sp_alloc(ld->arena, sizeof(char *) * (json_array_size(arr) + 1));
	if (*out == NULL)
		return fail(ld, "out of memory");
	for (i = 0; i < json_array_size(arr); i++)
	{
		json_t	   *s = json_array_get(arr, i);

		if (!json_is_string(s))
			return fail(ld, "IR: expected an array of strings");
		(*out)[i] = sp_strdup(ld->arena, json_string_value(s));
		if ((*out)[i] == NULL)
			return fail(ld, "out of memory");
	}
	*n = (int) json_array_size(arr);
	return true;
}

static bool
load_actions(Loader *ld, json_t *arr, Action **out, int *n)
{
	size_t		i;

	if (!json_is_array(arr))
		return fail(ld, "IR: expected an action array");
	*n = (int) json_array_size(arr);
	*out = sp_alloc(ld->arena, sizeof(Action) * (*n + 1));
	if (*out == NULL)
		return fail(ld, "out of memory");
	for (i = 0; i < json_array_size(arr); i++)
	{
		json_t	   *o = json_array_get(arr, i);
		Action	   *a = &(*out)[i];
		const char *kind;
		int			k;

		if (!json_is_object(o))
			return fail(ld, "IR: expected an action object");
		kind = get_str(ld, o, "kind");
		if (kind == NULL)
			return false;
		k = name_index(action_names, 6, kind);
		if (k < 0)
			return fail(ld, "IR: unknown action");
		a->kind = (ActionKind) k;
		switch (a->kind)
		{
			case A_ANNOTATE:
				a->key = get_str(ld, o, "key");
				if (a->key == NULL)
					return false;
				/* fall through */
			case A_STATUS:
			case A_ESCALATE:
			case A_WARN:
				a->value = load_expr(ld, json_object_get(o, "value"));
				if (a->value == NULL)
					return false;
				break;
			case A_IGNORE:
				if (!get_int(ld, o, "until", &a->until))
					return false;
				break;
			case A_REQUIRE_VEX:
				ld->uses_vex = true;
				if (!load_strings(ld, json_object_get(o, "vendors"),
								  &a->vendors, &a->nvendors) ||
					!load_strings(ld, json_object_get(o, "justifications"),
								  &a->justs, &a->njusts))
					return false;
				break;
		}
	}
	return true;
}

static bool
load_policy(Loader *ld, json_t *root, SpPolicy *p)
{
	json_t	   *settings = json_object_get(root, "settings");
	json_t	   *profile = json_object_get(root, "profile");
	json_t	   *rules = json_object_get(root, "rules");
	json_t	   *weights,
			   *adjusts,
			   *v;
	const char *key;
	size_t		i;

	if (!json_is_object(root) ||
		!json_is_string(json_object_get(root, "schema")) ||
		strcmp(json_string_value(json_object_get(root, "schema")),
			   SP_IR_SCHEMA) != 0)
		return fail(ld, "IR: not a " SP_IR_SCHEMA " document");
	p->name = get_str(ld, root, "name");
	if (p->name == NULL)
		return false;

	if (!json_is_object(settings))
		return fail(ld, "IR: settings missing");
	p->default_status = get_str(ld, settings, "default_status");
	if (p->default_status == NULL)
		return false;
	p->shadow = json_is_true(json_object_get(settings, "shadow"));

	if (!json_is_object(profile))
		return fail(ld, "IR: profile missing");
	weights = json_object_get(profile, "vendor_weight");
	adjusts = json_object_get(profile, "env_adjustments");
	if (!json_is_object(weights) || !json_is_array(adjusts))
		return fail(ld, "IR: profile incomplete");
	p->weights = sp_alloc(ld->arena, sizeof(VendorWeight) *
						  (json_object_size(weights) + 1));
	if (p->weights == NULL)
		return fail(ld, "out of memory");
	json_object_foreach(weights, key, v)
	{
		VendorWeight *w = &p->weights[p->nweights++];

		if (!json_is_integer(v))
			return fail(ld, "IR: vendor weight must be an integer");
		w->source = sp_strdup(ld->arena, key);
		w->weight = (int64_t) json_integer_value(v);
		if (w->source == NULL)
			return fail(ld, "out of memory");
	}
	p->adjusts = sp_alloc(ld->arena, sizeof(EnvAdjust) *
						  (json_array_size(adjusts) + 1));
	if (p->adjusts == NULL)
		return fail(ld, "out of memory");
	for (i = 0; i < json_array_size(adjusts); i++)
	{
		json_t	   *o = json_array_get(adjusts, i);
		EnvAdjust  *a = &p->adjusts[p->nadjusts++];

		if (!json_is_object(o))
			return fail(ld, "IR: bad env adjustment");
		a->block = get_str(ld, o, "block");
		a->cond = load_expr(ld, json_object_get(o, "when"));
		if (a->block == NULL || a->cond == NULL ||
			!get_int(ld, o, "delta", &a->delta))
			return false;
	}

	if (!json_is_array(rules))
		return fail(ld, "IR: rules missing");
	p->rules = sp_alloc(ld->arena, sizeof(Rule) * (json_array_size(rules) + 1));
	if (p->rules == NULL)
		return fail(ld, "out of memory");
	for (i = 0; i < json_array_size(rules); i++)
	{
		json_t	   *o = json_array_get(rules, i);
		Rule	   *r = &p->rules[p->nrules++];
		json_t	   *pr,
				   *el,
				   *bc;

		if (!json_is_object(o))
			return fail(ld, "IR: bad rule");
		r->name = get_str(ld, o, "name");
		if (r->name == NULL)
			return false;
		pr = json_object_get(o, "priority");
		if (json_is_integer(pr))
		{
			r->has_priority = true;
			r->priority = (int64_t) json_integer_value(pr);
		}
		r->when = load_expr(ld, json_object_get(o, "when"));
		if (r->when == NULL ||
			!load_actions(ld, json_object_get(o, "then"), &r->then_acts,
						  &r->nthen))
			return false;
		el = json_object_get(o, "else");
		if (el != NULL && !json_is_null(el))
		{
			r->has_else = true;
			if (!load_actions(ld, el, &r->else_acts, &r->nelse))
				return false;
		}
		bc = json_object_get(o, "because");
		if (json_is_string(bc))
		{
			r->because = sp_strdup(ld->arena, json_string_value(bc));
			if (r->because == NULL)
				return fail(ld, "out of memory");
		}
	}
	return true;
}

SpPolicy *
sp_dsl_load(const char *ir_json, size_t len, SpArena *arena,
			const char **errmsg)
{
	Loader		ld;
	json_error_t jerr;
	json_t	   *root;
	SpPolicy   *p;

	memset(&ld, 0, sizeof(ld));
	ld.arena = arena;
	*errmsg = NULL;
	p = sp_alloc(arena, sizeof(SpPolicy));
	if (p == NULL)
	{
		*errmsg = "out of memory";
		return NULL;
	}
	root = json_loadb(ir_json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
	{
		char		buf[256];

		snprintf(buf, sizeof(buf), "IR is not valid JSON: %s", jerr.text);
		*errmsg = sp_strdup(arena, buf);
		return NULL;
	}
	if (!load_policy(&ld, root, p))
	{
		json_decref(root);
		*errmsg = ld.err ? ld.err : "IR: invalid";
		return NULL;
	}
	json_decref(root);
	p->uses_vex = ld.uses_vex;
	p->digest = digest_of(ir_json, len, arena);
	if (p->digest == NULL)
	{
		*errmsg = "could not compute the digest";
		return NULL;
	}
	return p;
}

SpPolicy *
sp_dsl_compile_load(const char *src, size_t len, SpArena *arena,
					SpCompileResult **res)
{
	const char *err;
	SpPolicy   *p;

	*res = sp_dsl_compile(src, len, arena);
	if (*res == NULL || !(*res)->ok)
		return NULL;
	p = sp_dsl_load((*res)->ir_json, (*res)->ir_len, arena, &err);
	return p;
}

const char *
sp_policy_name(const SpPolicy *policy)
{
	return policy->name;
}

const char *
sp_policy_digest(const SpPolicy *policy)
{
	return policy->digest;
}

int
sp_policy_rule_count(const SpPolicy *policy)
{
	return policy->nrules;
}

const char *
sp_policy_rule_name(const SpPolicy *policy, int index)
{
	if (index < 0 || index >= policy->nrules)
		return NULL;
	return policy->rules[index].name;
}

/* ---- canonical expression text, for explain traces ---- */

static int
prec(const Expr *e)
{
	switch (e->kind)
	{
		case EK_OR:
			return 1;
		case EK_AND:
			return 2;
		case EK_NOT:
			return 3;
		case EK_CMP:
		case EK_IN:
			return 4;
		default:
			return 5;
	}
}

static void expr_text(StrBuf *sb, const Expr *e);

static void
expr_text_paren(StrBuf *sb, const Expr *e, int min)
{
	if (prec(e) < min)
	{
		sb_putc(sb, '(');
		expr_text(sb, e);
		sb_putc(sb, ')');
	}
	else
		expr_text(sb, e);
}

static void
expr_text_list(StrBuf *sb, Expr **items, int n)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		if (i > 0)
			sb_puts(sb, ", ");
		expr_text(sb, items[i]);
	}
}

static void
expr_text(StrBuf *sb, const Expr *e)
{
	int			i;

	switch ((ExprKind) e->kind)
	{
		case EK_NULL:
			sb_puts(sb, "null");
			break;
		case EK_BOOL:
			sb_puts(sb, e->num ? "true" : "false");
			break;
		case EK_NUM:
			sb_fixed(sb, e->num);
			break;
		case EK_STR:
			sb_json_str(sb, e->str, e->slen);
			break;
		case EK_BAND:
			sb_putc(sb, '"');
			sb_puts(sb, band_names[e->num]);
			sb_putc(sb, '"');
			break;
		case EK_ARRAY:
			sb_putc(sb, '[');
			expr_text_list(sb, e->args, e->nargs);
			sb_putc(sb, ']');
			break;
		case EK_FIELD:
			sb_puts(sb, sp_fields[e->id].name);
			break;
		case EK_ENV:
			sb_puts(sb, "env.");
			sb_puts(sb, e->str);
			break;
		case EK_PRED:
			sb_puts(sb, sp_stmt_members[e->id]);
			break;
		case EK_FUNC:
			sb_puts(sb, sp_func_names[e->id]);
			sb_putc(sb, '(');
			expr_text_list(sb, e->args, e->nargs);
			sb_putc(sb, ')');
			break;
		case EK_VEX_ANY:
		case EK_VEX_ALL:
			sb_puts(sb, e->kind == EK_VEX_ANY ? "vex.any(" : "vex.all(");
			expr_text(sb, e->a);
			sb_putc(sb, ')');
			break;
		case EK_VEX_LATEST:
			sb_puts(sb, "vex.latest()");
			break;
		case EK_STMT_MEMBER:
			expr_text_paren(sb, e->a, 5);
			sb_putc(sb, '.');
			sb_puts(sb, sp_stmt_members[e->id]);
			break;
		case EK_AND:
		case EK_OR:
			for (i = 0; i < e->nargs; i++)
			{
				if (i > 0)
					sb_puts(sb, e->kind == EK_AND ? " and " : " or ");
				expr_text_paren(sb, e->args[i], prec(e) + 1);
			}
			break;
		case EK_NOT:
			sb_puts(sb, "not ");
			expr_text_paren(sb, e->a, 3);
			break;
		case EK_CMP:
		case EK_IN:
			expr_text_paren(sb, e->a, 5);
			if (e->kind == EK_CMP)
			{
				sb_putc(sb, ' ');
				sb_puts(sb, cmp_names[e->op]);
				sb_putc(sb, ' ');
			}
			else
				sb_puts(sb, e->negate ? " not in " : " in ");
			expr_text_paren(sb, e->b, 5);
			break;
		default:
			sb_puts(sb, "?");
			break;
	}
}

char *
sp_expr_text(const Expr *e, SpArena *arena)
{
	StrBuf		sb;

	sb_init(&sb, arena, 64);
	expr_text(&sb, e);
	return sb.failed ? NULL : sb.data;
}
