/*
 * test_redact: database URLs and connection strings as they may be logged:
 * the password in the user-info, in a query parameter, in a keyword/value
 * string (bare or quoted) is replaced by "***", nothing else changes; and a
 * library message that quotes the password, as written or decoded, is
 * scrubbed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/redact.h"

static void url_is(const char *in, const char *want)
{
	char out[512];
	size_t n = redact_url(in, out, sizeof(out));
	if (strcmp(out, want) != 0)
		fail_msg("redact_url(%s) = %s, want %s", in, out, want);
	assert_int_equal(n, strlen(want));
}

static void test_url(void **state)
{
	(void)state;
	url_is("postgres://user:pw@db.example.com:5432/gancho",
	       "postgres://user:***@db.example.com:5432/gancho");
	url_is("postgresql://u:s3cr%40t@h/db?sslmode=require",
	       "postgresql://u:***@h/db?sslmode=require");
	url_is("postgres://u@h/db", "postgres://u@h/db");
	url_is("postgres://h/db", "postgres://h/db");
	url_is("postgres://u:@h/db", "postgres://u:***@h/db");
	url_is("postgres://u:p@ss@h/db", "postgres://u:***@h/db"); /* up to the last @ */
	url_is("postgres://h/db?user=u&password=pw&sslmode=require",
	       "postgres://h/db?user=u&password=***&sslmode=require");
	url_is("postgres://h/db?PASSWORD=pw", "postgres://h/db?PASSWORD=***");
	url_is("postgres://h/db?sslpassword=k&password=p",
	       "postgres://h/db?sslpassword=***&password=***");
	url_is("postgres://a:b@h/db?password=c", "postgres://a:***@h/db?password=***");
	url_is("postgres://h/db?passwordless=1", "postgres://h/db?passwordless=1");
	url_is("postgres://h/path@x", "postgres://h/path@x"); /* '@' past the authority */
	url_is("sqlite:./gancho.db", "sqlite:./gancho.db");
	url_is("sqlite:/tmp/a=b/x.db", "sqlite:/tmp/a=b/x.db");
	url_is("http://user:tok@127.0.0.1:8080", "http://user:***@127.0.0.1:8080");
	url_is("", "");
	url_is(NULL, "");
}

static void test_keyword(void **state)
{
	(void)state;
	url_is("host=h password=pw dbname=g", "host=h password=*** dbname=g");
	url_is("host=h password = pw dbname=g", "host=h password = *** dbname=g");
	url_is("password='a b\\' c' host=h", "password=*** host=h");
	url_is("host=h sslpassword=k", "host=h sslpassword=***");
	url_is("host=h user=password", "host=h user=password");
	url_is("host=h password=", "host=h password=");
	url_is("password=x://y@z host=h", "password=*** host=h");
}

static void test_truncate(void **state)
{
	(void)state;
	char out[16];
	size_t n = redact_url("postgres://u:longpassword@host/db", out, sizeof(out));
	assert_int_equal(n, 15);
	assert_string_equal(out, "postgres://u:**");
	assert_null(strstr(out, "long"));
	assert_int_equal(redact_url("x", out, 1), 0);
	assert_string_equal(out, "");
}

static void scrub_is(const char *msg, const char *url, const char *want)
{
	char out[512];
	redact_scrub(msg, url, out, sizeof(out));
	if (strcmp(out, want) != 0)
		fail_msg("redact_scrub(%s, %s) = %s, want %s", msg, url, out, want);
}

static void test_scrub(void **state)
{
	(void)state;
	scrub_is("invalid percent-encoded token: \"s3cr%zzt\"", "postgres://u:s3cr%zzt@h/db",
	         "invalid percent-encoded token: \"***\"");
	scrub_is("password authentication failed for user \"u\"", "postgres://u:hunter2@h/db",
	         "password authentication failed for user \"u\"");
	scrub_is("echo s3cr@t and s3cr%40t", "postgres://u:s3cr%40t@h/db", "echo *** and ***");
	scrub_is("missing \"=\" after \"a b c\"", "password='a b c' host=h",
	         "missing \"=\" after \"***\"");
	scrub_is("nothing to hide", "sqlite:./x.db", "nothing to hide");
	scrub_is("pw is q", "postgres://h/db?password=q", "pw is ***");
	scrub_is("x", NULL, "x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url),
	    cmocka_unit_test(test_keyword),
	    cmocka_unit_test(test_truncate),
	    cmocka_unit_test(test_scrub),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
