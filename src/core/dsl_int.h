/*-------------------------------------------------------------------------
 *
 * dsl_int.h
 *	  Private structures shared by the phases of the stella-dsl@1 compiler.
 *
 * The lexer (dsl_lex.c) produces tokens, the parser (dsl_parse.c) an AST
 * of Expr/Action/Rule nodes, the checker (dsl_check.c) resolves names and
 * types in place, and dsl_ir.c writes the resolved tree as canonical JSON.
 * Loading IR builds the same resolved structures again, and the evaluator
 * (dsl_eval.c) walks them; so one node type serves both the compiler and
 * the compiled form.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SP_DSL_INT_H
#define SP_DSL_INT_H

#include "dsl.h"

#define SP_MAX_DIAGS		50
#define SP_MAX_DEPTH		200		/* nesting limit for expressions */

/* ---- tokens ---- */

typedef enum TokKind
{
	T_EOF = 0,
	T_ERROR,
	T_IDENT,
	T_STRING,
	T_NUMBER,
	/* keywords */
	T_POLICY, T_SYNTAX, T_METADATA, T_SETTINGS, T_PROFILE, T_RULE, T_WHEN,
	T_THEN, T_ELSE, T_AND, T_OR, T_NOT, T_TRUE, T_FALSE, T_NULL, T_IN,
	T_MAP, T_ENV, T_PRIORITY, T_BECAUSE,
	/* punctuation */
	T_LBRACE, T_RBRACE, T_LBRACKET, T_RBRACKET, T_LPAREN, T_RPAREN,
	T_COMMA, T_DOT, T_SEMI, T_COLON, T_ASSIGN, T_DEFINE, T_ARROW,
	T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE
} TokKind;

typedef struct Token
{
	TokKind		kind;
	int			line;
	int			col;
	const char *text;			/* identifier or decoded string */
	size_t		len;
	int64_t		num;			/* numbers, in thousandths */
} Token;

/* ---- diagnostics ---- */

typedef struct DiagList
{
	SpArena    *arena;
	SpDiag		items[SP_MAX_DIAGS];
	int			n;
	bool		overflow;
} DiagList;

extern void sp_diag(DiagList *dl, int line, int col, const char *fmt,...)
			__attribute__((format(printf, 4, 5)));

/* ---- lexer ---- */

typedef struct Lexer
{
	const char *src;
	size_t		len;
	size_t		pos;
	int			line;
	int			col;
	DiagList   *diags;
	SpArena    *arena;
} Lexer;

extern void sp_lex_init(Lexer *lx, const char *src, size_t len,
						DiagList *diags, SpArena *arena);
extern void sp_lex_next(Lexer *lx, Token *tok);
extern const char *sp_tok_name(TokKind kind);

/* ---- static types ---- */

typedef enum VType
{
	TY_ANY = 0,
	TY_NULL,
	TY_BOOL,
	TY_NUM,
	TY_STR,
	TY_BAND,
	TY_LIST,
	TY_STMT
} VType;

/* ---- expressions ---- */

typedef enum ExprKind
{
	/* literals */
	EK_NULL = 0,
	EK_BOOL,
	EK_NUM,
	EK_STR,
	EK_BAND,
	EK_ARRAY,
	/* parser output, gone after checking */
	EK_IDENT,
	EK_MEMBER,
	EK_CALL,
	/* resolved forms */
	EK_FIELD,					/* id: FieldId */
	EK_ENV,						/* str: lower-cased key */
	EK_PRED,					/* id: StmtMember, inside vex.any/all */
	EK_FUNC,					/* id: FuncId, args */
	EK_VEX_ANY,					/* a: predicate */
	EK_VEX_ALL,
	EK_VEX_LATEST,
	EK_STMT_MEMBER,				/* id: StmtMember, a: statement */
	/* operators */
	EK_AND,
	EK_OR,
	EK_NOT,
	EK_CMP,						/* op: CmpOp */
	EK_IN
} ExprKind;

typedef enum CmpOp
{
	OP_EQ = 0, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE
} CmpOp;

typedef enum FieldId
{
	F_SBOM_ID = 0,
	F_SBOM_TAGS,
	F_COMP_PURL,
	F_COMP_NAME,
	F_COMP_VERSION,
	F_COMP_ECOSYSTEM,
	F_COMP_SCOPE,
	F_COMP_LICENSES,
	F_ADV_ID,
	F_ADV_SOURCE,
	F_ADV_ALIASES,
	F_ADV_TAGS,
	F_ADV_PUBLISHED,
	F_ADV_MODIFIED,
	F_SEV_SCORE,
	F_SEV_NORMALIZED,
	F_VEX_STATUS,
	F_VEX_JUSTIFICATION,
	F__COUNT
} FieldId;

typedef enum StmtMember
{
	SM_STATEMENT_ID = 0,
	SM_STATUS,
	SM_JUSTIFICATION,
	SM_ISSUER,
	SM__COUNT
} StmtMember;

