/*-------------------------------------------------------------------------
 *
 * ingest_vex.c
 *	  stellapolicy.vex_ingest (OpenVEX 0.2.0, CycloneDX VEX, CSAF 2.0 VEX)
 *	  and stellapolicy.kev_import.
 *
 * Every VEX format is reduced to rows of vex_raw, one per (document,
 * vulnerability, product): who said it (issuer), when, about which
 * vulnerability and product, with which status and justification.  Statuses
 * and justifications are mapped onto the OpenVEX vocabulary; the document's
 * own justification word is kept beside it.
 *
 * Products are purls where the document gives one.  A CycloneDX statement
 * names its product by bom-ref, either inside the same document or through
 * a BOM-link (urn:cdx:serial/version#bom-ref) to another BOM; a link to a
 * BOM not yet imported is stored unresolved and resolved by sbom_import when
 * that BOM arrives (vex_resolution), so no statement is dropped.
 *
 *-------------------------------------------------------------------------
 */
#include "ingest.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "arena.h"
#include "osvrange.h"
#include "stellapolicy.h"

PG_FUNCTION_INFO_V1(stellapolicy_vex_ingest);
PG_FUNCTION_INFO_V1(stellapolicy_kev_import);

typedef struct VexRow
{
	char	   *item;
	char	   *statement_id;
	bool		has_time;
	TimestampTz statement_time;
	char	   *vulnerability;
	char	  **aliases;
	int			naliases;
	char	   *product_ref;
	char	   *product_purl;
	char	   *product_context;
	char	   *product_versions;
	char	   *ref_serial;
	int			ref_version;
	char	   *ref_bom_ref;
	bool		resolved;
	const char *status;
	const char *justification;
	char	   *raw_justification;
	char	   *impact;
	char	   *action;
} VexRow;

typedef struct VexParse
{
	SpDocument *doc;
	const char *format;
	char	   *document_id;
	char	   *issuer;
	VexRow	   *rows;
	int			nrows;
	int			maxrows;
} VexParse;

static VexRow *
new_row(VexParse *vp, SpPath *path)
{
	VexRow	   *r;

	if (vp->nrows == vp->maxrows)
	{
		vp->maxrows = vp->maxrows ? vp->maxrows * 2 : 32;
		vp->rows = vp->rows
			? repalloc_huge(vp->rows, sizeof(VexRow) * vp->maxrows)
			: palloc_extended(sizeof(VexRow) * vp->maxrows, MCXT_ALLOC_HUGE);
	}
	r = &vp->rows[vp->nrows++];
	memset(r, 0, sizeof(VexRow));
	r->item = pstrdup(path->buf);
	r->resolved = true;
	return r;
}

static const char *openvex_statuses[] = {"not_affected", "affected", "fixed",
"under_investigation", NULL};

static const char *openvex_justifications[] = {
	"component_not_present", "vulnerable_code_not_present",
	"vulnerable_code_not_in_execute_path",
	"vulnerable_code_cannot_be_controlled_by_adversary",
	"inline_mitigations_already_exist", NULL
};

static const char *
word_in(const char *w, const char **list)
{
	int			i;

	for (i = 0; list[i]; i++)
		if (strcmp(w, list[i]) == 0)
			return list[i];
	return NULL;
}

/* Parse a timestamp at path or refuse the document. */
static bool
vex_time(const SpDocument *doc, json_t *obj, const char *key, SpPath *path,
		 TimestampTz *out)
{
	const char *s = sp_get_string(doc, obj, key, path, false);

	if (s == NULL)
		return false;
	if (!sp_parse_timestamptz(s, out))
	{
		sp_path_key(path, key);
		sp_doc_error(doc, ERRCODE_INVALID_DATETIME_FORMAT, path,
					 "\"%s\" is not an RFC 3339 timestamp", s);
	}
	return true;
}

/* A product id that looks like a purl must be one; others are kept as is. */
static char *
maybe_purl(const SpDocument *doc, const char *id, SpPath *path)
{
	if (strncmp(id, "pkg:", 4) != 0)
		return NULL;
	return sp_canonical_purl_at(doc, id, path, NULL, NULL, NULL, NULL, NULL,
								NULL, NULL);
}

/* ---------- OpenVEX ---------- */

static const char *
openvex_product_id(VexParse *vp, json_t *p, SpPath *path, char **purl)
{
	const char *id;
	json_t	   *idents;

	*purl = NULL;
	if (json_is_string(p))
	{
		id = json_string_value(p);
		*purl = maybe_purl(vp->doc, id, path);
		return id;
	}
	if (!json_is_object(p))
		sp_doc_error(vp->doc, ERRCODE_INVALID_PARAMETER_VALUE, path,
					 "expected a product object");
	id = sp_get_string(vp->doc, p, "@id", path, false);
	idents = sp_get_object(vp->doc, p, "identifiers", path, false);
	if (id != NULL)
	{
		int			old = sp_path_key(path, "@id");

		*purl = maybe_purl(vp->doc, id, path);
		sp_path_restore(path, old);
	}
	if (*purl == NULL && idents != NULL)
	{
		const char *ip = sp_get_string(vp->doc, idents, "purl", path, false);

		if (ip != NULL)
		{
			int			old = sp_path_key(path, "identifiers");

			sp_path_key(path, "purl");
			*purl = sp_canonical_purl_at(vp->doc, ip, path, NULL, NULL, NULL,
										 NULL, NULL, NULL, NULL);
			sp_path_restore(path, old);
			if (id == NULL)
				id = ip;
		}
	}
	if (id == NULL)
		sp_doc_error(vp->doc, ERRCODE_INVALID_PARAMETER_VALUE, path,
					 "a product needs \"@id\" or \"identifiers.purl\"");
	return id;
}

