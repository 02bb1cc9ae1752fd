/*-------------------------------------------------------------------------
 *
 * dsl_lex.c
 *	  Lexer of the stella-dsl@1 policy language, and the diagnostic list.
 *
 * The lexer turns source bytes into tokens with 1-based line and column
 * (columns count characters, not bytes).  It recovers from every lexical
 * error by itself: it records a diagnostic and goes on, so the parser
 * never sees an error token and several problems are reported at once.
 * Input may be any bytes: NULs and invalid UTF-8 are reported, never
 * trusted.
 *
 *-------------------------------------------------------------------------
 */
#include "dsl_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ASCII-only character classes: the backend's locale must not matter. */
#define is_digit(c)	((c) >= '0' && (c) <= '9')
#define is_alpha(c)	(((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define is_alnum(c)	(is_alpha(c) || is_digit(c))

/* Largest integer part of a number literal; keeps thousandths in range. */
#define SP_NUM_MAX_INT	1000000000000LL

static const struct
{
	const char *word;
	TokKind		kind;
}			keywords[] =
{
	{"policy", T_POLICY}, {"syntax", T_SYNTAX}, {"metadata", T_METADATA},
	{"settings", T_SETTINGS}, {"profile", T_PROFILE}, {"rule", T_RULE},
	{"when", T_WHEN}, {"then", T_THEN}, {"else", T_ELSE}, {"and", T_AND},
	{"or", T_OR}, {"not", T_NOT}, {"true", T_TRUE}, {"false", T_FALSE},
	{"null", T_NULL}, {"in", T_IN}, {"map", T_MAP}, {"env", T_ENV},
	{"priority", T_PRIORITY}, {"because", T_BECAUSE}
};

/* Record a diagnostic; past the limit, note the overflow once. */
void
sp_diag(DiagList *dl, int line, int col, const char *fmt,...)
{
	char		buf[512];
	va_list		ap;
	SpDiag	   *d;

	if (dl->n >= SP_MAX_DIAGS)
	{
		dl->overflow = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);

	d = &dl->items[dl->n++];
	d->code = SP_DSL_ERR_CODE;
	d->severity = "error";
	d->line = line;
	d->column = col;
	d->message = sp_strdup(dl->arena, buf);
	if (d->message == NULL)
		d->message = "out of memory";
}

/* A printable name of a token kind, for messages. */
const char *
sp_tok_name(TokKind kind)
{
	size_t		i;

	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (keywords[i].kind == kind)
			return keywords[i].word;
	switch (kind)
	{
		case T_EOF:
			return "end of input";
		case T_ERROR:
			return "invalid token";
		case T_IDENT:
			return "identifier";
		case T_STRING:
			return "string";
		case T_NUMBER:
			return "number";
		case T_LBRACE:
			return "'{'";
		case T_RBRACE:
			return "'}'";
		case T_LBRACKET:
			return "'['";
		case T_RBRACKET:
			return "']'";
		case T_LPAREN:
			return "'('";
		case T_RPAREN:
			return "')'";
		case T_COMMA:
			return "','";
		case T_DOT:
			return "'.'";
		case T_SEMI:
			return "';'";
		case T_COLON:
			return "':'";
		case T_ASSIGN:
			return "'='";
		case T_DEFINE:
			return "':='";
		case T_ARROW:
			return "'=>'";
		case T_EQ:
			return "'=='";
		case T_NE:
			return "'!='";
		case T_LT:
			return "'<'";
		case T_LE:
			return "'<='";
		case T_GT:
			return "'>'";
		case T_GE:
			return "'>='";
		default:
			return "token";
	}
}

void
sp_lex_init(Lexer *lx, const char *src, size_t len, DiagList *diags,
			SpArena *arena)
{
	lx->src = src;
	lx->len = len;
	lx->pos = 0;
	lx->line = 1;
	lx->col = 1;
	lx->diags = diags;
	lx->arena = arena;
}

/*
 * Length of the valid UTF-8 sequence at p (at most avail bytes), or 0 when
 * the bytes there are not well-formed UTF-8.
 */
static int
utf8_len(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0];
	int			n;
	uint32_t	cp;
	int			i;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if ((size_t) n > avail)
		return 0;
	for (i = 1; i < n; i++)
	{
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}

	/* Reject overlong forms, surrogates and values past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		(cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		return 0;
	return n;
}

/* Advance one byte, keeping line and character column. */
static void
advance(Lexer *lx)
{
	unsigned char c = (unsigned char) lx->src[lx->pos++];

	if (c == '\n')
	{
		lx->line++;
		lx->col = 1;
	}
	else if ((c & 0xC0) != 0x80)
		lx->col++;
}

static int
peekc(Lexer *lx, size_t ahead)
{
	if (lx->pos + ahead >= lx->len)
		return -1;
	return (unsigned char) lx->src[lx->pos + ahead];
}

