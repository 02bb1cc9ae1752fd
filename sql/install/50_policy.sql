-- Policies: immutable versions under a stable policy id, per tenant, with a
-- recorded lifecycle draft -> submitted -> approved -> active -> archived.

CREATE TABLE @extschema@.policy_version (
	tenant			text NOT NULL,
	policy_id		text NOT NULL CHECK (policy_id ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$'),
	version			integer NOT NULL CHECK (version > 0),
	status			text NOT NULL DEFAULT 'draft'
		CHECK (status IN ('draft', 'submitted', 'approved', 'active', 'archived')),
	name			text NOT NULL,			-- the name in the policy header
	source			text NOT NULL,
	ir				jsonb NOT NULL,			-- for reading; jsonb re-orders keys
	ir_canonical	text NOT NULL,			-- the exact bytes the digest covers
	digest			text NOT NULL CHECK (digest ~ '^sha256:[0-9a-f]{64}$'),
	created_at		timestamptz NOT NULL DEFAULT now(),
	created_by		name NOT NULL DEFAULT @extschema@.acting_role(),
	PRIMARY KEY (tenant, policy_id, version)
);
-- At most one active version per policy.
CREATE UNIQUE INDEX policy_version_one_active ON @extschema@.policy_version (tenant, policy_id)
	WHERE status = 'active';

-- Every transition, with who and when.  Append-only.
CREATE TABLE @extschema@.policy_transition (
	tenant			text NOT NULL,
	policy_id		text NOT NULL,
	version			integer NOT NULL,
	from_status		text,					-- NULL for the creation
	to_status		text NOT NULL,
	actor			name NOT NULL DEFAULT @extschema@.acting_role(),
	at				timestamptz NOT NULL DEFAULT clock_timestamp(),
	reason			text,
	FOREIGN KEY (tenant, policy_id, version)
		REFERENCES @extschema@.policy_version (tenant, policy_id, version)
);
CREATE INDEX policy_transition_idx ON @extschema@.policy_transition (tenant, policy_id, version);

CREATE TRIGGER policy_transition_append_only BEFORE UPDATE OR DELETE ON @extschema@.policy_transition
	FOR EACH ROW EXECUTE FUNCTION @extschema@.refuse_change();
CREATE TRIGGER policy_transition_no_truncate BEFORE TRUNCATE ON @extschema@.policy_transition
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_change();

-- A version's content never changes; only its status moves, through the
-- functions below.
CREATE FUNCTION @extschema@.policy_version_guard() RETURNS trigger
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		RAISE EXCEPTION 'policy versions cannot be deleted'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Archive the version with stellapolicy.policy_archive().';
	END IF;
	IF (NEW.tenant, NEW.policy_id, NEW.version, NEW.source, NEW.ir, NEW.ir_canonical, NEW.digest, NEW.name)
	   IS DISTINCT FROM (OLD.tenant, OLD.policy_id, OLD.version, OLD.source, OLD.ir, OLD.ir_canonical, OLD.digest, OLD.name) THEN
		RAISE EXCEPTION 'policy versions are immutable'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Create a new version with stellapolicy.policy_create().';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER policy_version_guard BEFORE UPDATE OR DELETE ON @extschema@.policy_version
	FOR EACH ROW EXECUTE FUNCTION @extschema@.policy_version_guard();
CREATE TRIGGER policy_version_no_truncate BEFORE TRUNCATE ON @extschema@.policy_version
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_change();

CREATE FUNCTION @extschema@.policy_compile(source text)
	RETURNS jsonb
	AS 'MODULE_PATHNAME', 'stellapolicy_policy_compile'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.policy_compile(text) IS
	'compile stella-dsl@1 source: {digest, ir, diagnostics[]}; digest and ir are null when there are errors';

CREATE FUNCTION @extschema@.policy_create(policy_id text, source text)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'stellapolicy_policy_create'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;

-- One transition; refused with a clear error unless allowed from the current
-- status.  Activating a version archives the version that was active.
CREATE FUNCTION @extschema@.policy_transition_to(p_policy_id text, p_version integer,
												 p_to text, p_allowed_from text[],
												 p_reason text DEFAULT NULL)
	RETURNS text
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	t text := @extschema@.current_tenant();
	cur text;
	prev integer;
BEGIN
	SELECT v.status INTO cur FROM @extschema@.policy_version v
	WHERE v.tenant = t AND v.policy_id = p_policy_id AND v.version = p_version
	FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'policy "%" version % does not exist', p_policy_id, p_version
			USING ERRCODE = 'no_data_found';
	END IF;
	IF NOT cur = ANY (p_allowed_from) THEN
		RAISE EXCEPTION 'policy "%" version % is %; it cannot become %', p_policy_id, p_version, cur, p_to
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = format('Only a version that is %s can become %s.', array_to_string(p_allowed_from, ' or '), p_to),
				  HINT = 'The lifecycle is draft -> submitted -> approved -> active -> archived.';
	END IF;

	IF p_to = 'active' THEN
		-- Serialise activations of one policy; archive the active version.
		PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(t || chr(31) || p_policy_id, 7));
		FOR prev IN SELECT v.version FROM @extschema@.policy_version v
					WHERE v.tenant = t AND v.policy_id = p_policy_id AND v.status = 'active'
		LOOP
			UPDATE @extschema@.policy_version v SET status = 'archived'
			WHERE v.tenant = t AND v.policy_id = p_policy_id AND v.version = prev;
			INSERT INTO @extschema@.policy_transition (tenant, policy_id, version, from_status, to_status, actor, reason)
			VALUES (t, p_policy_id, prev, 'active', 'archived', @extschema@.acting_role(),
					format('superseded by version %s', p_version));
		END LOOP;
	END IF;

	UPDATE @extschema@.policy_version v SET status = p_to
	WHERE v.tenant = t AND v.policy_id = p_policy_id AND v.version = p_version;
	INSERT INTO @extschema@.policy_transition (tenant, policy_id, version, from_status, to_status, actor, reason)
	VALUES (t, p_policy_id, p_version, cur, p_to, @extschema@.acting_role(), p_reason);
	RETURN p_to;