static void
parse_openvex(VexParse *vp)
{
	json_t	   *root = vp->doc->root;
	SpPath		path;
	json_t	   *stmts;
	json_t	   *st;
	size_t		i;
	TimestampTz doc_time = 0;
	bool		has_doc_time;
	const char *author;
	int			old;

	sp_path_init(&path);
	vp->format = "openvex";
	vp->document_id = pstrdup(sp_get_string(vp->doc, root, "@id", &path, true));
	author = sp_get_string(vp->doc, root, "author", &path, false);
	if (vp->issuer == NULL)
		vp->issuer = pstrdup(author ? author : "unknown");
	has_doc_time = vex_time(vp->doc, root, "timestamp", &path, &doc_time);

	stmts = sp_get_array(vp->doc, root, "statements", &path, true);
	old = sp_path_key(&path, "statements");
	json_array_foreach(stmts, i, st)
	{
		int			o2 = sp_path_index(&path, i);
		json_t	   *vuln;
		json_t	   *products;
		json_t	   *p;
		const char *vname;
		char	  **aliases = NULL;
		int			naliases = 0;
		const char *status;
		const char *just;
		const char *sid;
		TimestampTz st_time;
		bool		has_time;
		size_t		j;

		if (!json_is_object(st))
			sp_doc_error(vp->doc, ERRCODE_INVALID_PARAMETER_VALUE, &path,
						 "expected a statement object");

		/* vulnerability: an object with name (0.2.0) or a bare string. */
		vuln = json_object_get(st, "vulnerability");
		if (json_is_string(vuln))
			vname = json_string_value(vuln);
		else
		{
			json_t	   *al;
			int			o3;

			vuln = sp_get_object(vp->doc, st, "vulnerability", &path, true);
			o3 = sp_path_key(&path, "vulnerability");
			vname = sp_get_string(vp->doc, vuln, "name", &path, true);
			al = sp_get_array(vp->doc, vuln, "aliases", &path, false);
			if (al != NULL)
			{
				json_t	   *a;
				size_t		k;

				aliases = palloc0(sizeof(char *) * (json_array_size(al) + 1));
				json_array_foreach(al, k, a)
					if (json_is_string(a))
					aliases[naliases++] = pstrdup(json_string_value(a));
			}
			sp_path_restore(&path, o3);
		}
		if (vname[0] == '\0')
			sp_doc_error(vp->doc, ERRCODE_INVALID_PARAMETER_VALUE, &path,
						 "the vulnerability name is empty");

		status = sp_get_string(vp->doc, st, "status", &path, true);
		if (word_in(status, openvex_statuses) == NULL)
		{
			sp_path_key(&path, "status");
			sp_doc_error(vp->doc, ERRCODE_INVALID_PARAMETER_VALUE, &path,
						 "unknown status \"%s\"", status);
		}
		just = sp_get_string(vp->doc, st, "justification", &path, false);
		if (just != NULL && word_in(just, openvex_justifications) == NULL)
		{
			sp_path_key(&path, "justification");
			sp_doc_error(vp->doc, ERRCODE_INVALID_PARAMETER_VALUE, &path,
						 "unknown justification \"%s\"", just);
		}
		sid = sp_get_string(vp->doc, st, "@id", &path, false);
		has_time = vex_time(vp->doc, st, "timestamp", &path, &st_time);
		if (!has_time && has_doc_time)
		{
			st_time = doc_time;		/* a statement inherits the document's time */
			has_time = true;
		}

		products = sp_get_array(vp->doc, st, "products", &path, true);
		if (json_array_size(products) == 0)
		{
			sp_path_key(&path, "products");
			sp_doc_error(vp->doc, ERRCODE_INVALID_PARAMETER_VALUE, &path,
						 "a statement needs at least one product");
		}
		sp_path_key(&path, "products");
		json_array_foreach(products, j, p)
		{
			int			o4 = sp_path_index(&path, j);
			char	   *ppurl;
			const char *pid = openvex_product_id(vp, p, &path, &ppurl);
			json_t	   *subs = json_is_object(p) ? sp_get_array(vp->doc, p, "subcomponents", &path, false) : NULL;
			size_t		k;
			json_t	   *sc;

#define FILL_ROW(r) do { \
		(r)->statement_id = sid ? pstrdup(sid) : psprintf("statements[%zu]", i); \
		(r)->has_time = has_time; (r)->statement_time = st_time; \
		(r)->vulnerability = pstrdup(vname); \
		(r)->aliases = aliases; (r)->naliases = naliases; \
		(r)->status = status; (r)->justification = just; \
		(r)->raw_justification = just ? pstrdup(just) : NULL; \
		(r)->impact = (char *) sp_get_string(vp->doc, st, "impact_statement", &path, false); \
		(r)->action = (char *) sp_get_string(vp->doc, st, "action_statement", &path, false); \
	} while (0)

			if (subs == NULL || json_array_size(subs) == 0)
			{
				VexRow	   *r = new_row(vp, &path);

				FILL_ROW(r);
				r->product_ref = pstrdup(pid);
				r->product_purl = ppurl;
			}
			else
			{
				int			o5 = sp_path_key(&path, "subcomponents");

				json_array_foreach(subs, k, sc)
				{
					int			o6 = sp_path_index(&path, k);
					char	   *spurl;
					const char *sidc = openvex_product_id(vp, sc, &path, &spurl);
					VexRow	   *r = new_row(vp, &path);

					FILL_ROW(r);
					r->product_ref = pstrdup(sidc);
					r->product_purl = spurl;
					r->product_context = pstrdup(ppurl ? ppurl : pid);
					sp_path_restore(&path, o6);
				}
				sp_path_restore(&path, o5);
			}
#undef FILL_ROW
			sp_path_restore(&path, o4);
		}
		sp_path_restore(&path, o2);
	}
	sp_path_restore(&path, old);
}

