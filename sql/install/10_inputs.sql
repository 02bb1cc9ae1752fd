-- Input tables: SBOMs and components, advisory revisions, VEX statements.
--
-- Every table carries a tenant column; row-level security (in 20_security)
-- keeps each tenant's rows to itself.  The raw tables are append-only: a
-- trigger refuses UPDATE and DELETE, and a new revision is a new row.

CREATE TABLE @extschema@.sbom (
	tenant			text NOT NULL,
	sbom_id			text NOT NULL,
	revision		integer NOT NULL DEFAULT 1 CHECK (revision > 0),
	format			text NOT NULL CHECK (format IN ('cyclonedx', 'spdx')),
	spec_version	text NOT NULL,
	content_digest	text NOT NULL CHECK (content_digest ~ '^sha256:[0-9a-f]{64}$'),
	serial_number	text,			-- CycloneDX serialNumber, SPDX documentNamespace
	bom_version		integer,		-- CycloneDX version
	subject			text,			-- metadata.component name, SPDX name
	subject_purl	text,
	tags			text[] NOT NULL DEFAULT '{}',
	active			boolean NOT NULL DEFAULT true,
	is_current		boolean NOT NULL DEFAULT true,
	component_count integer NOT NULL DEFAULT 0,
	document		jsonb NOT NULL,
	imported_at		timestamptz NOT NULL DEFAULT now(),
	imported_by		name NOT NULL DEFAULT @extschema@.acting_role(),
	change_seq		bigint NOT NULL DEFAULT nextval('@extschema@.change_seq'),
	PRIMARY KEY (tenant, sbom_id, revision)
);
CREATE UNIQUE INDEX sbom_current_idx ON @extschema@.sbom (tenant, sbom_id)
	WHERE is_current;
CREATE INDEX sbom_digest_idx ON @extschema@.sbom (tenant, content_digest);
CREATE INDEX sbom_serial_idx ON @extschema@.sbom (tenant, serial_number, bom_version);