END
$$;

CREATE FUNCTION @extschema@.policy_submit(policy_id text, version integer)
	RETURNS text LANGUAGE sql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT @extschema@.policy_transition_to(policy_id, version, 'submitted', ARRAY['draft']) $$;

CREATE FUNCTION @extschema@.policy_approve(policy_id text, version integer)
	RETURNS text LANGUAGE sql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT @extschema@.policy_transition_to(policy_id, version, 'approved', ARRAY['submitted']) $$;

CREATE FUNCTION @extschema@.policy_activate(policy_id text, version integer)
	RETURNS text LANGUAGE sql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT @extschema@.policy_transition_to(policy_id, version, 'active', ARRAY['approved']) $$;

CREATE FUNCTION @extschema@.policy_archive(policy_id text, version integer)
	RETURNS text LANGUAGE sql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT @extschema@.policy_transition_to(policy_id, version, 'archived',
												  ARRAY['draft', 'submitted', 'approved', 'active']) $$;

CREATE FUNCTION @extschema@.policy_evaluate(policy_id text, version integer, sbom_id text,
											purl text, advisory_id text,
											env jsonb DEFAULT '{}',
											explain boolean DEFAULT false,
											evaluation_time timestamptz DEFAULT NULL)
	RETURNS jsonb
	AS 'MODULE_PATHNAME', 'stellapolicy_policy_evaluate'
	LANGUAGE C STABLE;

COMMENT ON FUNCTION @extschema@.policy_evaluate(text, integer, text, text, text, jsonb, boolean, timestamptz) IS
	'evaluate one policy version on one (SBOM, component, advisory) tuple: the verdict, or with explain the explain trace';

CREATE FUNCTION @extschema@.cvss_score(vector text)
	RETURNS numeric
	AS 'MODULE_PATHNAME', 'stellapolicy_cvss_score'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cvss_score(text) IS
	'base score of a CVSS v2, v3.0, v3.1 or v4.0 vector, as policies compute it';