/* ---------- CycloneDX VEX ---------- */

static const char *
cdx_status(const char *state)
{
	if (strcmp(state, "resolved") == 0 || strcmp(state, "resolved_with_pedigree") == 0)
		return "fixed";
	if (strcmp(state, "exploitable") == 0)
		return "affected";
	if (strcmp(state, "in_triage") == 0)
		return "under_investigation";
	if (strcmp(state, "false_positive") == 0 || strcmp(state, "not_affected") == 0)
		return "not_affected";
	return NULL;
}

static const char *
cdx_justification(const char *j)
{
	static const char *map[][2] = {
		{"code_not_present", "vulnerable_code_not_present"},
		{"code_not_reachable", "vulnerable_code_not_in_execute_path"},
		{"requires_configuration", "vulnerable_code_cannot_be_controlled_by_adversary"},
		{"requires_dependency", "component_not_present"},
		{"requires_environment", "vulnerable_code_cannot_be_controlled_by_adversary"},
		{"protected_by_compiler", "inline_mitigations_already_exist"},
		{"protected_at_runtime", "inline_mitigations_already_exist"},
		{"protected_at_perimeter", "inline_mitigations_already_exist"},
		{"protected_by_mitigating_control", "inline_mitigations_already_exist"},
		{NULL, NULL}
	};
	int			i;

	for (i = 0; map[i][0]; i++)
		if (strcmp(j, map[i][0]) == 0)
			return map[i][1];
	return NULL;
}

/* Find a bom-ref among a CycloneDX document's own components. */
static json_t *
cdx_find_ref(json_t *comp, const char *ref, int depth)
{
	json_t	   *kids;
	size_t		i;
	json_t	   *c;

	if (!json_is_object(comp) || depth > 64)
		return NULL;
	if (json_is_string(json_object_get(comp, "bom-ref")) &&
		strcmp(json_string_value(json_object_get(comp, "bom-ref")), ref) == 0)
		return comp;
	kids = json_object_get(comp, "components");
	if (json_is_array(kids))
		json_array_foreach(kids, i, c)
		{
			json_t	   *hit = cdx_find_ref(c, ref, depth + 1);

			if (hit)
				return hit;
		}
	return NULL;
}

static json_t *
cdx_find_in_document(json_t *root, const char *ref)
{
	json_t	   *meta = json_object_get(root, "metadata");
	json_t	   *comps = json_object_get(root, "components");
	json_t	   *hit = NULL;
	size_t		i;
	json_t	   *c;

	if (json_is_object(meta))
		hit = cdx_find_ref(json_object_get(meta, "component"), ref, 0);
	if (hit == NULL && json_is_array(comps))
		json_array_foreach(comps, i, c)
		{
			hit = cdx_find_ref(c, ref, 1);
			if (hit)
				break;
		}
	return hit;
}

/* Split urn:cdx:<serial>/<version>#<bom-ref>; false when not a BOM-link. */
static bool
parse_bom_link(const char *ref, char **serial, int *version, char **bomref)
{
	const char *p = ref + 8;
	const char *slash;
	const char *hash;
	char	   *end;
	long		v;

	if (strncmp(ref, "urn:cdx:", 8) != 0)
		return false;
	slash = strchr(p, '/');
	if (slash == NULL || slash == p)
		return false;
	v = strtol(slash + 1, &end, 10);
	if (end == slash + 1 || v < 1 || v > PG_INT32_MAX)
		return false;
	hash = end;
	if (*hash != '\0' && *hash != '#')
		return false;			/* "urn:cdx:U/1x": not a link, nothing set */
	*serial = psprintf("urn:uuid:%.*s", (int) (slash - p), p);
	*version = (int) v;
	*bomref = (*hash == '#' && hash[1] != '\0') ? pstrdup(hash + 1) : NULL;
	return true;
}

