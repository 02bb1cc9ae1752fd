/*-------------------------------------------------------------------------
 *
 * ingest_sbom.c
 *	  stellapolicy.sbom_import: CycloneDX (1.2 to 1.6) and SPDX 2.2/2.3 JSON.
 *
 * An SBOM becomes one row in stellapolicy.sbom and one row per component in
 * stellapolicy.component, in document order (the subject first, then a
 * depth-first walk of nested components).  Each SBOM id has revisions:
 * importing different content under an existing id adds a revision and makes
 * it current; importing content the tenant already has is a no-op that
 * returns the existing id.  A per-(tenant, id) advisory lock serialises
 * concurrent imports of the same SBOM.  After the insert, CycloneDX VEX
 * statements that were waiting for this BOM are resolved.
 *
 *-------------------------------------------------------------------------
 */
#include "ingest.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/memutils.h"

#include "matchkey.h"
#include "stellapolicy.h"

PG_FUNCTION_INFO_V1(stellapolicy_sbom_import);

/* Deepest component nesting accepted (CycloneDX components[].components). */
#define SP_MAX_NESTING	64

typedef struct SbomComponent
{
	int			ordinal;
	int			parent;			/* -1 for none */
	char	   *bom_ref;
	char	   *purl;
	char	   *type;
	char	   *ns;
	char	   *name;
	char	   *version;
	char	   *qualifiers;
	char	   *scope;
	char	  **license_list;
	int			nlicenses;
	bool		is_subject;
	char	   *match_version;	/* the version matching compares */
	SpMatchKey	key;
} SbomComponent;

typedef struct SbomParse
{
	SpDocument *doc;
	const char *format;
	const char *spec_version;
	const char *serial;
	int			bom_version;
	bool		has_bom_version;
	const char *subject;
	const char *subject_purl;
	SbomComponent *comps;
	int			ncomps;
	int			maxcomps;
} SbomParse;

static SbomComponent *
new_component(SbomParse *sp)
{
	if (sp->ncomps == sp->maxcomps)
	{
		sp->maxcomps = sp->maxcomps ? sp->maxcomps * 2 : 64;
		sp->comps = sp->comps
			? repalloc_huge(sp->comps, sizeof(SbomComponent) * sp->maxcomps)
			: palloc_extended(sizeof(SbomComponent) * sp->maxcomps, MCXT_ALLOC_HUGE);
	}
	memset(&sp->comps[sp->ncomps], 0, sizeof(SbomComponent));
	sp->comps[sp->ncomps].ordinal = sp->ncomps;
	sp->comps[sp->ncomps].parent = -1;
	return &sp->comps[sp->ncomps++];
}

/* Attach a purl (checked and canonicalised) and its match key. */
static void
set_purl(SbomParse *sp, SbomComponent *c, const char *purl, SpPath *path)
{
	char	   *distro = NULL;
	char	   *upstream = NULL;
	char	   *pname = NULL;
	char	   *pversion = NULL;
	char	   *epoch;
	int			old = sp_path_key(path, c->is_subject || sp->format[0] == 'c' ? "purl" : "referenceLocator");

	c->purl = sp_canonical_purl_at(sp->doc, purl, path, &c->type, &c->ns,
								   &pname, &pversion, &c->qualifiers, &distro,
								   &upstream);
	sp_path_restore(path, old);

	/* Match on the purl's name: the SBOM's name field may be a display name. */
	sp_component_match_key(c->type, c->ns, pname, distro, &c->key);

	/*
	 * The version matching compares: the purl's, else the document's; an
	 * epoch qualifier (deb, rpm) is part of the version there.
	 */
	c->match_version = pversion ? pversion : c->version;
	epoch = sp_purl_qualifier_value(c->qualifiers, "epoch");
	if (c->match_version != NULL && epoch != NULL && strcmp(epoch, "0") != 0 &&
		strchr(c->match_version, ':') == NULL &&
		(strcmp(c->type, "deb") == 0 || strcmp(c->type, "rpm") == 0))
		c->match_version = psprintf("%s:%s", epoch, c->match_version);
}

