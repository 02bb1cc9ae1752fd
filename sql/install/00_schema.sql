-- Tenancy, roles and settings shared by every other part of the schema.

-- The four roles are cluster-wide; create them only where they are missing so
-- that the extension can be installed in several databases.
DO $roles$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['stellapolicy_reader', 'stellapolicy_author',
							 'stellapolicy_operator', 'stellapolicy_admin']
	LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
			EXECUTE format('CREATE ROLE %I NOLOGIN', r);
		END IF;
	END LOOP;
END
$roles$;

-- Authors and operators read what readers read; the admin holds them all.
GRANT stellapolicy_reader TO stellapolicy_author;
GRANT stellapolicy_reader TO stellapolicy_operator;
GRANT stellapolicy_author, stellapolicy_operator TO stellapolicy_admin;

GRANT USAGE ON SCHEMA @extschema@ TO stellapolicy_reader;

-- Which roles may act for which tenant.  The grantee 'public' opens a tenant
-- to every role; the extension opens the tenant 'default' that way at install,
-- and an administrator may remove that row.  A restore from pg_dump runs with
-- session_replication_role = replica (docs/operations.md, "Backup and
-- restore") and takes the rows from the dump instead, so a removed row stays
-- removed.
CREATE TABLE @extschema@.tenant_access (
	tenant		text NOT NULL CHECK (tenant <> '' AND length(tenant) <= 200),
	grantee		name NOT NULL,
	granted_by	name NOT NULL DEFAULT CURRENT_USER,
	granted_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant, grantee)
);
INSERT INTO @extschema@.tenant_access (tenant, grantee)
SELECT 'default', 'public'
WHERE pg_catalog.current_setting('session_replication_role') <> 'replica';

-- The current tenant: the setting stellapolicy.tenant, checked against
-- tenant_access for the calling role.  Every row-level security policy and
-- every ingestion function goes through it.
CREATE FUNCTION @extschema@.current_tenant() RETURNS text
	AS 'MODULE_PATHNAME', 'stellapolicy_current_tenant'
	LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION @extschema@.tenant_cache_reset() RETURNS trigger
	AS 'MODULE_PATHNAME', 'stellapolicy_tenant_cache_reset'
	LANGUAGE C;
CREATE TRIGGER tenant_access_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
	ON @extschema@.tenant_access
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.tenant_cache_reset();

-- The role acting: inside SECURITY DEFINER functions, their caller.
CREATE FUNCTION @extschema@.acting_role() RETURNS name
	AS 'MODULE_PATHNAME', 'stellapolicy_acting_role'
	LANGUAGE C STABLE PARALLEL SAFE;

-- Change sequence: every insert into an input table takes the next number,
-- so runs can record how far into the inputs they read (their cursors).
CREATE SEQUENCE @extschema@.change_seq AS bigint;

-- Whether the role acting holds a tenant: a superuser, or a member of a
-- role granted it (or the tenant granted to public).  Grants, revokes and
-- the rows of tenant_access a role may read go by it, so an administrator
-- of one tenant can neither give itself another nor see who holds it.
CREATE FUNCTION @extschema@.tenant_held(p_tenant text)
	RETURNS boolean
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = @extschema@.acting_role() AND rolsuper)
		OR EXISTS (SELECT 1 FROM @extschema@.tenant_access a
					WHERE a.tenant = p_tenant
					  AND (a.grantee = 'public'
						   OR EXISTS (SELECT 1 FROM pg_roles r
									   WHERE r.rolname = a.grantee
										 AND pg_has_role(@extschema@.acting_role(), r.oid, 'MEMBER'))))
	$$;

-- Refuse a grant or revoke of a tenant the role acting does not hold.
CREATE FUNCTION @extschema@.tenant_require_held(p_tenant text)
	RETURNS void
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF NOT @extschema@.tenant_held(p_tenant) THEN
		RAISE EXCEPTION 'permission denied for tenant "%"', p_tenant
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'Only a role that holds a tenant, or a superuser, may grant or revoke it; a new tenant is granted first by a superuser.';
	END IF;
END
$$;

CREATE FUNCTION @extschema@.tenant_grant(tenant text, grantee name)
	RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	PERFORM @extschema@.tenant_require_held(tenant);
	IF grantee <> 'public' AND NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = grantee) THEN
		RAISE EXCEPTION 'role "%" does not exist', grantee USING ERRCODE = 'undefined_object';
	END IF;
	INSERT INTO @extschema@.tenant_access (tenant, grantee)
	VALUES (tenant, grantee) ON CONFLICT DO NOTHING;
END
$$;

CREATE FUNCTION @extschema@.tenant_revoke(tenant text, grantee name)
	RETURNS boolean
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	n integer;
BEGIN
	PERFORM @extschema@.tenant_require_held(tenant);
	DELETE FROM @extschema@.tenant_access a
	 WHERE a.tenant = tenant_revoke.tenant AND a.grantee = tenant_revoke.grantee;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n > 0;
END
$$;

REVOKE ALL ON FUNCTION @extschema@.tenant_grant(text, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.tenant_revoke(text, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.tenant_grant(text, name) TO stellapolicy_admin;
GRANT EXECUTE ON FUNCTION @extschema@.tenant_revoke(text, name) TO stellapolicy_admin;
GRANT SELECT ON @extschema@.tenant_access TO stellapolicy_admin;
-- An administrator reads the grants of the tenants it holds.
ALTER TABLE @extschema@.tenant_access ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_held ON @extschema@.tenant_access USING (@extschema@.tenant_held(tenant));

ALTER TABLE @extschema@.tenant_access ALTER COLUMN granted_by SET DEFAULT @extschema@.acting_role();