static void
parse_cyclonedx_vex(VexParse *vp)
{
	json_t	   *root = vp->doc->root;
	SpPath		path;
	json_t	   *vulns;
	json_t	   *vu;
	json_t	   *meta;
	size_t		i;
	TimestampTz doc_time = 0;
	bool		has_doc_time = false;
	int			old;

	sp_path_init(&path);
	vp->format = "cyclonedx";
	(void) sp_cyclonedx_spec_version(vp->doc, root, &path);
	if (sp_get_string(vp->doc, root, "serialNumber", &path, false))
		vp->document_id = pstrdup(sp_get_string(vp->doc, root, "serialNumber", &path, false));

	/* Issuer: supplier, manufacturer or first author of the metadata. */
	meta = sp_get_object(vp->doc, root, "metadata", &path, false);
	if (meta != NULL)
	{
		int			o = sp_path_key(&path, "metadata");
		json_t	   *who;

		has_doc_time = vex_time(vp->doc, meta, "timestamp", &path, &doc_time);
		if (vp->issuer == NULL)
		{
			const char *keys[] = {"supplier", "manufacturer", "manufacture", NULL};
			int			k;

			for (k = 0; keys[k] && vp->issuer == NULL; k++)
			{
				who = json_object_get(meta, keys[k]);
				if (json_is_object(who) && json_is_string(json_object_get(who, "name")))
					vp->issuer = pstrdup(json_string_value(json_object_get(who, "name")));
			}
			who = json_object_get(meta, "authors");
			if (vp->issuer == NULL && json_is_array(who) &&
				json_is_object(json_array_get(who, 0)) &&
				json_is_string(json_object_get(json_array_get(who, 0), "name")))
				vp->issuer = pstrdup(json_string_value(json_object_get(json_array_get(who, 0), "name")));
		}
		sp_path_restore(&path, o);
	}
	if (vp->issuer == NULL)
		vp->issuer = pstrdup("unknown");

	vulns = sp_get_array(vp->doc, root, "vulnerabilities", &path, true);
	old = sp_path_key(&path, "vulnerabilities");
	json_array_foreach(vulns, i, vu)
	{
		int			o2 = sp_path_index(&path, i);
		int			here = path.len;	/* $.vulnerabilities[i] */
		const char *vid;
		json_t	   *analysis;
		json_t	   *affects;
		json_t	   *a;
		const char *state;
		const char *status;
		const char *rawj;
		const char *just = NULL;
		const char *detail;
		TimestampTz vtime;
		bool		has_time;
		size_t		j;

		if (!json_is_object(vu))
			sp_doc_error(vp->doc, ERRCODE_INVALID_PARAMETER_VALUE, &path,
						 "expected a vulnerability object");
		vid = sp_get_string(vp->doc, vu, "id", &path, true);
		analysis = sp_get_object(vp->doc, vu, "analysis", &path, true);
		sp_path_key(&path, "analysis");
		state = sp_get_string(vp->doc, analysis, "state", &path, true);
		status = cdx_status(state);
		if (status == NULL)
		{
			sp_path_key(&path, "state");
			sp_doc_error(vp->doc, ERRCODE_INVALID_PARAMETER_VALUE, &path,
						 "unknown analysis state \"%s\"", state);
		}
		rawj = sp_get_string(vp->doc, analysis, "justification", &path, false);
		if (rawj != NULL && (just = cdx_justification(rawj)) == NULL)
		{
			sp_path_key(&path, "justification");
			sp_doc_error(vp->doc, ERRCODE_INVALID_PARAMETER_VALUE, &path,
						 "unknown justification \"%s\"", rawj);
		}
		detail = sp_get_string(vp->doc, analysis, "detail", &path, false);
		sp_path_restore(&path, here);

		has_time = vex_time(vp->doc, vu, "updated", &path, &vtime);
		if (!has_time)
			has_time = vex_time(vp->doc, vu, "published", &path, &vtime);
		if (!has_time && has_doc_time)
		{
			vtime = doc_time;
			has_time = true;
		}

		affects = sp_get_array(vp->doc, vu, "affects", &path, true);
		if (json_array_size(affects) == 0)
		{
			sp_path_key(&path, "affects");
			sp_doc_error(vp->doc, ERRCODE_INVALID_PARAMETER_VALUE, &path,
						 "a VEX statement needs at least one affected reference");
		}
		sp_path_key(&path, "affects");
		json_array_foreach(affects, j, a)
		{
			int			o3 = sp_path_index(&path, j);
			const char *ref = sp_get_string(vp->doc, a, "ref", &path, true);
			json_t	   *versions = sp_get_array(vp->doc, a, "versions", &path, false);
			VexRow	   *r = new_row(vp, &path);
			json_t	   *hit;

			/* A large document is a long loop: let a cancel or timeout in. */
			CHECK_FOR_INTERRUPTS();

			r->statement_id = psprintf("vulnerabilities[%zu]", i);
			if (json_is_string(json_object_get(vu, "bom-ref")))
				r->statement_id = pstrdup(json_string_value(json_object_get(vu, "bom-ref")));
			r->has_time = has_time;
			r->statement_time = vtime;
			r->vulnerability = pstrdup(vid);
			r->status = status;
			r->justification = just;
			r->raw_justification = rawj ? pstrdup(rawj) : NULL;
			if (strcmp(status, "not_affected") == 0)
				r->impact = (char *) detail;
			else
				r->action = (char *) detail;
			r->product_ref = pstrdup(ref);
			if (versions != NULL)
			{
				size_t		k;
				json_t	   *ve;
				int			o4 = sp_path_key(&path, "versions");

				/* Each entry names a version or a vers: range that parses. */
				json_array_foreach(versions, k, ve)
				{
					int			o5 = sp_path_index(&path, k);
					const char *vv = sp_get_string(vp->doc, ve, "version", &path, false);
					const char *vr = sp_get_string(vp->doc, ve, "range", &path, false);

					if (vv == NULL && vr == NULL)
						sp_doc_error(vp->doc, ERRCODE_INVALID_PARAMETER_VALUE, &path,
									 "a version entry needs \"version\" or \"range\"");
					if (vr != NULL)
					{
						SpArena    *va = sp_arena_create_with(palloc, pfree);
						SpVers		vers;
						char		err[256];

						if (sp_vers_parse(vr, va, &vers, err, sizeof(err)) != 0)
						{
							sp_path_key(&path, "range");
							sp_doc_error(vp->doc, ERRCODE_INVALID_PARAMETER_VALUE, &path,
										 "invalid vers range \"%s\": %s", vr, err);
						}
						sp_arena_destroy(va);
					}
					sp_path_restore(&path, o5);
				}
				sp_path_restore(&path, o4);
				r->product_versions = json_dumps(versions, JSON_COMPACT);
			}

			/* Resolve the reference: a BOM-link, this document, or a purl. */
			if (parse_bom_link(ref, &r->ref_serial, &r->ref_version, &r->ref_bom_ref))
				r->resolved = false;	/* looked up in the database below */
			else if ((hit = cdx_find_in_document(root, ref)) != NULL)
			{
				const char *p = json_string_value(json_object_get(hit, "purl"));

				r->product_purl = p ? maybe_purl(vp->doc, p, &path) : NULL;
			}
			else if (strncmp(ref, "pkg:", 4) == 0)
				r->product_purl = maybe_purl(vp->doc, ref, &path);
			else
				r->resolved = false;	/* kept; nothing can resolve it yet */
			sp_path_restore(&path, o3);
		}
		sp_path_restore(&path, o2);
	}
	sp_path_restore(&path, old);
}

