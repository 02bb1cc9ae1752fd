/*-------------------------------------------------------------------------
 *
 * stellapolicy.h
 *	  Settings and shared declarations of the SQL-facing part of stellapolicy.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STELLAPOLICY_H
#define STELLAPOLICY_H

#define SP_ENGINE_VERSION	"stellapolicy/0.1.0"

/* GUC variables (see stellapolicy.c for their meaning). */
extern char *sp_tenant_setting;
extern int	sp_max_document_size_kb;

/*
 * The tenant the current role acts for: stellapolicy.tenant, after checking
 * tenant_access.  Throws insufficient_privilege when the role may not use it.
 */
extern const char *sp_current_tenant(void);

#endif							/* STELLAPOLICY_H */
