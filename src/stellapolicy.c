/*-------------------------------------------------------------------------
 *
 * stellapolicy.c
 *	  Module entry point: settings, memory hooks and the tenant check.
 *
 * Every row of every stellapolicy table belongs to a tenant.  The current
 * tenant is the setting stellapolicy.tenant, but a setting is something any
 * role can change, so it is only trusted after a lookup in tenant_access:
 * the role that is acting (the outer user, so that SECURITY DEFINER
 * functions check their caller) must be a member of a role granted that
 * tenant, or the tenant must be granted to 'public'.  The answer is cached
 * for the rest of the transaction, which keeps row-level security cheap.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "stellapolicy.h"
#include "worker.h"

PG_MODULE_MAGIC;

char	   *sp_tenant_setting = NULL;
int			sp_max_document_size_kb = 64 * 1024;
int			sp_batch_size = 1024;
bool		sp_sealed = false;
char	   *sp_run_id_setting = NULL;

/* stellapolicy.notify_payload, read by the notifying triggers by name. */
enum
{
	SP_NOTIFY_FULL,
	SP_NOTIFY_MINIMAL
};
static int	sp_notify_payload = SP_NOTIFY_FULL;

/* Cache of the last tenant check, valid within one transaction. */
static LocalTransactionId tenant_cache_lxid = InvalidLocalTransactionId;
static Oid	tenant_cache_user = InvalidOid;
static char tenant_cache_name[NAMEDATALEN * 4];

void		_PG_init(void);
extern void sp_json_init(void);

PG_FUNCTION_INFO_V1(stellapolicy_current_tenant);
PG_FUNCTION_INFO_V1(stellapolicy_tenant_cache_reset);
PG_FUNCTION_INFO_V1(stellapolicy_acting_role);

/*
 * A tenant name is free text, but not empty, not absurdly long and free of
 * control characters, so that it prints safely in logs and partition names.
 */
static bool
check_tenant(char **newval, void **extra, GucSource source)
{
	const unsigned char *p;

	if (*newval == NULL || (*newval)[0] == '\0')
	{
		GUC_check_errdetail("The tenant name must not be empty.");
		return false;
	}
	if (strlen(*newval) > 200)
	{
		GUC_check_errdetail("The tenant name must be at most 200 bytes long.");
		return false;
	}
	for (p = (const unsigned char *) *newval; *p; p++)
	{
		if (*p < 0x20 || *p == 0x7f)
		{
			GUC_check_errdetail("The tenant name must not contain control characters.");
			return false;
		}
	}
	return true;
}

static const struct config_enum_entry notify_payload_options[] = {
	{"full", SP_NOTIFY_FULL, false},
	{"minimal", SP_NOTIFY_MINIMAL, false},
	{NULL, 0, false}
};