/* CycloneDX licenses: [{license: {id | name}} | {expression}] */
static void
cdx_licenses(SbomParse *sp, SbomComponent *c, json_t *obj, SpPath *path)
{
	json_t	   *lics = sp_get_array(sp->doc, obj, "licenses", path, false);
	size_t		i;
	json_t	   *l;
	int			old;

	if (lics == NULL)
		return;
	old = sp_path_key(path, "licenses");
	c->license_list = palloc0(sizeof(char *) * (json_array_size(lics) + 1));
	json_array_foreach(lics, i, l)
	{
		int			o2 = sp_path_index(path, i);
		json_t	   *lic;
		const char *v = NULL;

		if (!json_is_object(l))
			sp_doc_error(sp->doc, ERRCODE_INVALID_PARAMETER_VALUE, path,
						 "expected an object");
		lic = sp_get_object(sp->doc, l, "license", path, false);
		if (lic != NULL)
		{
			v = sp_get_string(sp->doc, lic, "id", path, false);
			if (v == NULL)
				v = sp_get_string(sp->doc, lic, "name", path, false);
		}
		else
			v = sp_get_string(sp->doc, l, "expression", path, false);
		if (v != NULL && v[0] != '\0')
			c->license_list[c->nlicenses++] = pstrdup(v);
		sp_path_restore(path, o2);
	}
	sp_path_restore(path, old);
}

/* One CycloneDX component and, depth first, the components nested in it. */
static void
cdx_component(SbomParse *sp, json_t *obj, SpPath *path, int parent,
			  bool is_subject, int depth)
{
	SbomComponent *c;
	const char *purl;
	json_t	   *children;
	int			self;

	if (depth > SP_MAX_NESTING)
		sp_doc_error(sp->doc, ERRCODE_PROGRAM_LIMIT_EXCEEDED, path,
					 "components are nested more than %d deep", SP_MAX_NESTING);
	if (!json_is_object(obj))
		sp_doc_error(sp->doc, ERRCODE_INVALID_PARAMETER_VALUE, path,
					 "expected a component object");

	c = new_component(sp);
	self = c->ordinal;
	c->parent = parent;
	c->is_subject = is_subject;
	c->name = pstrdup(sp_get_string(sp->doc, obj, "name", path, true));
	if (sp_get_string(sp->doc, obj, "version", path, false))
		c->version = pstrdup(sp_get_string(sp->doc, obj, "version", path, false));
	if (sp_get_string(sp->doc, obj, "bom-ref", path, false))
		c->bom_ref = pstrdup(sp_get_string(sp->doc, obj, "bom-ref", path, false));
	if (sp_get_string(sp->doc, obj, "scope", path, false))
		c->scope = pstrdup(sp_get_string(sp->doc, obj, "scope", path, false));
	cdx_licenses(sp, c, obj, path);

	purl = sp_get_string(sp->doc, obj, "purl", path, false);
	if (purl != NULL && purl[0] != '\0')
	{
		set_purl(sp, c, purl, path);
		/* The purl's version is authoritative when the field is absent. */
	}

	children = sp_get_array(sp->doc, obj, "components", path, false);
	if (children != NULL)
	{
		size_t		i;
		json_t	   *child;
		int			old = sp_path_key(path, "components");

		json_array_foreach(children, i, child)
		{
			int			o2 = sp_path_index(path, i);

			cdx_component(sp, child, path, self, false, depth + 1);
			sp_path_restore(path, o2);
		}
		sp_path_restore(path, old);
	}
}

