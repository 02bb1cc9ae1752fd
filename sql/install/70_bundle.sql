-- Sealed bundles: everything a run read, in one checksummed document, so
-- the run can be replayed in another database (an air-gapped one too).
--
-- A bundle is UTF-8 JSON: {"checksum": "sha256:...", "body": {...}} where
-- the checksum is the SHA-256 of canonical_json(body).  The body names its
-- format (stellapolicy-bundle@1) and holds the run record, the policy
-- version, the SBOM documents, the advisory revisions and tags, and the VEX
-- statements the run could read.

-- What a run could read, as a bundle's body: the run record, the policy
-- version, its SBOM revisions, every revision up to its advisory cursor of
-- the advisories that name a package of those SBOMs, their tags, and the VEX
-- statements about them as of its VEX cursor.  bundle_export() packs it;
-- bundle_import() builds it again for the run it imported and compares.
-- Documents only when p_documents.  Internal: no role is granted it.
CREATE FUNCTION @extschema@.bundle_body(p_tenant text, p_run @extschema@.policy_runs,
										p_documents boolean)
	RETURNS jsonb
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH sboms AS (
		SELECT s.* FROM @extschema@.sbom s
		JOIN jsonb_array_elements(p_run.inputs->'sbomSet') e
		  ON s.sbom_id = e->>'id' AND s.revision = (e->>'revision')::int
		WHERE s.tenant = p_tenant
	), keys AS (
		-- the packages the run's components could match
		SELECT DISTINCT c.match_ecosystem AS eco, k.pkg
		FROM @extschema@.component c JOIN sboms s USING (tenant, sbom_id, revision),
			 LATERAL (VALUES (c.match_package), (c.qualifiers->>'upstream')) k(pkg)
		WHERE c.tenant = p_tenant AND k.pkg IS NOT NULL
	), advs AS (
		SELECT a.* FROM @extschema@.advisory_raw a
		WHERE a.tenant = p_tenant AND a.change_seq <= p_run.advisory_cursor
		  AND a.advisory_id IN (
			SELECT DISTINCT x.advisory_id FROM @extschema@.advisory_raw x
			JOIN @extschema@.advisory_affected f USING (revision_id)
			JOIN keys ON keys.eco = f.base_ecosystem AND keys.pkg = f.match_package
			WHERE x.tenant = p_tenant AND x.change_seq <= p_run.advisory_cursor)
	), ids AS (
		SELECT advisory_id AS id FROM advs UNION SELECT unnest(aliases) FROM advs
	)
	SELECT jsonb_build_object(
		'format', 'stellapolicy-bundle@1',
		'run', jsonb_build_object('runId', p_run.run_id, 'policyId', p_run.policy_id,
			'policyVersion', p_run.policy_version, 'policyDigest', p_run.policy_digest, 'mode', p_run.mode,
			'inputs', p_run.inputs, 'stats', p_run.stats, 'determinismHash', p_run.determinism_hash,
			'advisoryCursor', p_run.advisory_cursor, 'vexCursor', p_run.vex_cursor,
			'evaluationTime', to_char(p_run.evaluation_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')),
		'policy', (SELECT jsonb_build_object('policyId', v.policy_id, 'version', v.version, 'name', v.name,
						'source', v.source, 'ir', v.ir_canonical, 'digest', v.digest)
				   FROM @extschema@.policy_version v
				   WHERE v.tenant = p_tenant AND v.policy_id = p_run.policy_id AND v.version = p_run.policy_version),
		'sboms', coalesce((SELECT jsonb_agg(jsonb_build_object('sbomId', s.sbom_id, 'revision', s.revision,
						'digest', s.content_digest, 'tags', to_jsonb(s.tags), 'document', CASE WHEN p_documents THEN s.document END)
						ORDER BY s.sbom_id COLLATE "C") FROM sboms s), '[]'),
		'advisories', coalesce((SELECT jsonb_agg(jsonb_build_object('advisoryId', a.advisory_id,
						'source', a.source, 'digest', a.content_digest,
						'document', CASE WHEN p_documents THEN a.document END)
						ORDER BY a.change_seq) FROM advs a), '[]'),
		'tags', coalesce((SELECT jsonb_agg(jsonb_build_object('subject', g.subject_id, 'tag', g.tag,
						'source', g.source) ORDER BY g.subject_id COLLATE "C", g.tag COLLATE "C")
				  FROM @extschema@.advisory_tag g
				  WHERE g.tenant = p_tenant AND g.change_seq <= p_run.advisory_cursor
					AND g.subject_id IN (SELECT id FROM ids)), '[]'),
		'vex', coalesce((SELECT jsonb_agg(jsonb_build_object('format', v.format,
						'documentDigest', v.document_digest, 'documentId', v.document_id,
						'issuer', v.issuer, 'statementId', v.statement_id, 'item', v.item,
						'statementTime', to_char(v.statement_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
						'vulnerability', v.vulnerability, 'vulnAliases', to_jsonb(v.vuln_aliases),
						'productRef', v.product_ref,
						'productPurl', CASE WHEN rs.change_seq <= p_run.vex_cursor THEN coalesce(v.product_purl, rs.product_purl)
											ELSE v.product_purl END,
						'productContext', v.product_context, 'productVersions', v.product_versions,
						'resolved', v.resolved OR coalesce(rs.change_seq <= p_run.vex_cursor, false),
						'status', v.status, 'justification', v.justification,
						'rawJustification', v.raw_justification, 'impact', v.impact_statement,
						'action', v.action_statement,
						'resolvedBy', CASE WHEN rs.change_seq <= p_run.vex_cursor THEN rs.sbom_id END)
						ORDER BY v.change_seq)
				 FROM @extschema@.vex_raw v
				 LEFT JOIN @extschema@.vex_resolution rs USING (statement_pk)
				 WHERE v.tenant = p_tenant AND v.change_seq <= p_run.vex_cursor
				   AND (v.vulnerability IN (SELECT id FROM ids) OR v.vuln_aliases && ARRAY(SELECT id FROM ids))), '[]'));
$$;

-- The inputs of a bundle's body as comparable lines: one per SBOM revision
-- (with its tags), advisory revision, tag and VEX statement (with the state
-- the run saw).  Internal.
CREATE FUNCTION @extschema@.bundle_input_keys(p_body jsonb)
	RETURNS SETOF text
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT format('SBOM %s %s with tags %s', x->>'sbomId', x->>'digest', x->'tags')
	  FROM jsonb_array_elements(p_body->'sboms') x
	UNION ALL
	SELECT format('advisory %s revision %s', x->>'advisoryId', x->>'digest')
	  FROM jsonb_array_elements(p_body->'advisories') x
	UNION ALL
	SELECT format('tag %s on %s', x->>'tag', x->>'subject')
	  FROM jsonb_array_elements(p_body->'tags') x
	UNION ALL
	SELECT format('VEX statement %s#%s (%s, %s)', x->>'documentDigest', x->>'item', x->>'status',
				  CASE WHEN (x->>'resolved')::boolean
					   THEN 'resolved to ' || coalesce(x->>'productPurl', 'nothing') ELSE 'unresolved' END)
	  FROM jsonb_array_elements(p_body->'vex') x
$$;

CREATE FUNCTION @extschema@.bundle_export(run_id text)
	RETURNS bytea
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	t text := @extschema@.current_tenant();
	r @extschema@.policy_runs;
	body jsonb;
	canon text;
BEGIN
	SELECT * INTO r FROM @extschema@.policy_runs p
	WHERE p.run_id = bundle_export.run_id AND p.tenant = t;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'run "%" does not exist', run_id USING ERRCODE = 'no_data_found';
	END IF;
	IF r.determinism_hash IS NULL THEN
		RAISE EXCEPTION 'run "%" is %; only a run that succeeded can be exported', run_id, r.status
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;

	body := @extschema@.bundle_body(t, r, true)
		|| jsonb_build_object('exportedBy', @extschema@.acting_role());
	canon := @extschema@.canonical_json(body::text);
	RETURN convert_to(@extschema@.canonical_json(jsonb_build_object(
		'checksum', 'sha256:' || encode(sha256(convert_to(canon, 'UTF8')), 'hex'),
		'body', body)::text), 'UTF8');
END
$$;

CREATE FUNCTION @extschema@.bundle_import(bundle bytea)
	RETURNS text
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	t text := @extschema@.current_tenant();
	doc jsonb;
	body jsonb;
	run jsonb;
	pol jsonb;
	e jsonb;
	got text;
	rev integer;
	revs jsonb := '[]';
	adv_cursor bigint;
	vex_cursor bigint;
	existing text;
	imported @extschema@.policy_runs;
	here jsonb;
	missing text;
	extra text;
BEGIN
	BEGIN
		doc := convert_from(bundle, 'UTF8')::jsonb;
	EXCEPTION WHEN OTHERS THEN
		RAISE EXCEPTION 'invalid bundle: %', SQLERRM USING ERRCODE = 'invalid_json_text';
	END;
	body := doc->'body';
	IF body IS NULL OR body->>'format' IS DISTINCT FROM 'stellapolicy-bundle@1' THEN
		RAISE EXCEPTION 'invalid bundle: not a stellapolicy-bundle@1 document'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF doc->>'checksum' IS DISTINCT FROM
	   'sha256:' || encode(sha256(convert_to(@extschema@.canonical_json(body::text), 'UTF8')), 'hex') THEN
		RAISE EXCEPTION 'invalid bundle: the checksum does not match its content'
			USING ERRCODE = 'data_corrupted',
				  HINT = 'The bundle was changed or damaged after export.';
	END IF;
	run := body->'run';
	pol := body->'policy';

	SELECT r.run_id INTO existing FROM @extschema@.policy_runs r WHERE r.run_id = run->>'runId';
	IF FOUND THEN
		RAISE EXCEPTION 'run "%" already exists in this database', run->>'runId'
			USING ERRCODE = 'unique_violation';
	END IF;

	-- The policy version, as archived history unless it is already here.
	SELECT v.digest INTO got FROM @extschema@.policy_version v
	WHERE v.tenant = t AND v.policy_id = pol->>'policyId' AND v.version = (pol->>'version')::int;
	IF NOT FOUND THEN
		INSERT INTO @extschema@.policy_version (tenant, policy_id, version, status, name, source, ir,
												ir_canonical, digest)
		VALUES (t, pol->>'policyId', (pol->>'version')::int, 'archived', pol->>'name', pol->>'source',
				(pol->>'ir')::jsonb, pol->>'ir', pol->>'digest');
		INSERT INTO @extschema@.policy_transition (tenant, policy_id, version, from_status, to_status, reason)
		VALUES (t, pol->>'policyId', (pol->>'version')::int, NULL, 'archived',
				'imported with the bundle of run ' || (run->>'runId'));
	ELSIF got <> pol->>'digest' THEN
		RAISE EXCEPTION 'policy "%" version % differs from the bundle''s', pol->>'policyId', pol->>'version'
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;

	-- SBOMs: imported by content; the run points at the revisions they get here.
	FOR e IN SELECT * FROM jsonb_array_elements(body->'sboms') LOOP
		PERFORM @extschema@.sbom_import((e->'document')::text, e->>'sbomId',
										ARRAY(SELECT jsonb_array_elements_text(e->'tags')));
		SELECT s.revision INTO rev FROM @extschema@.sbom s
		WHERE s.tenant = t AND s.sbom_id = e->>'sbomId' AND s.content_digest = e->>'digest'
		ORDER BY s.revision DESC LIMIT 1;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'SBOM "%" of the bundle does not import with its digest', e->>'sbomId'
				USING ERRCODE = 'data_corrupted';
		END IF;
		revs := revs || jsonb_build_object('id', e->>'sbomId', 'revision', rev, 'digest', e->>'digest');
	END LOOP;

	-- Advisory revisions in their original order, then tags.
	FOR e IN SELECT * FROM jsonb_array_elements(body->'advisories') LOOP
		PERFORM @extschema@.advisory_ingest((e->'document')::text, e->>'source');
	END LOOP;
	INSERT INTO @extschema@.advisory_tag (tenant, subject_id, tag, source)
	SELECT t, g->>'subject', g->>'tag', g->>'source' FROM jsonb_array_elements(body->'tags') g
	ON CONFLICT DO NOTHING;

	-- VEX statements as the run saw them (late resolutions applied).
	INSERT INTO @extschema@.vex_raw (tenant, format, document_digest, document_id, issuer, statement_id,
		item, statement_time, vulnerability, vuln_aliases, product_ref, product_purl, product_context,
		product_versions, resolved, status, justification, raw_justification, impact_statement,
		action_statement)
	SELECT t, v->>'format', v->>'documentDigest', v->>'documentId', v->>'issuer', v->>'statementId',
		   v->>'item', (v->>'statementTime')::timestamptz, v->>'vulnerability',
		   ARRAY(SELECT jsonb_array_elements_text(v->'vulnAliases')), v->>'productRef', v->>'productPurl',
		   v->>'productContext', nullif(v->'productVersions', 'null'::jsonb), (v->>'resolved')::boolean, v->>'status',
		   v->>'justification', v->>'rawJustification', v->>'impact', v->>'action'
	FROM jsonb_array_elements(body->'vex') v
	ON CONFLICT (tenant, document_digest, item) DO NOTHING;
	-- A statement already here unresolved (from an earlier bundle of the
	-- same source) that the run saw resolved: resolved late, as it was there.
	INSERT INTO @extschema@.vex_resolution (tenant, statement_pk, product_purl, sbom_id)
	SELECT t, v.statement_pk, x->>'productPurl', coalesce(x->>'resolvedBy', 'bundle')
	FROM jsonb_array_elements(body->'vex') x
	JOIN @extschema@.vex_raw v ON v.tenant = t AND v.document_digest = x->>'documentDigest'
		AND v.item = x->>'item'
	WHERE (x->>'resolved')::boolean AND NOT v.resolved
	ON CONFLICT (statement_pk) DO NOTHING;

	-- Cursors that cover the imported content here.
	SELECT max(a.change_seq) INTO adv_cursor FROM @extschema@.advisory_raw a
	WHERE a.tenant = t AND a.content_digest IN (SELECT x->>'digest' FROM jsonb_array_elements(body->'advisories') x);
	SELECT greatest(adv_cursor, max(g.change_seq)) INTO adv_cursor FROM @extschema@.advisory_tag g
	WHERE g.tenant = t AND (g.subject_id, g.tag) IN (SELECT x->>'subject', x->>'tag' FROM jsonb_array_elements(body->'tags') x);
	SELECT max(greatest(v.change_seq, CASE WHEN (x->>'resolved')::boolean THEN rs.change_seq END))
	  INTO vex_cursor
	FROM jsonb_array_elements(body->'vex') x
	JOIN @extschema@.vex_raw v ON v.tenant = t AND v.document_digest = x->>'documentDigest'
		AND v.item = x->>'item'
	LEFT JOIN @extschema@.vex_resolution rs USING (statement_pk);

	INSERT INTO @extschema@.policy_runs (run_id, tenant, policy_id, policy_version, policy_digest, mode,
		status, inputs, advisory_cursor, vex_cursor, evaluation_time, stats, determinism_hash)
	VALUES (run->>'runId', t, pol->>'policyId', (pol->>'version')::int, pol->>'digest', run->>'mode',
			'replay_pending', (run->'inputs') || jsonb_build_object('sbomSet', revs, 'importedFrom', 'bundle'),
			coalesce(adv_cursor, 0), coalesce(vex_cursor, 0), (run->>'evaluationTime')::timestamptz,
			run->'stats', run->>'determinismHash')
	RETURNING * INTO imported;

	-- The run reads here exactly what the bundle holds, or nothing is
	-- imported: inputs the tenant held before (or a later bundle's, imported
	-- earlier) that fall under the cursors would change its replay.
	here := @extschema@.bundle_body(t, imported, false);
	SELECT k INTO missing FROM (SELECT @extschema@.bundle_input_keys(body) AS k
								EXCEPT SELECT @extschema@.bundle_input_keys(here)) d
	ORDER BY k COLLATE "C" LIMIT 1;
	SELECT k INTO extra FROM (SELECT @extschema@.bundle_input_keys(here) AS k
							  EXCEPT SELECT @extschema@.bundle_input_keys(body)) d
	ORDER BY k COLLATE "C" LIMIT 1;
	IF missing IS NOT NULL OR extra IS NOT NULL THEN
		RAISE EXCEPTION 'tenant "%" holds inputs that would change the replay of run "%"', t, run->>'runId'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = CASE WHEN extra IS NOT NULL
								THEN format('The run would also read %s.', extra)
								ELSE format('The run would not read the bundle''s %s as the bundle holds it.', missing) END,
				  HINT = 'Import the bundle into a tenant of its own (SET stellapolicy.tenant), or the bundles of one source in the order of their runs.';
	END IF;
	RETURN run->>'runId';
END
$$;
