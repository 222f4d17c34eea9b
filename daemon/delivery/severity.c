/* Alert severities and their names (see severity.h). */
#include <errno.h>

#include "delivery/severity.h"
#include "lib/macro.h"

const char *const fg_severity_names[_FG_SEVERITY_MAX + 1] = {
	[FG_SEVERITY_CRITICAL] = "critical", [FG_SEVERITY_ERROR] = "error",
	[FG_SEVERITY_WARNING] = "warning", [FG_SEVERITY_INFO] = "info", NULL,
};

FG_DEFINE_STRING_TABLE(, fg_severity, enum fg_severity, fg_severity_names)