/* ---------- CSAF 2.0 ---------- */

typedef struct CsafProduct
{
	const char *id;
	const char *purl;
	const char *context;
} CsafProduct;

typedef struct CsafTree
{
	CsafProduct *items;
	int			n;
	int			max;
} CsafTree;

static void
csaf_add(VexParse *vp, CsafTree *t, json_t *fpn, const char *context,
		 SpPath *path)
{
	const char *id = sp_get_string(vp->doc, fpn, "product_id", path, true);
	json_t	   *pih = sp_get_object(vp->doc, fpn, "product_identification_helper", path, false);
	const char *purl = NULL;

	if (pih != NULL && json_is_string(json_object_get(pih, "purl")))
	{
		int			o = sp_path_key(path, "product_identification_helper");

		sp_path_key(path, "purl");
		purl = sp_canonical_purl_at(vp->doc, json_string_value(json_object_get(pih, "purl")),
									path, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
		sp_path_restore(path, o);
	}
	if (t->n == t->max)
	{
		t->max = t->max ? t->max * 2 : 64;
		t->items = t->items ? repalloc(t->items, sizeof(CsafProduct) * t->max)
			: palloc(sizeof(CsafProduct) * t->max);
	}
	t->items[t->n].id = id;
	t->items[t->n].purl = purl;
	t->items[t->n].context = context;
	t->n++;
}

static void
csaf_branches(VexParse *vp, CsafTree *t, json_t *branches, SpPath *path, int depth)
{
	size_t		i;
	json_t	   *b;

	if (depth > 32)
		sp_doc_error(vp->doc, ERRCODE_PROGRAM_LIMIT_EXCEEDED, path,
					 "product_tree branches are nested more than 32 deep");
	json_array_foreach(branches, i, b)
	{
		int			o = sp_path_index(path, i);
		json_t	   *prod = sp_get_object(vp->doc, b, "product", path, false);
		json_t	   *sub = sp_get_array(vp->doc, b, "branches", path, false);

		if (prod != NULL)
		{
			int			o2 = sp_path_key(path, "product");

			csaf_add(vp, t, prod, NULL, path);
			sp_path_restore(path, o2);
		}
		if (sub != NULL)
		{
			int			o2 = sp_path_key(path, "branches");

			csaf_branches(vp, t, sub, path, depth + 1);
			sp_path_restore(path, o2);
		}
		sp_path_restore(path, o);
	}
}

static const CsafProduct *
csaf_lookup(CsafTree *t, const char *id)
{
	int			i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->items[i].id, id) == 0)
			return &t->items[i];
	return NULL;
}

/* Text attached to a product by flags, threats or remediations. */
static const char *
csaf_text_for(json_t *list, const char *pid, const char *field,
			  const char *category)
{
	size_t		i;
	json_t	   *e;

	if (!json_is_array(list))
		return NULL;
	json_array_foreach(list, i, e)
	{
		json_t	   *ids = json_object_get(e, "product_ids");
		size_t		j;
		json_t	   *x;

		if (category != NULL &&
			(!json_is_string(json_object_get(e, "category")) ||
			 strcmp(json_string_value(json_object_get(e, "category")), category) != 0))
			continue;
		if (!json_is_array(ids))
			continue;
		json_array_foreach(ids, j, x)
			if (json_is_string(x) && strcmp(json_string_value(x), pid) == 0 &&
				json_is_string(json_object_get(e, field)))
			return json_string_value(json_object_get(e, field));
	}
	return NULL;
}

