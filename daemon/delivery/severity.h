/* How urgent an alert is, for the targets that know severities (PagerDuty's
 * critical/error/warning/info). Set per button in the config. */
#pragma once

enum fg_severity {
	FG_SEVERITY_CRITICAL,
	FG_SEVERITY_ERROR,
	FG_SEVERITY_WARNING,
	FG_SEVERITY_INFO,
	_FG_SEVERITY_MAX,
};

/* The words, indexed by the enum, NULL-terminated (the config's choice list). */
extern const char *const fg_severity_names[_FG_SEVERITY_MAX + 1];

/* NULL for a value out of range; -EINVAL for an unknown word. */
const char *fg_severity_to_string(enum fg_severity s);
int fg_severity_from_string(const char *s);
