-- Affected-version matching (docs/matching.md).

CREATE FUNCTION @extschema@.version_cmp(scheme text, a text, b text)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'stellapolicy_version_cmp'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.version_cmp(text, text, text) IS
	'-1, 0 or 1 as a is older, equal or newer than b under the scheme (an OSV ecosystem, a purl type or a scheme name)';

CREATE FUNCTION @extschema@.advisory_affects(advisory_id text, purl text)
	RETURNS boolean
	AS 'MODULE_PATHNAME', 'stellapolicy_advisory_affects'
	LANGUAGE C STABLE STRICT;

COMMENT ON FUNCTION @extschema@.advisory_affects(text, text) IS
	'whether the current revision of the advisory affects the package and version the purl names';

CREATE FUNCTION @extschema@.candidate_tuples(sbom_ids text[] DEFAULT NULL,
											 advisory_cursor bigint DEFAULT NULL,
											 vex_cursor bigint DEFAULT NULL)
	RETURNS TABLE (sbom_id text, component_purl text, advisory_id text,
				   advisory_revision bigint, vex_statements bigint[])
	AS 'MODULE_PATHNAME', 'stellapolicy_candidate_tuples'
	LANGUAGE C STABLE ROWS 10000;

COMMENT ON FUNCTION @extschema@.candidate_tuples(text[], bigint, bigint) IS
	'every (SBOM, component, advisory) of the tenant whose version the advisory affects, grouped by SBOM then advisory (sorted by SBOM id, advisory id and finding key, as bytes), with the VEX statements about each';

CREATE FUNCTION @extschema@.vers_contains(range text, version text)
	RETURNS boolean
	AS 'MODULE_PATHNAME', 'stellapolicy_vers_contains'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.vers_contains(text, text) IS
	'whether the version lies inside a vers: range such as vers:npm/>=1.0.0|<2.0.0';
