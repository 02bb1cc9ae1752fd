-- Ingestion functions.  They run with the extension owner's rights
-- (SECURITY DEFINER, search_path pinned) and stamp every row with the
-- caller's checked tenant; EXECUTE is granted to operators.

CREATE FUNCTION @extschema@.sbom_import(document text, sbom_id text DEFAULT NULL,
										tags text[] DEFAULT '{}')
	RETURNS text
	AS 'MODULE_PATHNAME', 'stellapolicy_sbom_import'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.sbom_import(document jsonb, sbom_id text DEFAULT NULL,
										tags text[] DEFAULT '{}')
	RETURNS text
	LANGUAGE sql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT @extschema@.sbom_import(document::text, sbom_id, tags) $$;

CREATE FUNCTION @extschema@.advisory_ingest(document text, source text DEFAULT NULL)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'stellapolicy_advisory_ingest'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.advisory_ingest(document jsonb, source text DEFAULT NULL)
	RETURNS integer
	LANGUAGE sql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT @extschema@.advisory_ingest(document::text, source) $$;

CREATE FUNCTION @extschema@.vex_ingest(document text, issuer text DEFAULT NULL)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'stellapolicy_vex_ingest'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.vex_ingest(document jsonb, issuer text DEFAULT NULL)
	RETURNS integer
	LANGUAGE sql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT @extschema@.vex_ingest(document::text, issuer) $$;

CREATE FUNCTION @extschema@.kev_import(document text)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'stellapolicy_kev_import'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.kev_import(document jsonb)
	RETURNS integer
	LANGUAGE sql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT @extschema@.kev_import(document::text) $$;

-- Tag an advisory (by its id or any alias).  Returns false when the tag was
-- already there.
CREATE FUNCTION @extschema@.advisory_tag_add(advisory_id text, tag text)
	RETURNS boolean
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	t text := @extschema@.current_tenant();
	n integer;
BEGIN
	IF advisory_id IS NULL OR advisory_id = '' OR length(advisory_id) > 200 THEN
		RAISE EXCEPTION 'invalid advisory id'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'An advisory id must be 1 to 200 bytes long.';
	END IF;
	IF tag IS NULL OR tag !~ '^[a-z0-9][a-z0-9_.:-]*$' OR length(tag) > 100 THEN
		RAISE EXCEPTION 'invalid tag "%"', tag
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'A tag is lower-case letters, digits and _ . : - (at most 100), starting with a letter or digit.';
	END IF;
	INSERT INTO @extschema@.advisory_tag (tenant, subject_id, tag, source)
	VALUES (t, advisory_id, tag, 'manual')
	ON CONFLICT DO NOTHING;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n > 0;
END
$$;

-- Take an SBOM in or out of runs.
CREATE FUNCTION @extschema@.sbom_set_active(sbom_id text, active boolean)
	RETURNS boolean
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	n integer;
BEGIN
	UPDATE @extschema@.sbom s SET active = sbom_set_active.active
	WHERE s.tenant = @extschema@.current_tenant()
	  AND s.sbom_id = sbom_set_active.sbom_id AND s.is_current;
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n = 0 THEN
		RAISE EXCEPTION 'SBOM "%" does not exist', sbom_id
			USING ERRCODE = 'no_data_found';
	END IF;
	RETURN active;
END
$$;

-- Tags of an advisory: those on its id and on any of its aliases.
CREATE FUNCTION @extschema@.advisory_tags(advisory_id text)
	RETURNS text[]
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce(array_agg(DISTINCT t.tag COLLATE "C" ORDER BY t.tag COLLATE "C"), '{}')
	FROM @extschema@.advisory_tag t
	WHERE t.tenant = @extschema@.current_tenant()
	  AND (t.subject_id = advisory_id
		   OR t.subject_id IN (SELECT unnest(a.aliases)
							   FROM @extschema@.advisory_current a
							   WHERE a.tenant = @extschema@.current_tenant()
								 AND a.advisory_id = advisory_tags.advisory_id))
	$$;

-- purl helpers.
CREATE FUNCTION @extschema@.purl_canonical(purl text)
	RETURNS text
	AS 'MODULE_PATHNAME', 'stellapolicy_purl_canonical'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.purl_parse(purl text)
	RETURNS jsonb
	AS 'MODULE_PATHNAME', 'stellapolicy_purl_parse'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