static void
parse_csaf(VexParse *vp)
{
	json_t	   *root = vp->doc->root;
	SpPath		path;
	json_t	   *docobj;
	json_t	   *tracking;
	json_t	   *tree;
	json_t	   *vulns;
	json_t	   *vu;
	CsafTree	t = {0};
	TimestampTz doc_time = 0;
	bool		has_doc_time;
	const char *category;
	const char *version;
	size_t		i;
	int			old;
	static const char *status_keys[][2] = {
		{"known_not_affected", "not_affected"},
		{"known_affected", "affected"},
		{"first_affected", "affected"},
		{"last_affected", "affected"},
		{"fixed", "fixed"},
		{"first_fixed", "fixed"},
		{"under_investigation", "under_investigation"},
		{NULL, NULL}
	};

	sp_path_init(&path);
	vp->format = "csaf";
	docobj = sp_get_object(vp->doc, root, "document", &path, true);
	sp_path_key(&path, "document");
	version = sp_get_string(vp->doc, docobj, "csaf_version", &path, true);
	if (strcmp(version, "2.0") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("unsupported CSAF version \"%s\"", version),
				 errhint("CSAF 2.0 documents of category csaf_vex are supported.")));
	category = sp_get_string(vp->doc, docobj, "category", &path, true);
	if (strcmp(category, "csaf_vex") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("unsupported CSAF document category \"%s\"", category),
				 errhint("Only category csaf_vex carries VEX statements.")));
	if (vp->issuer == NULL)
	{
		json_t	   *pub = sp_get_object(vp->doc, docobj, "publisher", &path, true);
		int			o = sp_path_key(&path, "publisher");

		vp->issuer = pstrdup(sp_get_string(vp->doc, pub, "name", &path, true));
		sp_path_restore(&path, o);
	}
	tracking = sp_get_object(vp->doc, docobj, "tracking", &path, true);
	sp_path_key(&path, "tracking");
	vp->document_id = pstrdup(sp_get_string(vp->doc, tracking, "id", &path, true));
	has_doc_time = vex_time(vp->doc, tracking, "current_release_date", &path, &doc_time);
	sp_path_init(&path);

	/* Every product the document defines, with its purl when it has one. */
	tree = sp_get_object(vp->doc, root, "product_tree", &path, true);
	sp_path_key(&path, "product_tree");
	{
		json_t	   *br = sp_get_array(vp->doc, tree, "branches", &path, false);
		json_t	   *fpns = sp_get_array(vp->doc, tree, "full_product_names", &path, false);
		json_t	   *rels = sp_get_array(vp->doc, tree, "relationships", &path, false);
		json_t	   *e;
		size_t		k;

		if (br != NULL)
		{
			int			o = sp_path_key(&path, "branches");

			csaf_branches(vp, &t, br, &path, 0);
			sp_path_restore(&path, o);
		}
		if (fpns != NULL)
		{
			int			o = sp_path_key(&path, "full_product_names");

			json_array_foreach(fpns, k, e)
			{
				int			o2 = sp_path_index(&path, k);

				csaf_add(vp, &t, e, NULL, &path);
				sp_path_restore(&path, o2);
			}
			sp_path_restore(&path, o);
		}
		if (rels != NULL)
		{
			int			o = sp_path_key(&path, "relationships");

			json_array_foreach(rels, k, e)
			{
				int			o2 = sp_path_index(&path, k);
				json_t	   *fpn = sp_get_object(vp->doc, e, "full_product_name", &path, true);
				const char *ctx = sp_get_string(vp->doc, e, "relates_to_product_reference", &path, true);
				const char *pref = sp_get_string(vp->doc, e, "product_reference", &path, true);
				const CsafProduct *inner;

				CHECK_FOR_INTERRUPTS();

				sp_path_key(&path, "full_product_name");
				csaf_add(vp, &t, fpn, ctx, &path);
				/* The component inherits the purl of the product it names. */
				inner = csaf_lookup(&t, pref);
				if (inner != NULL && inner->purl != NULL && t.items[t.n - 1].purl == NULL)
					t.items[t.n - 1].purl = inner->purl;
				sp_path_restore(&path, o2);
			}
			sp_path_restore(&path, o);
		}
	}
	sp_path_init(&path);

	vulns = sp_get_array(vp->doc, root, "vulnerabilities", &path, true);
	old = sp_path_key(&path, "vulnerabilities");
	json_array_foreach(vulns, i, vu)
	{
		int			o2 = sp_path_index(&path, i);
		const char *cve = sp_get_string(vp->doc, vu, "cve", &path, false);
		json_t	   *ps = sp_get_object(vp->doc, vu, "product_status", &path, true);
		json_t	   *flags = json_object_get(vu, "flags");
		json_t	   *threats = json_object_get(vu, "threats");
		json_t	   *rems = json_object_get(vu, "remediations");
		int			k;

		if (cve == NULL)
		{
			json_t	   *ids = sp_get_array(vp->doc, vu, "ids", &path, false);

			if (ids != NULL && json_is_object(json_array_get(ids, 0)))
				cve = json_string_value(json_object_get(json_array_get(ids, 0), "text"));
			if (cve == NULL)
				sp_doc_error(vp->doc, ERRCODE_INVALID_PARAMETER_VALUE, &path,
							 "a vulnerability needs \"cve\" or \"ids\"");
		}

		sp_path_key(&path, "product_status");
		for (k = 0; status_keys[k][0]; k++)
		{
			json_t	   *ids = sp_get_array(vp->doc, ps, status_keys[k][0], &path, false);
			size_t		j;
			json_t	   *pid;
			int			o3;

			if (ids == NULL)
				continue;
			o3 = sp_path_key(&path, status_keys[k][0]);
			json_array_foreach(ids, j, pid)
			{
				int			o4 = sp_path_index(&path, j);
				const CsafProduct *prod;
				VexRow	   *r;
				const char *flag;

				CHECK_FOR_INTERRUPTS();

				if (!json_is_string(pid))
					sp_doc_error(vp->doc, ERRCODE_INVALID_PARAMETER_VALUE, &path,
								 "expected a product id string");
				prod = csaf_lookup(&t, json_string_value(pid));
				if (prod == NULL)
					sp_doc_error(vp->doc, ERRCODE_INVALID_PARAMETER_VALUE, &path,
								 "product id \"%s\" is not defined in product_tree",
								 json_string_value(pid));
				r = new_row(vp, &path);
				r->statement_id = psprintf("%s/%s", cve, prod->id);
				r->has_time = has_doc_time;
				r->statement_time = doc_time;
				r->vulnerability = pstrdup(cve);
				r->status = status_keys[k][1];
				r->product_ref = pstrdup(prod->id);
				r->product_purl = prod->purl ? pstrdup(prod->purl) : NULL;
				r->product_context = prod->context ? pstrdup(prod->context) : NULL;
				flag = csaf_text_for(flags, prod->id, "label", NULL);
				if (flag != NULL && strcmp(r->status, "not_affected") == 0)
				{
					r->justification = word_in(flag, openvex_justifications);
					r->raw_justification = pstrdup(flag);
				}
				r->impact = (char *) csaf_text_for(threats, prod->id, "details", "impact");
				r->action = (char *) csaf_text_for(rems, prod->id, "details", NULL);
				sp_path_restore(&path, o4);
			}
			sp_path_restore(&path, o3);
		}
		sp_path_restore(&path, o2);
	}
	sp_path_restore(&path, old);
}