CREATE TABLE @extschema@.component (
	tenant			text NOT NULL,
	sbom_id			text NOT NULL,
	revision		integer NOT NULL,
	ordinal			integer NOT NULL,	-- position in document order, 0 = subject
	parent_ordinal	integer,			-- enclosing component when nested
	bom_ref			text,				-- CycloneDX bom-ref, SPDX SPDXID
	purl			text,				-- canonical purl, NULL when the SBOM has none
	purl_type		text,				-- ecosystem as a purl type: npm, pypi, golang, ...
	namespace		text,
	name			text NOT NULL,
	version			text,
	qualifiers		jsonb NOT NULL DEFAULT '{}',
	scope			text,
	licenses		text[] NOT NULL DEFAULT '{}',
	is_subject		boolean NOT NULL DEFAULT false,
	match_ecosystem text,				-- OSV ecosystem it matches, e.g. PyPI, Debian
	match_package	text,				-- package name as OSV writes it
	distro			text,				-- the purl's distro qualifier, e.g. debian-10.2
	match_version	text,				-- the version ranges are compared with (purl's, with epoch)
	PRIMARY KEY (tenant, sbom_id, revision, ordinal),
	FOREIGN KEY (tenant, sbom_id, revision)
		REFERENCES @extschema@.sbom (tenant, sbom_id, revision)
);
-- The BOM index: from (ecosystem, package) to the SBOMs that contain it.
CREATE INDEX component_bom_idx ON @extschema@.component
	(tenant, match_ecosystem, match_package, sbom_id);
CREATE INDEX component_purl_idx ON @extschema@.component (tenant, purl);

CREATE TABLE @extschema@.advisory_raw (
	revision_id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant			text NOT NULL,
	advisory_id		text NOT NULL,		-- upstream id, e.g. GHSA-..., GO-2024-...
	source			text NOT NULL,		-- feed name, else the id's prefix
	aliases			text[] NOT NULL DEFAULT '{}',
	schema_version	text,
	modified		timestamptz NOT NULL,
	published		timestamptz,
	withdrawn		timestamptz,
	summary			text,
	severity		jsonb NOT NULL DEFAULT '[]',	-- [{type, score}] as in OSV
	severity_word	text,				-- database_specific.severity
	content_digest	text NOT NULL CHECK (content_digest ~ '^sha256:[0-9a-f]{64}$'),
	supersedes		bigint REFERENCES @extschema@.advisory_raw (revision_id),
	document		jsonb NOT NULL,
	ingested_at		timestamptz NOT NULL DEFAULT now(),
	ingested_by		name NOT NULL DEFAULT @extschema@.acting_role(),
	change_seq		bigint NOT NULL DEFAULT nextval('@extschema@.change_seq'),
	UNIQUE (tenant, advisory_id, content_digest)
);
CREATE INDEX advisory_raw_id_idx ON @extschema@.advisory_raw (tenant, advisory_id, change_seq);
CREATE INDEX advisory_raw_alias_idx ON @extschema@.advisory_raw USING gin (aliases);

-- One row per affected[] entry of each revision: what matching reads.
CREATE TABLE @extschema@.advisory_affected (
	tenant			text NOT NULL,
	revision_id		bigint NOT NULL REFERENCES @extschema@.advisory_raw (revision_id),
	entry			integer NOT NULL,	-- index in affected[]
	ecosystem		text,				-- as written, e.g. Debian:7
	base_ecosystem	text,				-- without release, e.g. Debian
	release			text,				-- e.g. 7
	package			text,				-- package.name as written
	match_package	text,				-- normalised like component.match_package
	package_purl	text,
	ranges			jsonb NOT NULL DEFAULT '[]',
	versions		text[] NOT NULL DEFAULT '{}',
	range_count		integer NOT NULL DEFAULT 0,
	PRIMARY KEY (revision_id, entry)
);
CREATE INDEX advisory_affected_pkg_idx ON @extschema@.advisory_affected
	(tenant, base_ecosystem, match_package);

-- Tags on advisories, attached to an id that may be the advisory's own id or
-- any of its aliases (the KEV catalogue names CVE ids).
CREATE TABLE @extschema@.advisory_tag (
	tenant			text NOT NULL,
	subject_id		text NOT NULL,
	tag				text NOT NULL CHECK (tag ~ '^[a-z0-9][a-z0-9_.:-]*$'),
	source			text NOT NULL DEFAULT 'manual',
	added_at		timestamptz NOT NULL DEFAULT now(),
	added_by		name NOT NULL DEFAULT @extschema@.acting_role(),
	change_seq		bigint NOT NULL DEFAULT nextval('@extschema@.change_seq'),
	PRIMARY KEY (tenant, subject_id, tag)
);

-- One row per (document, vulnerability, product) statement.
CREATE TABLE @extschema@.vex_raw (
	statement_pk	bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant			text NOT NULL,
	format			text NOT NULL CHECK (format IN ('openvex', 'cyclonedx', 'csaf')),
	document_digest text NOT NULL CHECK (document_digest ~ '^sha256:[0-9a-f]{64}$'),
	document_id		text,				-- OpenVEX @id, CycloneDX serialNumber, CSAF tracking id
	issuer			text NOT NULL,
	statement_id	text NOT NULL,		-- the statement's id, or its position
	item			text NOT NULL,		-- JSON path of the (vulnerability, product) pair
	statement_time	timestamptz,
	vulnerability	text NOT NULL,
	vuln_aliases	text[] NOT NULL DEFAULT '{}',
	product_ref		text NOT NULL,		-- the product as the document names it
	product_purl	text,				-- canonical purl, when known at ingest
	product_context text,				-- enclosing product when the statement names a subcomponent
	product_versions jsonb,				-- CycloneDX affects[].versions, as written
	ref_serial		text,				-- CycloneDX BOM-link: urn:uuid serial of the BOM
	ref_version		integer,			-- CycloneDX BOM-link: BOM version
	ref_bom_ref		text,				-- CycloneDX BOM-link: bom-ref in that BOM
	resolved		boolean NOT NULL,	-- false: a BOM reference not yet resolvable
	status			text NOT NULL CHECK (status IN ('not_affected', 'affected', 'fixed', 'under_investigation')),
	justification	text,				-- OpenVEX vocabulary
	raw_justification text,				-- as the document wrote it
	impact_statement text,
	action_statement text,
	ingested_at		timestamptz NOT NULL DEFAULT now(),
	ingested_by		name NOT NULL DEFAULT @extschema@.acting_role(),
	change_seq		bigint NOT NULL DEFAULT nextval('@extschema@.change_seq'),
	UNIQUE (tenant, document_digest, item)
);
CREATE INDEX vex_raw_vuln_idx ON @extschema@.vex_raw (tenant, vulnerability);
CREATE INDEX vex_raw_purl_idx ON @extschema@.vex_raw (tenant, product_purl);
CREATE INDEX vex_raw_unresolved_idx ON @extschema@.vex_raw (tenant, ref_serial, ref_version)
	WHERE NOT resolved;

-- Product references resolved after the statement arrived, when the BOM they
-- point to was imported.  Append-only like vex_raw.
CREATE TABLE @extschema@.vex_resolution (
	tenant			text NOT NULL,
	statement_pk	bigint NOT NULL PRIMARY KEY REFERENCES @extschema@.vex_raw (statement_pk),
	product_purl	text,
	sbom_id			text NOT NULL,
	resolved_at		timestamptz NOT NULL DEFAULT now(),
	change_seq		bigint NOT NULL DEFAULT nextval('@extschema@.change_seq')
);

-- VEX statements with late resolutions applied.  Views run with their
-- owner's rights, so they filter by tenant themselves.
CREATE VIEW @extschema@.vex_statement WITH (security_barrier) AS
SELECT v.statement_pk, v.tenant, v.format, v.document_digest, v.document_id,
	   v.issuer, v.statement_id, v.statement_time, v.vulnerability,
	   v.vuln_aliases, v.product_ref,
	   coalesce(v.product_purl, r.product_purl) AS product_purl,
	   v.product_context, v.product_versions,
	   (v.resolved OR r.statement_pk IS NOT NULL) AS resolved,
	   v.status, v.justification, v.raw_justification,
	   v.impact_statement, v.action_statement, v.change_seq,
	   greatest(v.change_seq, r.change_seq) AS effective_change_seq
FROM @extschema@.vex_raw v
LEFT JOIN @extschema@.vex_resolution r USING (statement_pk)
WHERE v.tenant = @extschema@.current_tenant();

-- Current revision of each advisory: the newest by modified time; between
-- revisions with the same modified time, the greatest content digest, so
-- that the order in which they arrived does not matter.
CREATE VIEW @extschema@.advisory_current WITH (security_barrier) AS
SELECT DISTINCT ON (tenant, advisory_id) *
FROM @extschema@.advisory_raw
WHERE tenant = @extschema@.current_tenant()
ORDER BY tenant, advisory_id, modified DESC, content_digest COLLATE "C" DESC;

-- Refuse UPDATE and DELETE on the append-only tables.
CREATE FUNCTION @extschema@.refuse_change() RETURNS trigger
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	RAISE EXCEPTION 'table "%" is append-only', TG_TABLE_NAME
		USING ERRCODE = 'object_not_in_prerequisite_state',
			  DETAIL = format('%s is not allowed on %I.%I.', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME),
			  HINT = 'Ingest a new revision instead; the raw tables keep every revision.';
END
$$;

CREATE TRIGGER advisory_raw_append_only BEFORE UPDATE OR DELETE ON @extschema@.advisory_raw
	FOR EACH ROW EXECUTE FUNCTION @extschema@.refuse_change();
CREATE TRIGGER advisory_affected_append_only BEFORE UPDATE OR DELETE ON @extschema@.advisory_affected
	FOR EACH ROW EXECUTE FUNCTION @extschema@.refuse_change();
CREATE TRIGGER vex_raw_append_only BEFORE UPDATE OR DELETE ON @extschema@.vex_raw
	FOR EACH ROW EXECUTE FUNCTION @extschema@.refuse_change();
CREATE TRIGGER vex_resolution_append_only BEFORE UPDATE OR DELETE ON @extschema@.vex_resolution
	FOR EACH ROW EXECUTE FUNCTION @extschema@.refuse_change();

-- SBOM revisions keep their content; only the active and is_current flags move.
CREATE FUNCTION @extschema@.sbom_guard() RETURNS trigger
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		RAISE EXCEPTION 'SBOM revisions cannot be deleted'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Use stellapolicy.sbom_set_active(sbom_id, false) to take an SBOM out of runs.';
	END IF;
	IF (NEW.tenant, NEW.sbom_id, NEW.revision, NEW.content_digest, NEW.document, NEW.change_seq)
	   IS DISTINCT FROM
	   (OLD.tenant, OLD.sbom_id, OLD.revision, OLD.content_digest, OLD.document, OLD.change_seq) THEN
		RAISE EXCEPTION 'SBOM revisions are immutable'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'Only the active flag, the tags and is_current may change.',
				  HINT = 'Import the new content with stellapolicy.sbom_import to add a revision.';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER sbom_guard BEFORE UPDATE OR DELETE ON @extschema@.sbom
	FOR EACH ROW EXECUTE FUNCTION @extschema@.sbom_guard();
CREATE TRIGGER component_append_only BEFORE UPDATE OR DELETE ON @extschema@.component
	FOR EACH ROW EXECUTE FUNCTION @extschema@.refuse_change();

-- TRUNCATE bypasses row triggers: refuse it on every table that keeps history.
DO $trunc$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['sbom', 'component', 'advisory_raw',
							 'advisory_affected', 'vex_raw', 'vex_resolution']
	LOOP
		EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON @extschema@.%I '
					   'FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_change()',
					   t || '_no_truncate', t);
	END LOOP;
END
$trunc$;
