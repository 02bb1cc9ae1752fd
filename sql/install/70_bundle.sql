-- Sealed bundles: everything a run read, in one checksummed document, so
-- the run can be replayed in another database (an air-gapped one too).
--
-- A bundle is UTF-8 JSON: {"checksum": "sha256:...", "body": {...}} where
-- the checksum is the SHA-256 of canonical_json(body).  The body names its
-- format (stellapolicy-bundle@1) and holds the run record, the policy
-- version, the SBOM documents, the advisory revisions and tags, and the VEX
-- statements the run could read.

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

	WITH sboms AS (
		SELECT s.* FROM @extschema@.sbom s
		JOIN jsonb_array_elements(r.inputs->'sbomSet') e
		  ON s.sbom_id = e->>'id' AND s.revision = (e->>'revision')::int
		WHERE s.tenant = t
	), keys AS (
		-- the packages the run's components could match
		SELECT DISTINCT c.match_ecosystem AS eco, k.pkg
		FROM @extschema@.component c JOIN sboms s USING (tenant, sbom_id, revision),
			 LATERAL (VALUES (c.match_package), (c.qualifiers->>'upstream')) k(pkg)
		WHERE c.tenant = t AND k.pkg IS NOT NULL
	), advs AS (
		SELECT a.* FROM @extschema@.advisory_raw a
		WHERE a.tenant = t AND a.change_seq <= r.advisory_cursor
		  AND a.advisory_id IN (
			SELECT DISTINCT x.advisory_id FROM @extschema@.advisory_raw x
			JOIN @extschema@.advisory_affected f USING (revision_id)
			JOIN keys ON keys.eco = f.base_ecosystem AND keys.pkg = f.match_package
			WHERE x.tenant = t AND x.change_seq <= r.advisory_cursor)
	), ids AS (
		SELECT advisory_id AS id FROM advs UNION SELECT unnest(aliases) FROM advs
	)
	SELECT jsonb_build_object(
		'format', 'stellapolicy-bundle@1',
		'exportedBy', @extschema@.acting_role(),
		'run', jsonb_build_object('runId', r.run_id, 'policyId', r.policy_id,
			'policyVersion', r.policy_version, 'policyDigest', r.policy_digest, 'mode', r.mode,
			'inputs', r.inputs, 'stats', r.stats, 'determinismHash', r.determinism_hash,
			'advisoryCursor', r.advisory_cursor, 'vexCursor', r.vex_cursor,
			'evaluationTime', to_char(r.evaluation_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')),
		'policy', (SELECT jsonb_build_object('policyId', v.policy_id, 'version', v.version, 'name', v.name,
						'source', v.source, 'ir', v.ir_canonical, 'digest', v.digest)
				   FROM @extschema@.policy_version v
				   WHERE v.tenant = t AND v.policy_id = r.policy_id AND v.version = r.policy_version),
		'sboms', coalesce((SELECT jsonb_agg(jsonb_build_object('sbomId', s.sbom_id, 'revision', s.revision,
						'digest', s.content_digest, 'tags', to_jsonb(s.tags), 'document', s.document)
						ORDER BY s.sbom_id COLLATE "C") FROM sboms s), '[]'),
		'advisories', coalesce((SELECT jsonb_agg(jsonb_build_object('advisoryId', a.advisory_id,
						'source', a.source, 'digest', a.content_digest, 'document', a.document)
						ORDER BY a.change_seq) FROM advs a), '[]'),
		'tags', coalesce((SELECT jsonb_agg(jsonb_build_object('subject', g.subject_id, 'tag', g.tag,
						'source', g.source) ORDER BY g.subject_id COLLATE "C", g.tag COLLATE "C")
				  FROM @extschema@.advisory_tag g
				  WHERE g.tenant = t AND g.change_seq <= r.advisory_cursor
					AND g.subject_id IN (SELECT id FROM ids)), '[]'),
		'vex', coalesce((SELECT jsonb_agg(jsonb_build_object('format', v.format,
						'documentDigest', v.document_digest, 'documentId', v.document_id,
						'issuer', v.issuer, 'statementId', v.statement_id, 'item', v.item,
						'statementTime', to_char(v.statement_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
						'vulnerability', v.vulnerability, 'vulnAliases', to_jsonb(v.vuln_aliases),
						'productRef', v.product_ref,
						'productPurl', CASE WHEN rs.change_seq <= r.vex_cursor THEN coalesce(v.product_purl, rs.product_purl)
											ELSE v.product_purl END,
						'productContext', v.product_context, 'productVersions', v.product_versions,
						'resolved', v.resolved OR coalesce(rs.change_seq <= r.vex_cursor, false),
						'status', v.status, 'justification', v.justification,
						'rawJustification', v.raw_justification, 'impact', v.impact_statement,
						'action', v.action_statement) ORDER BY v.change_seq)
				 FROM @extschema@.vex_raw v
				 LEFT JOIN @extschema@.vex_resolution rs USING (statement_pk)
				 WHERE v.tenant = t AND v.change_seq <= r.vex_cursor
				   AND (v.vulnerability IN (SELECT id FROM ids) OR v.vuln_aliases && ARRAY(SELECT id FROM ids))), '[]'))
	INTO body;

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

	-- Cursors that cover exactly the imported content here.
	SELECT max(a.change_seq) INTO adv_cursor FROM @extschema@.advisory_raw a
	WHERE a.tenant = t AND a.content_digest IN (SELECT x->>'digest' FROM jsonb_array_elements(body->'advisories') x);
	SELECT greatest(adv_cursor, max(g.change_seq)) INTO adv_cursor FROM @extschema@.advisory_tag g
	WHERE g.tenant = t AND (g.subject_id, g.tag) IN (SELECT x->>'subject', x->>'tag' FROM jsonb_array_elements(body->'tags') x);
	SELECT max(v.change_seq) INTO vex_cursor FROM @extschema@.vex_raw v
	WHERE v.tenant = t AND (v.document_digest, v.item) IN
		(SELECT x->>'documentDigest', x->>'item' FROM jsonb_array_elements(body->'vex') x);

	INSERT INTO @extschema@.policy_runs (run_id, tenant, policy_id, policy_version, policy_digest, mode,
		status, inputs, advisory_cursor, vex_cursor, evaluation_time, stats, determinism_hash)
	VALUES (run->>'runId', t, pol->>'policyId', (pol->>'version')::int, pol->>'digest', run->>'mode',
			'replay_pending', (run->'inputs') || jsonb_build_object('sbomSet', revs, 'importedFrom', 'bundle'),
			coalesce(adv_cursor, 0), coalesce(vex_cursor, 0), (run->>'evaluationTime')::timestamptz,
			run->'stats', run->>'determinismHash');
	RETURN run->>'runId';
END
$$;