static void
parse_cyclonedx(SbomParse *sp)
{
	json_t	   *root = sp->doc->root;
	SpPath		path;
	json_t	   *meta;
	json_t	   *comps;
	json_t	   *ver;
	const char *sv;

	sp_path_init(&path);
	sp->format = "cyclonedx";
	sv = sp_cyclonedx_spec_version(sp->doc, root, &path);
	sp->spec_version = sv;
	sp->serial = sp_get_string(sp->doc, root, "serialNumber", &path, false);

	ver = json_object_get(root, "version");
	if (ver != NULL && !json_is_null(ver))
	{
		if (!json_is_integer(ver) || json_integer_value(ver) < 1 ||
			json_integer_value(ver) > PG_INT32_MAX)
		{
			sp_path_key(&path, "version");
			sp_doc_error(sp->doc, ERRCODE_INVALID_PARAMETER_VALUE, &path,
						 "expected a positive integer");
		}
		sp->bom_version = (int) json_integer_value(ver);
		sp->has_bom_version = true;
	}

	/* The subject: metadata.component, ordinal 0 when present. */
	meta = sp_get_object(sp->doc, root, "metadata", &path, false);
	if (meta != NULL)
	{
		int			old = sp_path_key(&path, "metadata");
		json_t	   *subj = sp_get_object(sp->doc, meta, "component", &path, false);

		if (subj != NULL)
		{
			int			o2 = sp_path_key(&path, "component");

			cdx_component(sp, subj, &path, -1, true, 0);
			sp_path_restore(&path, o2);
			sp->subject = sp->comps[0].name;
			sp->subject_purl = sp->comps[0].purl;
		}
		sp_path_restore(&path, old);
	}

	comps = sp_get_array(sp->doc, root, "components", &path, false);
	if (comps != NULL)
	{
		size_t		i;
		json_t	   *c;
		int			old = sp_path_key(&path, "components");

		json_array_foreach(comps, i, c)
		{
			int			o2 = sp_path_index(&path, i);

			cdx_component(sp, c, &path, -1, false, 1);
			sp_path_restore(&path, o2);
		}
		sp_path_restore(&path, old);
	}

	if (sp->ncomps == 0)
		sp_doc_error(sp->doc, ERRCODE_INVALID_PARAMETER_VALUE, &path,
					 "the BOM has neither metadata.component nor components");
}

/* SPDX 2.x JSON: packages[], the purl in externalRefs. */
static void
parse_spdx(SbomParse *sp)
{
	json_t	   *root = sp->doc->root;
	SpPath		path;
	json_t	   *pkgs;
	json_t	   *describes;
	const char *sv;
	size_t		i;
	json_t	   *pkg;
	int			old;

	sp_path_init(&path);
	sp->format = "spdx";
	sv = sp_get_string(sp->doc, root, "spdxVersion", &path, true);
	if (strcmp(sv, "SPDX-2.2") != 0 && strcmp(sv, "SPDX-2.3") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("unsupported SPDX version \"%s\"", sv),
				 errhint("SPDX 2.2 and 2.3 JSON documents are supported.")));
	sp->spec_version = sv + 5;
	sp->serial = sp_get_string(sp->doc, root, "documentNamespace", &path, false);
	sp->subject = sp_get_string(sp->doc, root, "name", &path, true);
	describes = sp_get_array(sp->doc, root, "documentDescribes", &path, false);

	pkgs = sp_get_array(sp->doc, root, "packages", &path, true);
	old = sp_path_key(&path, "packages");
	json_array_foreach(pkgs, i, pkg)
	{
		int			o2 = sp_path_index(&path, i);
		SbomComponent *c;
		json_t	   *refs;
		const char *lic;

		/* A large document is a long loop: let a cancel or timeout in. */
		CHECK_FOR_INTERRUPTS();

		if (!json_is_object(pkg))
			sp_doc_error(sp->doc, ERRCODE_INVALID_PARAMETER_VALUE, &path,
						 "expected a package object");
		c = new_component(sp);
		c->name = pstrdup(sp_get_string(sp->doc, pkg, "name", &path, true));
		c->bom_ref = pstrdup(sp_get_string(sp->doc, pkg, "SPDXID", &path, true));
		if (sp_get_string(sp->doc, pkg, "versionInfo", &path, false))
			c->version = pstrdup(sp_get_string(sp->doc, pkg, "versionInfo", &path, false));

		/* documentDescribes names the subject package(s). */
		if (describes != NULL)
		{
			size_t		j;
			json_t	   *d;

			json_array_foreach(describes, j, d)
				if (json_is_string(d) && strcmp(json_string_value(d), c->bom_ref) == 0)
					c->is_subject = true;
		}

		lic = sp_get_string(sp->doc, pkg, "licenseConcluded", &path, false);
		if (lic == NULL || strcmp(lic, "NOASSERTION") == 0 || strcmp(lic, "NONE") == 0)
			lic = sp_get_string(sp->doc, pkg, "licenseDeclared", &path, false);
		if (lic != NULL && strcmp(lic, "NOASSERTION") != 0 && strcmp(lic, "NONE") != 0)
		{
			c->license_list = palloc0(sizeof(char *) * 2);
			c->license_list[c->nlicenses++] = pstrdup(lic);
		}

		/* The first externalRef of type purl gives the package's purl. */
		refs = sp_get_array(sp->doc, pkg, "externalRefs", &path, false);
		if (refs != NULL)
		{
			size_t		j;
			json_t	   *r;
			int			o3 = sp_path_key(&path, "externalRefs");

			json_array_foreach(refs, j, r)
			{
				int			o4 = sp_path_index(&path, j);
				const char *rtype = sp_get_string(sp->doc, r, "referenceType", &path, true);

				if (strcmp(rtype, "purl") == 0 && c->purl == NULL)
					set_purl(sp, c, sp_get_string(sp->doc, r, "referenceLocator", &path, true), &path);
				sp_path_restore(&path, o4);
			}
			sp_path_restore(&path, o3);
		}
		if (c->is_subject && sp->subject_purl == NULL)
			sp->subject_purl = c->purl;
		sp_path_restore(&path, o2);
	}
	sp_path_restore(&path, old);

	if (sp->ncomps == 0)
		sp_doc_error(sp->doc, ERRCODE_INVALID_PARAMETER_VALUE, &path,
					 "the SPDX document lists no packages");
}