/* Skip whitespace and comments; reports unterminated block comments. */
static void
skip_space(Lexer *lx)
{
	for (;;)
	{
		int			c = peekc(lx, 0);

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f')
			advance(lx);
		else if (c == '/' && peekc(lx, 1) == '/')
		{
			while (lx->pos < lx->len && lx->src[lx->pos] != '\n')
				advance(lx);
		}
		else if (c == '/' && peekc(lx, 1) == '*')
		{
			int			line = lx->line,
						col = lx->col;

			advance(lx);
			advance(lx);
			while (lx->pos < lx->len &&
				   !(lx->src[lx->pos] == '*' && peekc(lx, 1) == '/'))
				advance(lx);
			if (lx->pos >= lx->len)
			{
				sp_diag(lx->diags, line, col, "unterminated comment");
				return;
			}
			advance(lx);
			advance(lx);
		}
		else
			return;
	}
}

/* Hex digit value or -1. */
static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Read a string literal, decoding escapes into an arena copy. */
static void
lex_string(Lexer *lx, Token *tok)
{
	StrBuf		sb;
	bool		bad = false;

	sb_init(&sb, lx->arena, 32);
	advance(lx);				/* opening quote */
	for (;;)
	{
		int			c = peekc(lx, 0);

		if (c < 0 || c == '\n')
		{
			sp_diag(lx->diags, tok->line, tok->col, "unterminated string");
			break;
		}
		if (c == '"')
		{
			advance(lx);
			break;
		}
		if (c == 0)
		{
			if (!bad)
				sp_diag(lx->diags, lx->line, lx->col,
						"NUL byte in string");
			bad = true;
			advance(lx);
			continue;
		}
		if (c == '\\')
		{
			int			e = peekc(lx, 1);
			int			line = lx->line,
						col = lx->col;

			advance(lx);
			if (e < 0)
				continue;
			advance(lx);
			switch (e)
			{
				case '"':
				case '\\':
				case '/':
					sb_putc(&sb, (char) e);
					break;
				case 'n':
					sb_putc(&sb, '\n');
					break;
				case 't':
					sb_putc(&sb, '\t');
					break;
				case 'r':
					sb_putc(&sb, '\r');
					break;
				case 'u':
					{
						uint32_t	cp = 0;
						int			i;

						for (i = 0; i < 4; i++)
						{
							int			h = hexval(peekc(lx, 0));

							if (h < 0)
								break;
							cp = cp * 16 + (uint32_t) h;
							advance(lx);
						}
						if (i < 4 || cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
						{
							sp_diag(lx->diags, line, col,
									"invalid \\u escape in string");
							break;
						}
						if (cp < 0x80)
							sb_putc(&sb, (char) cp);
						else if (cp < 0x800)
						{
							sb_putc(&sb, (char) (0xC0 | (cp >> 6)));
							sb_putc(&sb, (char) (0x80 | (cp & 0x3F)));
						}
						else
						{
							sb_putc(&sb, (char) (0xE0 | (cp >> 12)));
							sb_putc(&sb, (char) (0x80 | ((cp >> 6) & 0x3F)));
							sb_putc(&sb, (char) (0x80 | (cp & 0x3F)));
						}
						break;
					}
				default:
					sp_diag(lx->diags, line, col,
							"invalid escape sequence in string");
					break;
			}
			continue;
		}
		if (c >= 0x80)
		{
			int			n = utf8_len((const unsigned char *) lx->src + lx->pos,
									 lx->len - lx->pos);
			int			i;

			if (n == 0)
			{
				if (!bad)
					sp_diag(lx->diags, lx->line, lx->col,
							"invalid UTF-8 in string");
				bad = true;
				advance(lx);
				continue;
			}
			sb_putn(&sb, lx->src + lx->pos, (size_t) n);
			for (i = 0; i < n; i++)
				advance(lx);
			continue;
		}
		sb_putc(&sb, (char) c);
		advance(lx);
	}
	tok->kind = T_STRING;
	tok->text = sb.failed ? "" : sb.data;
	tok->len = sb.failed ? 0 : sb.len;
}

/* Read a number literal as thousandths; sign already known to be there. */
static void
lex_number(Lexer *lx, Token *tok)
{
	bool		neg = false;
	int64_t		ip = 0;
	int64_t		frac = 0;
	int			fdigits = 0;
	bool		bad = false;

	if (peekc(lx, 0) == '+' || peekc(lx, 0) == '-')
	{
		neg = peekc(lx, 0) == '-';
		advance(lx);
	}
	while (peekc(lx, 0) >= '0' && peekc(lx, 0) <= '9')
	{
		if (ip < SP_NUM_MAX_INT)
			ip = ip * 10 + (peekc(lx, 0) - '0');
		else
			bad = true;
		advance(lx);
	}
	if (peekc(lx, 0) == '.' && peekc(lx, 1) >= '0' && peekc(lx, 1) <= '9')
	{
		advance(lx);
		while (peekc(lx, 0) >= '0' && peekc(lx, 0) <= '9')
		{
			if (fdigits < 3)
				frac = frac * 10 + (peekc(lx, 0) - '0');
			else if (peekc(lx, 0) != '0')
			{
				if (!bad)
					sp_diag(lx->diags, tok->line, tok->col,
							"number has more than three decimal places");
				bad = true;
			}
			fdigits++;
			advance(lx);
		}
	}
	if (ip >= SP_NUM_MAX_INT)
	{
		sp_diag(lx->diags, tok->line, tok->col, "number out of range");
		bad = true;
	}
	while (fdigits < 3)
	{
		frac *= 10;
		fdigits++;
	}
	tok->kind = T_NUMBER;
	tok->num = bad ? 0 : (ip * 1000 + frac) * (neg ? -1 : 1);
	if (is_alpha(peekc(lx, 0)) || peekc(lx, 0) == '_')
		sp_diag(lx->diags, lx->line, lx->col,
				"unexpected character after number");
}

/* Produce the next token; lexical errors are reported and skipped. */
void
sp_lex_next(Lexer *lx, Token *tok)
{
	int			c;

again:
	skip_space(lx);
	memset(tok, 0, sizeof(*tok));
	tok->line = lx->line;
	tok->col = lx->col;
	if (lx->pos >= lx->len)
	{
		tok->kind = T_EOF;
		return;
	}
	c = peekc(lx, 0);

	if (is_alpha(c) || c == '_')
	{
		size_t		start = lx->pos;
		size_t		i;

		while (is_alnum(peekc(lx, 0)) || peekc(lx, 0) == '_')
			advance(lx);
		tok->kind = T_IDENT;
		tok->len = lx->pos - start;
		tok->text = sp_strndup(lx->arena, lx->src + start, tok->len);
		if (tok->text == NULL)
			tok->text = "";
		for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
			if (strcmp(keywords[i].word, tok->text) == 0)
				tok->kind = keywords[i].kind;
		return;
	}
	if (is_digit(c) ||
		((c == '+' || c == '-') && is_digit(peekc(lx, 1))))
	{
		lex_number(lx, tok);
		return;
	}
	if (c == '"')
	{
		lex_string(lx, tok);
		return;
	}

	/* Punctuation, longest match first. */
	advance(lx);
	switch (c)
	{
		case '{':
			tok->kind = T_LBRACE;
			return;
		case '}':
			tok->kind = T_RBRACE;
			return;
		case '[':
			tok->kind = T_LBRACKET;
			return;
		case ']':
			tok->kind = T_RBRACKET;
			return;
		case '(':
			tok->kind = T_LPAREN;
			return;
		case ')':
			tok->kind = T_RPAREN;
			return;
		case ',':
			tok->kind = T_COMMA;
			return;
		case '.':
			tok->kind = T_DOT;
			return;
		case ';':
			tok->kind = T_SEMI;
			return;
		case ':':
			if (peekc(lx, 0) == '=')
			{
				advance(lx);
				tok->kind = T_DEFINE;
			}
			else
				tok->kind = T_COLON;
			return;
		case '=':
			if (peekc(lx, 0) == '=')
			{
				advance(lx);
				tok->kind = T_EQ;
			}
			else if (peekc(lx, 0) == '>')
			{
				advance(lx);
				tok->kind = T_ARROW;
			}
			else
				tok->kind = T_ASSIGN;
			return;
		case '!':
			if (peekc(lx, 0) == '=')
			{
				advance(lx);
				tok->kind = T_NE;
				return;
			}
			break;
		case '<':
			if (peekc(lx, 0) == '=')
			{
				advance(lx);
				tok->kind = T_LE;
			}
			else
				tok->kind = T_LT;
			return;
		case '>':
			if (peekc(lx, 0) == '=')
			{
				advance(lx);
				tok->kind = T_GE;
			}
			else
				tok->kind = T_GT;
			return;
		default:
			break;
	}

	/* Anything else: report once, skip the whole character, go on. */
	if (c == 0)
		sp_diag(lx->diags, tok->line, tok->col, "NUL byte in source");
	else if (c >= 0x80)
	{
		int			n = utf8_len((const unsigned char *) lx->src + lx->pos - 1,
								 lx->len - lx->pos + 1);

		if (n == 0)
			sp_diag(lx->diags, tok->line, tok->col, "invalid UTF-8 in source");
		else
		{
			sp_diag(lx->diags, tok->line, tok->col,
					"unexpected character '%.*s'", n,
					lx->src + lx->pos - 1);
			while (--n > 0)
				advance(lx);
		}
	}
	else if (c >= 0x20 && c < 0x7f)
		sp_diag(lx->diags, tok->line, tok->col,
				"unexpected character '%c'", c);
	else
		sp_diag(lx->diags, tok->line, tok->col,
				"unexpected control character 0x%02x", c);
	goto again;
}
