/*-------------------------------------------------------------------------
 *
 * stellapolicy.h
 *	  Settings and shared declarations of the SQL-facing part of stellapolicy.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STELLAPOLICY_H
#define STELLAPOLICY_H

/* SP_VERSION comes from the control file, through the Makefile. */
#define SP_ENGINE_VERSION	"stellapolicy/" SP_VERSION

/* GUC variables (see stellapolicy.c for their meaning). */
extern char *sp_tenant_setting;
extern int	sp_max_document_size_kb;
extern int	sp_batch_size;
extern bool sp_sealed;
extern char *sp_run_id_setting;

/*
 * The tenant the current role acts for: stellapolicy.tenant, after checking
 * tenant_access.  Throws insufficient_privilege when the role may not use it.
 */
extern const char *sp_current_tenant(void);

#endif							/* STELLAPOLICY_H */