/* Refuse SBOM ids that would print badly or collide with derived ids. */
static void
check_sbom_id(const char *id)
{
	const unsigned char *p;

	if (id[0] == '\0' || strlen(id) > 200)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid SBOM id \"%s\"", id),
				 errdetail("An SBOM id must be 1 to 200 bytes long.")));
	for (p = (const unsigned char *) id; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid SBOM id: control characters are not allowed")));
}

/*
 * SBOM tags follow the rule of advisory tags: 1 to 200 bytes of lower-case
 * letters, digits and _.:- starting with a letter or digit; a flat array
 * without nulls.  Policies compare them as written, so "Prod" and "prod"
 * must not both exist.
 */
static void
check_sbom_tags(Datum tags)
{
	ArrayType  *a = DatumGetArrayTypeP(tags);
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("SBOM tags must be a one-dimensional array")));
	deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		const char *t;
		size_t		len;
		bool		ok;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("SBOM tags must not be null")));
		t = sp_text_cstring(elems[i]);
		len = strlen(t);
		ok = len >= 1 && len <= 200;
		for (size_t k = 0; ok && k < len; k++)
			ok = isdigit((unsigned char) t[k]) || (t[k] >= 'a' && t[k] <= 'z') ||
				(k > 0 && strchr("_.:-", t[k]) != NULL);
		if (!ok)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid SBOM tag \"%s\"", t),
					 errdetail("A tag is 1 to 200 bytes of lower-case letters, digits and _.:- and starts with a letter or digit.")));
	}
}

/* Build a text[] datum from the licenses of each component, as JSON text. */
static char *
licenses_json(SbomComponent *c)
{
	json_t	   *a = json_array();
	char	   *s;
	char	   *r;
	int			i;

	for (i = 0; i < c->nlicenses; i++)
		json_array_append_new(a, json_string(c->license_list[i]));
	s = json_dumps(a, JSON_COMPACT);
	r = pstrdup(s);
	pfree(s);
	json_decref(a);
	return r;
}