/* ---------- storing ---------- */

static int
store_rows(VexParse *vp, const char *tenant)
{
	static const char *sql =
	"INSERT INTO stellapolicy.vex_raw (tenant, format, document_digest, "
	"  document_id, issuer, statement_id, item, statement_time, vulnerability, "
	"  vuln_aliases, product_ref, product_purl, product_context, product_versions, "
	"  ref_serial, ref_version, ref_bom_ref, resolved, status, justification, "
	"  raw_justification, impact_statement, action_statement) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, "
	"  $15, $16, $17, $18, $19, $20, $21, $22, $23) "
	"ON CONFLICT (tenant, document_digest, item) DO NOTHING";
	Oid			t[23] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
		TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTARRAYOID, TEXTOID, TEXTOID, TEXTOID,
		TEXTOID, TEXTOID, INT4OID, TEXTOID, BOOLOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID};
	SPIPlanPtr	plan = sp_spi_prepare(sql, 23, t);
	int			stored = 0;
	int			i;

	for (i = 0; i < vp->nrows; i++)
	{
		VexRow	   *r = &vp->rows[i];
		Datum		v[23];
		char		n[23];

		memset(n, ' ', sizeof(n));
#define OPT(k, s) do { if (s) v[k] = sp_cstring_text(s); else n[k] = 'n'; } while (0)
		v[0] = sp_cstring_text(tenant);
		v[1] = sp_cstring_text(vp->format);
		v[2] = sp_cstring_text(vp->doc->digest);
		OPT(3, vp->document_id);
		v[4] = sp_cstring_text(vp->issuer);
		v[5] = sp_cstring_text(r->statement_id);
		v[6] = sp_cstring_text(r->item);
		v[7] = TimestampTzGetDatum(r->statement_time);
		if (!r->has_time)
			n[7] = 'n';
		v[8] = sp_cstring_text(r->vulnerability);
		v[9] = sp_text_array(r->aliases, r->naliases);
		v[10] = sp_cstring_text(r->product_ref);
		OPT(11, r->product_purl);
		OPT(12, r->product_context);
		OPT(13, r->product_versions);
		OPT(14, r->ref_serial);
		v[15] = Int32GetDatum(r->ref_version);
		if (r->ref_serial == NULL)
			n[15] = 'n';
		OPT(16, r->ref_bom_ref);
		v[17] = BoolGetDatum(r->resolved);
		v[18] = sp_cstring_text(r->status);
		OPT(19, r->justification);
		OPT(20, r->raw_justification);
		OPT(21, r->impact);
		OPT(22, r->action);
#undef OPT
		sp_spi_exec(plan, v, n, -1);
		stored += (int) SPI_processed;
	}
	return stored;
}

/*
 * Resolve stored BOM-links that point at the given BOM (called right after
 * a statement is stored, and by sbom_import for each new CycloneDX BOM).
 */
static void
resolve_links(const char *tenant, const char *only_digest)
{
	Oid			t[2] = {TEXTOID, TEXTOID};
	Datum		v[2];
	char		n[2] = {' ', ' '};
	int			rc;

	v[0] = sp_cstring_text(tenant);
	if (only_digest)
		v[1] = sp_cstring_text(only_digest);
	else
		n[1] = 'n';
	rc = SPI_execute_with_args(
							   "INSERT INTO stellapolicy.vex_resolution (tenant, statement_pk, product_purl, sbom_id) "
							   "SELECT DISTINCT ON (v.statement_pk) v.tenant, v.statement_pk, c.purl, s.sbom_id "
							   "FROM stellapolicy.vex_raw v "
							   "JOIN stellapolicy.sbom s ON s.tenant = v.tenant AND s.serial_number = v.ref_serial "
							   "  AND coalesce(s.bom_version, 1) = v.ref_version AND s.format = 'cyclonedx' "
							   "JOIN stellapolicy.component c ON c.tenant = s.tenant AND c.sbom_id = s.sbom_id "
							   "  AND c.revision = s.revision "
							   "  AND (c.bom_ref = v.ref_bom_ref OR (v.ref_bom_ref IS NULL AND c.is_subject)) "
							   "WHERE v.tenant = $1 AND NOT v.resolved AND v.ref_serial IS NOT NULL "
							   "  AND ($2::text IS NULL OR v.document_digest = $2) "
							   "  AND NOT EXISTS (SELECT 1 FROM stellapolicy.vex_resolution r "
							   "                  WHERE r.statement_pk = v.statement_pk) "
							   "ORDER BY v.statement_pk, s.is_current DESC, s.revision DESC, c.ordinal",
							   2, t, v, n, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "VEX resolution failed: %s", SPI_result_code_string(rc));
}

void		sp_vex_resolve_for_sbom(const char *tenant, const char *sbom_id,
									int revision, const char *serial,
									int bom_version);

void
sp_vex_resolve_for_sbom(const char *tenant, const char *sbom_id, int revision,
						const char *serial, int bom_version)
{
	resolve_links(tenant, NULL);
}