void
_PG_init(void)
{
	DefineCustomStringVariable("stellapolicy.tenant",
							   "Tenant whose rows this session reads and writes.",
							   "The role must be granted the tenant in stellapolicy.tenant_access.",
							   &sp_tenant_setting,
							   "default",
							   PGC_USERSET,
							   0,
							   check_tenant, NULL, NULL);

	DefineCustomIntVariable("stellapolicy.max_document_size",
							"Largest SBOM, advisory or VEX document accepted for ingestion.",
							NULL,
							&sp_max_document_size_kb,
							64 * 1024,
							1,
							1024 * 1024,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("stellapolicy.batch_size",
							"Tuples a run evaluates and writes per batch.",
							"Runs check for cancellation between batches.",
							&sp_batch_size,
							1024,
							1,
							1000000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("stellapolicy.sealed",
							 "Air-gapped mode: runs record sealed inputs and refuse anything that needs data not in the database.",
							 NULL,
							 &sp_sealed,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	/*
	 * What NOTIFY carries.  The triggers read the setting by name, so a
	 * value in postgresql.conf applies even in a session that has not
	 * loaded the library.
	 */
	DefineCustomEnumVariable("stellapolicy.notify_payload",
							 "What run and change notifications carry: full details, or only the id of the event or change row.",
							 "With minimal, listeners read the details from policy_run_events or input_change, where row-level security keeps each role to its tenants.",
							 &sp_notify_payload,
							 SP_NOTIFY_FULL,
							 notify_payload_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	/* Set by a run while it writes findings, read by the history trigger. */
	DefineCustomStringVariable("stellapolicy.run_id",
							   "The run writing findings in this transaction (set by the engine).",
							   NULL,
							   &sp_run_id_setting,
							   "",
							   PGC_USERSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   NULL, NULL, NULL);

	/* The queue's settings, shared memory and launcher. */
	sp_worker_init();

	MarkGUCPrefixReserved("stellapolicy");

	sp_json_init();
}

/*
 * May the given role act for the tenant?  Superusers may act for any tenant;
 * other roles need a tenant_access row for a role they are a member of.
 */
static bool
tenant_allowed(const char *tenant, Oid roleid)
{
	Oid			argtypes[2] = {TEXTOID, OIDOID};
	Datum		values[2];
	bool		allowed;
	int			rc;
	Oid			save_userid;
	int			save_sec_context;

	if (superuser_arg(roleid))
		return true;

	values[0] = CStringGetTextDatum(tenant);
	values[1] = ObjectIdGetDatum(roleid);

	/*
	 * Read tenant_access with the bootstrap superuser's rights: ordinary roles
	 * cannot read that table.  The query names every operator and function
	 * with its schema, so the caller's search_path cannot redirect it; an
	 * ERROR inside restores the user id at transaction abort.
	 */
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_with_args(
							   "SELECT 1 FROM stellapolicy.tenant_access a "
							   "WHERE a.tenant OPERATOR(pg_catalog.=) $1 "
							   "  AND (a.grantee OPERATOR(pg_catalog.=) 'public'::pg_catalog.name "
							   "   OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles r "
							   "              WHERE r.rolname OPERATOR(pg_catalog.=) a.grantee "
							   "                AND pg_catalog.pg_has_role($2, r.oid, 'MEMBER'))) "
							   "LIMIT 1",
							   2, argtypes, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "tenant_access lookup failed: %s", SPI_result_code_string(rc));
	allowed = SPI_processed > 0;
	SPI_finish();

	SetUserIdAndSecContext(save_userid, save_sec_context);

	return allowed;
}

const char *
sp_current_tenant(void)
{
	const char *tenant = sp_tenant_setting ? sp_tenant_setting : "default";
	Oid			roleid = GetOuterUserId();
	LocalTransactionId lxid = MyProc->lxid;

	/* Answer from the cache while the transaction, role and tenant agree. */
	if (lxid == tenant_cache_lxid && roleid == tenant_cache_user &&
		strcmp(tenant, tenant_cache_name) == 0)
		return tenant;

	if (!tenant_allowed(tenant, roleid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for tenant \"%s\"", tenant),
				 errdetail("Role \"%s\" has no grant for this tenant in stellapolicy.tenant_access.",
						   GetUserNameFromId(roleid, false)),
				 errhint("Ask an administrator to run stellapolicy.tenant_grant(), or set stellapolicy.tenant to a tenant you are granted.")));

	tenant_cache_lxid = lxid;
	tenant_cache_user = roleid;
	strlcpy(tenant_cache_name, tenant, sizeof(tenant_cache_name));
	return tenant;
}

/*
 * SQL: stellapolicy.current_tenant() RETURNS text
 */
Datum
stellapolicy_current_tenant(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(sp_current_tenant()));
}

/*
 * Trigger on tenant_access: forget the cached answer, so that a grant or
 * revoke applies at once in this backend (others re-check at their next
 * transaction).
 */
Datum
stellapolicy_tenant_cache_reset(PG_FUNCTION_ARGS)
{
	tenant_cache_lxid = InvalidLocalTransactionId;
	tenant_cache_name[0] = '\0';
	return PointerGetDatum(NULL);
}

/*
 * SQL: stellapolicy.acting_role() RETURNS name
 *
 * The role on whose behalf the statement runs: inside a SECURITY DEFINER
 * function, its caller (as SET ROLE left it), not the function's owner.
 * Audit columns (imported_by, actor, ...) record this role.
 */
Datum
stellapolicy_acting_role(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(DirectFunctionCall1(namein,
										CStringGetDatum(GetUserNameFromId(GetOuterUserId(), false))));
}