/* Insert all components with one statement over arrays. */
static void
insert_components(const char *tenant, const char *sbom_id, int revision,
				  SbomParse *sp)
{
	int			n = sp->ncomps;
	char	  **cols[13];
	Oid			argtypes[16];
	Datum		values[16];
	SPIPlanPtr	plan;
	int			i,
				k;

	for (k = 0; k < 13; k++)
		cols[k] = palloc0(sizeof(char *) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		SbomComponent *c = &sp->comps[i];

		cols[0][i] = psprintf("%d", c->parent);
		cols[1][i] = c->bom_ref;
		cols[2][i] = c->purl;
		cols[3][i] = c->type;
		cols[4][i] = c->ns;
		cols[5][i] = c->name;
		cols[6][i] = c->version;
		cols[7][i] = c->qualifiers ? c->qualifiers : "{}";
		cols[8][i] = c->scope;
		cols[9][i] = licenses_json(c);
		cols[10][i] = c->is_subject ? "t" : "f";
		cols[11][i] = psprintf("%s\x1f%s\x1f%s",
							   c->key.ecosystem ? c->key.ecosystem : "",
							   c->key.package ? c->key.package : "",
							   c->key.release ? c->key.release : "");
		cols[12][i] = c->match_version;
	}

	argtypes[0] = TEXTOID;
	argtypes[1] = TEXTOID;
	argtypes[2] = INT4OID;
	values[0] = sp_cstring_text(tenant);
	values[1] = sp_cstring_text(sbom_id);
	values[2] = Int32GetDatum(revision);
	for (k = 0; k < 13; k++)
	{
		argtypes[3 + k] = TEXTARRAYOID;
		values[3 + k] = sp_text_array(cols[k], n);
	}

	plan = sp_spi_prepare(
						  "INSERT INTO stellapolicy.component (tenant, sbom_id, revision, ordinal, "
						  "  parent_ordinal, bom_ref, purl, purl_type, namespace, name, version, "
						  "  qualifiers, scope, licenses, is_subject, match_ecosystem, "
						  "  match_package, distro, match_version) "
						  "SELECT $1, $2, $3, u.ord - 1, nullif(u.parent::int, -1), u.bom_ref, "
						  "  u.purl, u.ptype, u.ns, u.name, u.version, u.quals::jsonb, u.scope, "
						  "  ARRAY(SELECT jsonb_array_elements_text(u.lics::jsonb)), u.subj::boolean, "
						  "  nullif(split_part(u.mk, chr(31), 1), ''), "
						  "  nullif(split_part(u.mk, chr(31), 2), ''), "
						  "  nullif(split_part(u.mk, chr(31), 3), ''), u.mver "
						  "FROM unnest($4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) "
						  "  WITH ORDINALITY AS u(parent, bom_ref, purl, ptype, ns, name, version, "
						  "  quals, scope, lics, subj, mk, mver, ord)",
						  16, argtypes);
	sp_spi_exec(plan, values, NULL, n);
}

extern void sp_vex_resolve_for_sbom(const char *tenant, const char *sbom_id,
									int revision, const char *serial,
									int bom_version);

/*
 * SQL: stellapolicy.sbom_import(document text, sbom_id text, tags text[])
 *		RETURNS text
 */