typedef enum FuncId
{
	FN_SEVERITY_BAND = 0,
	FN_NORMALIZE_CVSS,
	FN_CVSS,
	FN_EXISTS,
	FN_COALESCE,
	FN_LOWERCASE,
	FN_SBOM_HAS_TAG,
	FN_ADV_HAS_TAG,
	FN__COUNT
} FuncId;

typedef struct Expr Expr;

struct Expr
{
	uint8_t		kind;			/* ExprKind */
	uint8_t		op;				/* CmpOp for EK_CMP */
	uint8_t		type;			/* VType, known after checking */
	uint8_t		negate;			/* EK_IN: "not in" */
	int16_t		id;				/* FieldId / FuncId / StmtMember */
	int			line;
	int			col;
	int64_t		num;			/* EK_NUM, EK_BOOL, EK_BAND */
	const char *str;			/* EK_STR, EK_IDENT, EK_MEMBER, EK_ENV */
	size_t		slen;
	Expr	   *a;				/* operand, object, predicate */
	Expr	   *b;
	Expr	  **args;			/* EK_ARRAY items, call arguments, and/or */
	int			nargs;
};

typedef struct FieldInfo
{
	const char *ns;
	const char *member;
	const char *name;			/* "component.purl" */
	VType		type;
} FieldInfo;

extern const FieldInfo sp_fields[F__COUNT];
extern const char *const sp_stmt_members[SM__COUNT];
extern const char *const sp_func_names[FN__COUNT];

/* ---- actions, rules, policy ---- */

typedef enum ActionKind
{
	A_STATUS = 0,
	A_ESCALATE,
	A_WARN,
	A_IGNORE,
	A_REQUIRE_VEX,
	A_ANNOTATE
} ActionKind;

typedef struct Action
{
	ActionKind	kind;
	int			line;
	int			col;
	Expr	   *value;			/* status, escalate, warn, annotate */
	const char *key;			/* annotate */
	int64_t		until;			/* ignore, epoch micros */
	const char **vendors;		/* requireVex; NULL/0 means any */
	int			nvendors;
	const char **justs;
	int			njusts;
} Action;

typedef struct Rule
{
	const char *name;
	int			line;
	int			col;
	bool		has_priority;
	int64_t		priority;
	Expr	   *when;
	Action	   *then_acts;
	int			nthen;
	bool		has_else;
	Action	   *else_acts;
	int			nelse;
	const char *because;
} Rule;

typedef struct KeyValue
{
	const char *key;
	int			line;
	int			col;
	Expr	   *value;			/* literal or array of literals */
} KeyValue;

typedef struct VendorWeight
{
	const char *source;
	int64_t		weight;			/* thousandths */
	int			line;
	int			col;
} VendorWeight;

typedef struct EnvAdjust
{
	const char *block;
	Expr	   *cond;
	int64_t		delta;			/* thousandths */
} EnvAdjust;

typedef struct PolicyAst
{
	const char *name;
	const char *syntax;
	int			syntax_line;
	int			syntax_col;
	KeyValue   *metadata;
	int			nmetadata;
	KeyValue   *settings;
	int			nsettings;
	bool		has_profile;
	VendorWeight *weights;
	int			nweights;
	EnvAdjust  *adjusts;
	int			nadjusts;
	Rule	   *rules;
	int			nrules;
} PolicyAst;

/* The compiled form: the resolved tree plus a few precomputed settings. */
struct SpPolicy
{
	const char *name;
	const char *digest;
	const char *default_status;
	bool		shadow;
	VendorWeight *weights;
	int			nweights;
	EnvAdjust  *adjusts;
	int			nadjusts;
	Rule	   *rules;
	int			nrules;
	bool		uses_vex;		/* any expression or action reads VEX */
};

/* ---- phases ---- */

extern PolicyAst *sp_dsl_parse(const char *src, size_t len, DiagList *diags,
							   SpArena *arena);
extern void sp_dsl_check(PolicyAst *ast, DiagList *diags, SpArena *arena);
extern int	sp_rule_order_cmp(const void *a, const void *b);

/* IR text of a checked AST, NULL on failure (message in *err). */
extern char *sp_dsl_emit_ir(const PolicyAst *ast, SpArena *arena,
							size_t *len, const char **err);

/* Canonical source-like text of a resolved expression (explain traces). */
extern char *sp_expr_text(const Expr *e, SpArena *arena);

/* Band from a name, case-insensitive; -1 when unknown. */
extern int	sp_band_from_name(const char *s, size_t len);

/* Small growable string in an arena. */
typedef struct StrBuf
{
	SpArena    *arena;
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		failed;
} StrBuf;

extern void sb_init(StrBuf *sb, SpArena *arena, size_t cap);
extern void sb_putn(StrBuf *sb, const char *s, size_t n);
extern void sb_puts(StrBuf *sb, const char *s);
extern void sb_putc(StrBuf *sb, char c);
extern void sb_json_str(StrBuf *sb, const char *s, size_t n);
extern void sb_fixed(StrBuf *sb, int64_t thousandths);
extern void sb_int(StrBuf *sb, int64_t v);

#endif							/* SP_DSL_INT_H */
