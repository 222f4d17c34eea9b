/* SPDX-License-Identifier: MIT */
/* The [system] checks (config-system.c) and the partial load the SD-card
 * image applies [system] from when other sections have errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fg-test.h"

#include "config/config.h"
#include "config/config-options.h"

#define KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@pc"

static bool ok(const char *(*v)(const char *, char *, size_t), const char *value)
{
	char msg[256];

	return v(value, msg, sizeof(msg)) == NULL;
}

/* The table matches tzdata's list of ISO 3166-1 codes, both ways. */
static void test_country_codes(void **state)
{
	FILE *f = fopen("/usr/share/zoneinfo/iso3166.tab", "r");
	char line[256];
	unsigned n = 0;

	assert_non_null(f);	/* tzdata is a build dependency */
	while (fgets(line, sizeof(line), f)) {
		char cc[3] = { line[0], line[1], 0 };

		if (line[0] == '#')
			continue;
		assert_true(fg_config_is_country_code(cc));
		n++;
	}
	fclose(f);
	assert_int_equal(n, 249);
	for (char a = 'A'; a <= 'Z'; a++)
		for (char b = 'A'; b <= 'Z'; b++) {
			char cc[3] = { a, b, 0 };
			bool listed = false;

			f = fopen("/usr/share/zoneinfo/iso3166.tab", "r");
			assert_non_null(f);
			while (!listed && fgets(line, sizeof(line), f))
				listed = line[0] == a && line[1] == b;
			fclose(f);
			assert_int_equal(fg_config_is_country_code(cc), listed);
		}
	assert_true(ok(fg_config_validate_country, "se"));
	assert_false(ok(fg_config_validate_country, "Sweden"));
	assert_false(ok(fg_config_validate_country, "XX"));
	assert_false(ok(fg_config_validate_country, "S"));
}

static void test_values(void **state)
{
	assert_true(ok(fg_config_validate_timezone, "Europe/Stockholm"));
	assert_true(ok(fg_config_validate_timezone, "America/Argentina/Buenos_Aires"));
	assert_true(ok(fg_config_validate_timezone, "Etc/GMT+1"));
	assert_false(ok(fg_config_validate_timezone, "../../etc/shadow"));
	assert_false(ok(fg_config_validate_timezone, "/etc/localtime"));
	assert_false(ok(fg_config_validate_timezone, "Europe//Stockholm"));
	assert_false(ok(fg_config_validate_timezone, "Central European Time"));

	assert_true(ok(fg_config_validate_passphrase, "12345678"));
	assert_false(ok(fg_config_validate_passphrase, "1234567"));
	assert_true(ok(fg_config_validate_passphrase,
		       "123456789012345678901234567890123456789012345678901234567890123"));
	assert_false(ok(fg_config_validate_passphrase,
			"1234567890123456789012345678901234567890123456789012345678901234"));
	assert_false(ok(fg_config_validate_passphrase, "lösenord123"));

	assert_true(ok(fg_config_validate_ssh_key, KEY));
	assert_true(ok(fg_config_validate_ssh_key, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"));
	/* cut, another type's blob, a fingerprint, a private key line */
	assert_false(ok(fg_config_validate_ssh_key, "ssh-ed25519 AAAAC3NzaC1lZDI1"));
	assert_false(ok(fg_config_validate_ssh_key, "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl x"));
	assert_false(ok(fg_config_validate_ssh_key, "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"));
	assert_false(ok(fg_config_validate_ssh_key, "-----BEGIN OPENSSH PRIVATE KEY-----"));

	assert_true(ok(fg_config_validate_password_hash, "$6$salt$abcdef./"));
	assert_true(ok(fg_config_validate_password_hash, "$y$j9T$abc$def"));
	assert_false(ok(fg_config_validate_password_hash, "hunter2"));
	assert_true(ok(fg_config_validate_password, "Secret #1 pass"));
	assert_false(ok(fg_config_validate_password, "short"));

	assert_true(ok(fg_config_validate_hostname, "ward3-gw"));
	assert_false(ok(fg_config_validate_hostname, "a;reboot"));
	assert_false(ok(fg_config_validate_hostname, "-x"));
}

/*
 * The four values of a file written the way people write them: each is
 * refused where it is, in the same pass as the typo elsewhere; the partial
 * load still gives every valid [system] value and none of the refused.
 */
static void test_partial(void **state)
{
	static const char text[] =
		"[webhook w]\nurl = https://example.org/x\n"
		"[button reception]\nadress = 80:E4:DA:70:12:34\n"
		"[system]\nhostname = gw1\n"
		"wifi_country = Sweden\nwifi_ssid = Ward\nwifi_passphrase = 1234567\n"
		"ssh_authorized_key = " KEY "\n"
		"admin_password = \"Secret #1 pass\" # quoted: the '#' is kept\n";
	struct fg_config_errors e = {};
	struct fg_config *c = NULL;

	assert_int_equal(fg_config_parse("t.ini", text, strlen(text), &e, &c), -EINVAL);
	assert_null(c);
	fg_config_errors_clear(&e);

	assert_int_equal(fg_config_parse_partial("t.ini", text, strlen(text), &e, &c), -EINVAL);
	assert_non_null(c);
	assert_int_equal(e.n, 4);	/* adress, wifi_country, wifi_passphrase, and reception's address/serial */
	assert_non_null(strstr(e.messages[0], "t.ini:3: [button reception]: give its address"));
	assert_non_null(strstr(e.messages[1], "t.ini:4: button.adress: unknown key"));
	assert_non_null(strstr(e.messages[2], "t.ini:7: system.wifi_country: 'Sweden'"));
	assert_non_null(strstr(e.messages[3], "t.ini:9: system.wifi_passphrase: must be 8 to 63"));
	assert_string_equal(c->system.hostname, "gw1");
	assert_string_equal(c->system.wifi_ssid, "Ward");
	assert_null(c->system.wifi_country);
	assert_null(c->system.wifi_passphrase);
	assert_string_equal(c->system.ssh_authorized_key, KEY);
	/* the value rule: quotes protect the " #" and go */
	assert_string_equal(c->system.admin_password, "Secret #1 pass");
	fg_config_unref(c);
	fg_config_errors_clear(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FG_TEST("/config/system/country-codes-are-tzdata-iso3166", test_country_codes),
		FG_TEST("/config/system/values", test_values),
		FG_TEST("/config/system/partial-load-keeps-valid-system", test_partial),
	};

	return cmocka_run_group_tests_name("config-system", tests, NULL, NULL);
}