Datum
stellapolicy_sbom_import(PG_FUNCTION_ARGS)
{
	text	   *doctext;
	const char *tenant;
	char	   *given_id = NULL;
	Datum		tags;
	SpDocument	doc;
	SbomParse	sp;
	char	   *sbom_id;
	int			revision = 1;
	Oid			argtypes[14];
	Datum		values[14];
	char		nulls[14];
	SPIPlanPtr	plan;
	int			rc;
	MemoryContext callercxt;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("SBOM document must not be null")));
	doctext = PG_GETARG_TEXT_PP(0);
	if (!PG_ARGISNULL(1))
	{
		given_id = sp_text_cstring(PG_GETARG_DATUM(1));
		check_sbom_id(given_id);
	}
	tags = PG_ARGISNULL(2) ? sp_text_array(NULL, 0) : PG_GETARG_DATUM(2);
	check_sbom_tags(tags);
	tenant = sp_current_tenant();

	/* Parse and check the whole document before touching any table. */
	sp_document_load(&doc, VARDATA_ANY(doctext), VARSIZE_ANY_EXHDR(doctext), "SBOM");
	memset(&sp, 0, sizeof(sp));
	sp.doc = &doc;
	if (!json_is_object(doc.root))
		sp_doc_error(&doc, ERRCODE_INVALID_PARAMETER_VALUE, NULL,
					 "expected a JSON object");
	if (json_is_string(json_object_get(doc.root, "bomFormat")) &&
		strcmp(json_string_value(json_object_get(doc.root, "bomFormat")), "CycloneDX") == 0)
		parse_cyclonedx(&sp);
	else if (json_object_get(doc.root, "spdxVersion") != NULL)
		parse_spdx(&sp);
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown SBOM format"),
				 errdetail("The document has neither \"bomFormat\": \"CycloneDX\" nor \"spdxVersion\"."),
				 errhint("CycloneDX JSON 1.2 to 1.6 and SPDX 2.2/2.3 JSON are supported.")));

	callercxt = CurrentMemoryContext;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* Serialise imports of the same SBOM id (or same content) per tenant. */
	/* In the caller's context: it is returned after SPI_finish. */
	sbom_id = given_id ? given_id
		: MemoryContextStrdup(callercxt, psprintf("sbom-%.16s", doc.digest + 7));
	argtypes[0] = TEXTOID;
	values[0] = sp_cstring_text(psprintf("%s\x1f%s", tenant, sbom_id));
	rc = SPI_execute_with_args("SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended($1, 0))",
							   1, argtypes, values, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "advisory lock failed");

	/* Same content already present: return its id and add nothing. */
	argtypes[1] = TEXTOID;
	argtypes[2] = TEXTOID;
	values[0] = sp_cstring_text(tenant);
	values[1] = sp_cstring_text(doc.digest);
	values[2] = sp_cstring_text(sbom_id);
	rc = SPI_execute_with_args(given_id
							   ? "SELECT sbom_id, revision FROM stellapolicy.sbom "
							   "WHERE tenant = $1 AND content_digest = $2 AND sbom_id = $3 AND is_current"
							   : "SELECT sbom_id, revision FROM stellapolicy.sbom "
							   "WHERE tenant = $1 AND content_digest = $2 AND (is_current OR sbom_id = $3) "
							   "ORDER BY sbom_id = $3 DESC, change_seq LIMIT 1",
							   3, argtypes, values, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SBOM lookup failed");
	if (SPI_processed > 0)
	{
		char	   *existing = MemoryContextStrdup(callercxt,
												   SPI_getvalue(SPI_tuptable->vals[0],
																SPI_tuptable->tupdesc, 1));

		SPI_finish();
		sp_document_free(&doc);
		PG_RETURN_TEXT_P(DatumGetPointer(sp_cstring_text(existing)));
	}

	/* A new revision of an existing id supersedes the current one. */
	rc = SPI_execute_with_args("UPDATE stellapolicy.sbom SET is_current = false "
							   "WHERE tenant = $1 AND sbom_id = $3 AND is_current "
							   "RETURNING revision",
							   3, argtypes, values, NULL, false, 0);
	if (rc != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "SBOM update failed");
	if (SPI_processed > 0)
	{
		bool		isnull;

		revision = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
											   SPI_tuptable->tupdesc, 1, &isnull)) + 1;
	}

	/* The SBOM row. */
	{
		static const char *sql =
		"INSERT INTO stellapolicy.sbom (tenant, sbom_id, revision, format, "
		"  spec_version, content_digest, serial_number, bom_version, subject, "
		"  subject_purl, tags, component_count, document) "
		"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb)";
		Oid			t[13] = {TEXTOID, TEXTOID, INT4OID, TEXTOID, TEXTOID, TEXTOID,
			TEXTOID, INT4OID, TEXTOID, TEXTOID, TEXTARRAYOID, INT4OID, TEXTOID};

		memset(nulls, ' ', sizeof(nulls));
		values[0] = sp_cstring_text(tenant);
		values[1] = sp_cstring_text(sbom_id);
		values[2] = Int32GetDatum(revision);
		values[3] = sp_cstring_text(sp.format);
		values[4] = sp_cstring_text(sp.spec_version);
		values[5] = sp_cstring_text(doc.digest);
		if (sp.serial)
			values[6] = sp_cstring_text(sp.serial);
		else
			nulls[6] = 'n';
		values[7] = Int32GetDatum(sp.bom_version);
		if (!sp.has_bom_version)
			nulls[7] = 'n';
		if (sp.subject)
			values[8] = sp_cstring_text(sp.subject);
		else
			nulls[8] = 'n';
		if (sp.subject_purl)
			values[9] = sp_cstring_text(sp.subject_purl);
		else
			nulls[9] = 'n';
		values[10] = tags;
		values[11] = Int32GetDatum(sp.ncomps);
		values[12] = PointerGetDatum(doctext);
		plan = sp_spi_prepare(sql, 13, t);
		sp_spi_exec(plan, values, nulls, 1);
	}

	insert_components(tenant, sbom_id, revision, &sp);

	/* CycloneDX VEX statements that pointed at this BOM can now resolve. */
	if (strcmp(sp.format, "cyclonedx") == 0 && sp.serial != NULL)
		sp_vex_resolve_for_sbom(tenant, sbom_id, revision, sp.serial,
								sp.has_bom_version ? sp.bom_version : 1);

	SPI_finish();
	sp_document_free(&doc);

	PG_RETURN_TEXT_P(DatumGetPointer(sp_cstring_text(sbom_id)));
}
