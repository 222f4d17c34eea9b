/* SPDX-License-Identifier: MIT */
/* Secrets made safe to print: webhook URLs and keys shown with their secret part masked. */
#include <stdio.h>
#include <string.h>

#include "lib/mask.h"

const char *fg_mask_secret(const char *secret, char *buf, size_t size)
{
	size_t n;

	if (!secret || !*secret) {
		snprintf(buf, size, "(unset)");
		return buf;
	}
	n = strlen(secret);
	/* two characters tell keys apart in a log without helping a guess */
	if (n <= 8)
		snprintf(buf, size, "…(%zu chars)", n);
	else
		snprintf(buf, size, "%.2s…(%zu chars)", secret, n);
	return buf;
}

const char *fg_mask_url(const char *url, char *buf, size_t size)
{
	const char *scheme_end, *host, *host_end, *at;
	size_t scheme_len, host_len;

	if (!url || !*url)
		return fg_mask_secret(url, buf, size);
	scheme_end = strstr(url, "://");
	if (!scheme_end)
		return fg_mask_secret(url, buf, size);
	scheme_len = (size_t)(scheme_end - url);
	host = scheme_end + 3;
	host_end = host + strcspn(host, "/?#");
	/* user:password@ is a secret too */
	at = memchr(host, '@', (size_t)(host_end - host));
	if (at)
		host = at + 1;
	host_len = (size_t)(host_end - host);
	if (*host_end == '\0')
		snprintf(buf, size, "%.*s://%s%.*s", (int)scheme_len, url,
			 at ? "…@" : "", (int)host_len, host);
	else
		snprintf(buf, size, "%.*s://%s%.*s/…(redacted)", (int)scheme_len,
			 url, at ? "…@" : "", (int)host_len, host);
	return buf;
}

const char *fg_mask_header(const char *header, char *buf, size_t size)
{
	const char *colon;

	if (!header)
		return fg_mask_secret(header, buf, size);
	colon = strchr(header, ':');
	if (!colon)
		return fg_mask_secret(header, buf, size);
	snprintf(buf, size, "%.*s: …(redacted)", (int)(colon - header), header);
	return buf;
}