/*
 * SQL: stellapolicy.vex_ingest(document text, issuer text) RETURNS integer
 */
Datum
stellapolicy_vex_ingest(PG_FUNCTION_ARGS)
{
	text	   *doctext;
	const char *tenant;
	SpDocument	doc;
	VexParse	vp;
	json_t	   *root;
	int			stored;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("VEX document must not be null")));
	doctext = PG_GETARG_TEXT_PP(0);
	memset(&vp, 0, sizeof(vp));
	if (!PG_ARGISNULL(1))
	{
		vp.issuer = sp_text_cstring(PG_GETARG_DATUM(1));
		if (vp.issuer[0] == '\0' || strlen(vp.issuer) > 200)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid VEX issuer"),
					 errdetail("An issuer name must be 1 to 200 bytes long.")));
	}
	tenant = sp_current_tenant();
	sp_document_load(&doc, VARDATA_ANY(doctext), VARSIZE_ANY_EXHDR(doctext),
					 "VEX document");
	vp.doc = &doc;
	root = doc.root;
	if (!json_is_object(root))
		sp_doc_error(&doc, ERRCODE_INVALID_PARAMETER_VALUE, NULL, "expected a JSON object");

	/* Detect the format from the document itself. */
	if (json_is_string(json_object_get(root, "@context")) &&
		strstr(json_string_value(json_object_get(root, "@context")), "openvex") != NULL)
		parse_openvex(&vp);
	else if (json_is_object(json_object_get(root, "document")) &&
			 json_object_get(json_object_get(root, "document"), "csaf_version") != NULL)
		parse_csaf(&vp);
	else if (json_is_string(json_object_get(root, "bomFormat")) &&
			 strcmp(json_string_value(json_object_get(root, "bomFormat")), "CycloneDX") == 0)
	{
		if (json_object_get(root, "vulnerabilities") == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("CycloneDX document has no vulnerabilities to read VEX statements from"),
					 errhint("Import a BOM without vulnerabilities with stellapolicy.sbom_import().")));
		parse_cyclonedx_vex(&vp);
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown VEX format"),
				 errdetail("The document is neither OpenVEX (an \"@context\" naming openvex), CSAF (\"document.csaf_version\") nor CycloneDX (\"bomFormat\")."),
				 errhint("OpenVEX 0.2.0, CycloneDX VEX and CSAF 2.0 VEX are supported.")));

	if (vp.nrows == 0)
		sp_doc_error(&doc, ERRCODE_INVALID_PARAMETER_VALUE, NULL,
					 "the document holds no VEX statements");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	stored = store_rows(&vp, tenant);
	if (stored > 0)
		resolve_links(tenant, doc.digest);
	SPI_finish();
	sp_document_free(&doc);

	PG_RETURN_INT32(stored);
}

/*
 * SQL: stellapolicy.kev_import(document text) RETURNS integer
 *
 * The CISA Known Exploited Vulnerabilities catalogue: every cveID gets the
 * tag "kev"; advisories carry it when their id or an alias is that CVE.
 * Returns the number of tags added.
 */
Datum
stellapolicy_kev_import(PG_FUNCTION_ARGS)
{
	text	   *doctext;
	const char *tenant;
	SpDocument	doc;
	SpPath		path;
	json_t	   *vulns;
	json_t	   *e;
	size_t		i;
	char	  **ids;
	int			nids = 0;
	int			added;
	Oid			t[2] = {TEXTOID, TEXTARRAYOID};
	Datum		v[2];
	int			rc;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("KEV document must not be null")));
	doctext = PG_GETARG_TEXT_PP(0);
	tenant = sp_current_tenant();
	sp_document_load(&doc, VARDATA_ANY(doctext), VARSIZE_ANY_EXHDR(doctext),
					 "KEV catalogue");
	sp_path_init(&path);
	vulns = sp_get_array(&doc, doc.root, "vulnerabilities", &path, true);
	ids = palloc0(sizeof(char *) * (json_array_size(vulns) + 1));
	sp_path_key(&path, "vulnerabilities");
	json_array_foreach(vulns, i, e)
	{
		int			o = sp_path_index(&path, i);
		const char *cve = sp_get_string(&doc, e, "cveID", &path, true);
		const char *p;

		if (strncmp(cve, "CVE-", 4) != 0 || strlen(cve) < 13 || strlen(cve) > 40)
		{
			sp_path_key(&path, "cveID");
			sp_doc_error(&doc, ERRCODE_INVALID_PARAMETER_VALUE, &path,
						 "\"%s\" is not a CVE id", cve);
		}
		for (p = cve + 4; *p; p++)
			if (!(isdigit((unsigned char) *p) || (*p == '-' && p == cve + 8)))
			{
				sp_path_key(&path, "cveID");
				sp_doc_error(&doc, ERRCODE_INVALID_PARAMETER_VALUE, &path,
							 "\"%s\" is not a CVE id", cve);
			}
		ids[nids++] = pstrdup(cve);
		sp_path_restore(&path, o);
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	v[0] = sp_cstring_text(tenant);
	v[1] = sp_text_array(ids, nids);
	rc = SPI_execute_with_args(
							   "INSERT INTO stellapolicy.advisory_tag (tenant, subject_id, tag, source) "
							   "SELECT DISTINCT $1, id, 'kev', 'cisa-kev' FROM unnest($2) AS id "
							   "ON CONFLICT DO NOTHING",
							   2, t, v, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "KEV insert failed");
	added = (int) SPI_processed;
	SPI_finish();
	sp_document_free(&doc);
	PG_RETURN_INT32(added);
}
