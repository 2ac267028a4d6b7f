/*
 * test_urlcheck: which webhook URLs gancho will send to. Public https URLs
 * pass; http only with allow_http; private, loopback and link-local literal
 * addresses and local names only with allow_private; malformed URLs (user
 * info, fragments, odd IPv4 spellings, bad ports) never. Also the
 * connect-time check on resolved socket addresses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "core/urlcheck.h"

/* Flags: may pass with allow_http (H) and/or allow_private (P). */
enum { NEVER = 0, H = 1, P = 2, HP = 4 /* needs both */, ALWAYS = 8 };

struct ucase {
	const char *url;
	int ok;
	const char *why; /* substring of the message when refused by default */
};

static const struct ucase cases[] = {
    {"https://example.com/hook", ALWAYS, NULL},
    {"https://hooks.example.com:8443/a?b=c", ALWAYS, NULL},
    {"https://example.com", ALWAYS, NULL},
    {"https://example.com?x=1", ALWAYS, NULL},
    {"https://example.com:443", ALWAYS, NULL},
    {"https://example.com:1/", ALWAYS, NULL},
    {"https://example.com:65535/", ALWAYS, NULL},
    {"HTTPS://Example.COM/Hook", ALWAYS, NULL},
    {"https://example.com./x", ALWAYS, NULL},
    {"https://urldo.agenteintegrador.net", ALWAYS, NULL},
    {"https://my_host.example.com/", ALWAYS, NULL},
    {"https://a.b.c.d.example.com/p/a/t/h?q=%20x&y=%C3%A7", ALWAYS, NULL},
    {"https://8.8.8.8/", ALWAYS, NULL},
    {"https://1.1.1.1:8443/x", ALWAYS, NULL},
    {"https://[2a00:1450:4001::200e]/", ALWAYS, NULL},
    {"https://[2002:808:808::1]/", ALWAYS, NULL},
    {"https://[64:ff9b::8.8.8.8]/", ALWAYS, NULL},
    {"https://[::ffff:0:808:808]/", ALWAYS, NULL},
    {"https://[2606:4700::1111]:8443/x", ALWAYS, NULL},
    {"https://[::ffff:8.8.8.8]/", ALWAYS, NULL},
    {"https://0x7f.example.com/", ALWAYS, NULL}, /* hex-looking label in a name */
    {"https://123.example.com/", ALWAYS, NULL},
    {"https://localhost.example.com/", ALWAYS, NULL},
    {"https://172.32.0.1/", ALWAYS, NULL},
    {"https://100.128.0.1/", ALWAYS, NULL},
    {"https://192.0.1.1/", ALWAYS, NULL},
    {"https://198.20.0.1/", ALWAYS, NULL},
    {"https://223.255.255.255/", ALWAYS, NULL},
    {"https://11.0.0.1/", ALWAYS, NULL},

    {"http://example.com/hook", H, "must be an https:// URL"},
    {"HTTP://example.com/", H, "must be an https:// URL"},
    {"http://127.0.0.1:8080/hook", HP, "must be an https:// URL"},

    {"https://127.0.0.1/", P, "private or loopback address not allowed"},
    {"https://127.255.255.254:9/", P, "private or loopback"},
    {"https://[::1]/", P, "private or loopback"},
    {"https://[::]/", P, "private or loopback"},
    {"https://10.0.0.5/", P, "private or loopback"},
    {"https://169.254.169.254/latest", P, "private or loopback"},
    {"https://localhost/", P, "private or loopback"},
    {"https://LOCALHOST:8443/", P, "private or loopback"},
    {"https://localhost./", P, "private or loopback"},
    {"https://api.localhost/", P, "private or loopback"},
    {"https://printer.local/", P, "private or loopback"},
    {"https://metadata.google.internal/", P, "private or loopback"},
    {"https://0.0.0.0/", P, "private or loopback"},
    {"https://0.1.2.3/", P, "private or loopback"},
    {"https://100.64.0.1/", P, "private or loopback"},
    {"https://100.127.255.255/", P, "private or loopback"},
    {"https://172.16.0.1/", P, "private or loopback"},
    {"https://172.31.255.255/", P, "private or loopback"},
    {"https://192.0.0.8/", P, "private or loopback"},
    {"https://192.168.1.1/", P, "private or loopback"},
    {"https://198.18.0.1/", P, "private or loopback"},
    {"https://198.19.255.255/", P, "private or loopback"},
    {"https://224.0.0.1/", P, "private or loopback"},
    {"https://240.0.0.1/", P, "private or loopback"},
    {"https://255.255.255.255/", P, "private or loopback"},
    {"https://127.0.0.1./", P, "private or loopback"},
    {"https://[fc00::1]/", P, "private or loopback"},
    {"https://[fdff:ffff::1]/", P, "private or loopback"},
    {"https://[fe80::1]/", P, "private or loopback"},
    {"https://[febf::1]/", P, "private or loopback"},
    {"https://[ff02::1]/", P, "private or loopback"},
    {"https://[::ffff:127.0.0.1]/", P, "private or loopback"},
    {"https://[::ffff:7f00:1]/", P, "private or loopback"},
    {"https://[::ffff:10.1.2.3]:8443/", P, "private or loopback"},
    {"https://[::ffff:169.254.169.254]/", P, "private or loopback"},
    {"https://[::127.0.0.1]/", P, "private or loopback"},
    {"https://[64:ff9b::a9fe:a9fe]/", P, "private or loopback"},
    /* IPv6 special-purpose blocks and IPv4 carried inside IPv6 */
    {"https://[64:ff9b:1::7f00:1]/", P, "private or loopback"},
    {"https://[64:ff9b:1::808:808]/", P, "private or loopback"},
    {"https://[2002:7f00:1::]/", P, "private or loopback"},
    {"https://[2002:a9fe:a9fe::1]/", P, "private or loopback"},
    {"https://[::ffff:0:7f00:1]/", P, "private or loopback"},
    {"https://[::ffff:0:a00:1]/", P, "private or loopback"},
    {"https://[2001::7f00:1]/", P, "private or loopback"},
    {"https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", P, "private or loopback"},
    {"https://[2001:2::1]/", P, "private or loopback"},
    {"https://[2001:1ff::1]/", P, "private or loopback"},
    {"https://[100::1]/", P, "private or loopback"},
    {"https://[2001:db8::1]/", P, "private or loopback"},
    {"https://[3fff::1]/", P, "private or loopback"},
    {"https://[3fff:fff::1]/", P, "private or loopback"},
    {"https://[5f00::1]/", P, "private or loopback"},
    {"https://[fec0::1]/", P, "private or loopback"},
    {"https://[::8.8.8.8]/", P, "private or loopback"},
    {"https://[4000::1]/", P, "private or loopback"},
    {"https://[1::1]/", P, "private or loopback"},
    /* IPv4 special-purpose blocks */
    {"https://192.0.2.1/", P, "private or loopback"},
    {"https://192.31.196.1/", P, "private or loopback"},
    {"https://192.52.193.1/", P, "private or loopback"},
    {"https://192.88.99.1/", P, "private or loopback"},
    {"https://192.175.48.1/", P, "private or loopback"},
    {"https://198.51.100.7/", P, "private or loopback"},
    {"https://203.0.113.9/", P, "private or loopback"},

    {"ftp://example.com/", NEVER, "must be an https:// URL"},
    {"file:///etc/passwd", NEVER, "must be an https:// URL"},
    {"gopher://example.com/", NEVER, "must be an https:// URL"},
    {"example.com/hook", NEVER, "must be an https:// URL"},
    {"//example.com/hook", NEVER, "must be an https:// URL"},
    {"https:example.com", NEVER, "must be an https:// URL"},
    {"https:/example.com", NEVER, "must be an https:// URL"},
    {"https//example.com", NEVER, "must be an https:// URL"},
    {"", NEVER, "must be an https:// URL"},
    {"https://user:pw@example.com/", NEVER, "user-info"},
    {"https://user@example.com/", NEVER, "user-info"},
    {"https://@example.com/", NEVER, "user-info"},
    {"https://example.com@127.0.0.1/", NEVER, "user-info"},
    {"https://2130706433/", NEVER, "malformed IPv4"},
    {"http://2130706433/", NEVER, "must be an https:// URL"},
    {"http://0x7f.1/", NEVER, "must be an https:// URL"},
    {"http://017700000001/", NEVER, "must be an https:// URL"},
    {"http://127.1/", NEVER, "must be an https:// URL"},
    {"http://0x7f.0.0.1/", NEVER, "must be an https:// URL"},
    {"http://127.0.0.1.1/", NEVER, "must be an https:// URL"},
    {"http://0/", NEVER, "must be an https:// URL"},
    {"https://0x7f.1/", NEVER, "malformed IPv4"},
    {"https://0x7f000001/", NEVER, "malformed IPv4"},
    {"https://127.1/", NEVER, "malformed IPv4"},
    {"https://127.0.1/", NEVER, "malformed IPv4"},
    {"https://0177.0.0.1/", NEVER, "malformed IPv4"},
    {"https://127.000.000.001/", NEVER, "malformed IPv4"},
    {"https://010.0.0.1/", NEVER, "malformed IPv4"},
    {"https://1.2.3.4.5/", NEVER, "malformed IPv4"},
    {"https://256.1.1.1/", NEVER, "malformed IPv4"},
    {"https://1.2.3.1000/", NEVER, "malformed IPv4"},
    {"https://0x/", NEVER, "malformed IPv4"},
    {"https://8.8.8.0x8/", NEVER, "malformed IPv4"},
    {"https://example.123/", NEVER, "malformed host"},
    {"https://example.0x7f/", NEVER, "malformed host"},
    {"https://a..b/", NEVER, "malformed host"},
    {"https://.example.com/", NEVER, "malformed host"},
    {"https://example.com../", NEVER, "malformed host"},
    {"https://./", NEVER, "malformed host"},
    {"https://ex%61mple.com/", NEVER, "invalid character in host"},
    {"https://exa!mple.com/", NEVER, "invalid character in host"},
    {"https:///path", NEVER, "missing host"},
    {"https://", NEVER, "missing host"},
    {"https://:443/", NEVER, "missing host"},
    {"https://?x", NEVER, "missing host"},
    {"https://example.com:/", NEVER, "invalid port"},
    {"https://example.com:0/", NEVER, "invalid port"},
    {"https://example.com:65536/", NEVER, "invalid port"},
    {"https://example.com:123456/", NEVER, "invalid port"},
    {"https://example.com:8a/", NEVER, "invalid port"},
    {"https://example.com:-1/", NEVER, "invalid port"},
    {"https://example.com:80:80/", NEVER, "invalid port"},
    {"https://example.com/a#frag", NEVER, "fragments"},
    {"https://example.com#", NEVER, "fragments"},
    {"https://example.com/a b", NEVER, "spaces or control"},
    {"https://exa mple.com/", NEVER, "spaces or control"},
    {" https://example.com/", NEVER, "spaces or control"},
    {"https://example.com/\r\nHost: x", NEVER, "spaces or control"},
    {"https://example.com/\t", NEVER, "spaces or control"},
    {"https://example.com/\x7f", NEVER, "spaces or control"},
    {"https://example.com\\@127.0.0.1/", NEVER, "backslashes"},
    {"https://example.com/a\\b", NEVER, "backslashes"},
    {"https://exámple.com/", NEVER, "ASCII"},
    {"https://example.com/%zz", NEVER, "percent-encoding"},
    {"https://example.com/%4", NEVER, "percent-encoding"},
    {"https://[::1/", NEVER, "malformed IPv6"},
    {"https://[]/", NEVER, "malformed IPv6"},
    {"https://[1:2:3]/", NEVER, "malformed IPv6"},
    {"https://[fe80::1%25eth0]/", NEVER, "malformed IPv6"},
    {"https://[127.0.0.1]/", NEVER, "malformed IPv6"},
    {"https://[::1]x/", NEVER, "malformed host"},
    {"https://[2606:4700::1]:0/", NEVER, "invalid port"},
    {"https://::1/", NEVER, "missing host"},
};

static void check(const struct ucase *c, bool allow_http, bool allow_private)
{
	bool want;
	if (c->ok & ALWAYS)
		want = true;
	else if (c->ok & HP)
		want = allow_http && allow_private;
	else if (c->ok & H)
		want = allow_http;
	else if (c->ok & P)
		want = allow_private;
	else
		want = false;

	struct gerr err = {0};
	int rc = urlcheck_target(c->url, allow_http, allow_private, &err);
	if (want && rc != 0)
		fail_msg("%s (http=%d private=%d) refused: %s", c->url, allow_http, allow_private,
		         err.msg);
	if (!want && rc != GERR_INVALID)
		fail_msg("%s (http=%d private=%d) accepted", c->url, allow_http, allow_private);
	if (!want) {
		assert_int_equal(err.status, 400);
		assert_string_equal(err.code, "invalid_field");
		assert_memory_equal(err.msg, "postbackUrl: ", 13);
		if (!allow_http && !allow_private && !strstr(err.msg, c->why))
			fail_msg("%s: message \"%s\" lacks \"%s\"", c->url, err.msg, c->why);
	}
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		check(&cases[i], false, false);
		check(&cases[i], true, false);
		check(&cases[i], false, true);
		check(&cases[i], true, true);
	}
}

static void test_messages(void **state)
{
	(void)state;
	struct gerr err = {0};

	assert_int_equal(urlcheck_target("http://example.com/", false, false, &err), GERR_INVALID);
	assert_string_equal(err.msg, "postbackUrl: must be an https:// URL");
	assert_int_equal(urlcheck_target("ftp://example.com/", true, false, &err), GERR_INVALID);
	assert_string_equal(err.msg, "postbackUrl: must be an http:// or https:// URL");
	assert_int_equal(urlcheck_target("https://127.0.0.1/", false, false, &err), GERR_INVALID);
	assert_string_equal(err.msg, "postbackUrl: private or loopback address not allowed");
	assert_int_equal(urlcheck_target(NULL, false, false, &err), GERR_INVALID);
	/* err may be NULL. */
	assert_int_equal(urlcheck_target("https://10.0.0.1/", false, false, NULL), GERR_INVALID);
}

static void test_length(void **state)
{
	(void)state;
	char url[2100];
	const char *pre = "https://example.com/";
	size_t pl = strlen(pre);

	memcpy(url, pre, pl);
	memset(url + pl, 'a', 2048 - pl);
	url[2048] = '\0';
	assert_int_equal(urlcheck_target(url, false, false, NULL), 0);
	url[2048] = 'a';
	url[2049] = '\0';
	struct gerr err = {0};
	assert_int_equal(urlcheck_target(url, false, false, &err), GERR_INVALID);
	assert_non_null(strstr(err.msg, "too long"));

	/* A 64-character label is too long for DNS. */
	char host[128];
	snprintf(host, sizeof(host), "https://%.*s.com/", 64,
	         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(urlcheck_target(host, false, false, NULL), GERR_INVALID);
	snprintf(host, sizeof(host), "https://%.*s.com/", 63,
	         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(urlcheck_target(host, false, false, NULL), 0);
}

static bool v4_allowed(const char *ip)
{
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(443);
	assert_int_equal(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	return urlcheck_addr_allowed((const struct sockaddr *)&sin);
}

static bool v6_allowed(const char *ip)
{
	struct sockaddr_in6 sin6;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(443);
	assert_int_equal(inet_pton(AF_INET6, ip, &sin6.sin6_addr), 1);
	return urlcheck_addr_allowed((const struct sockaddr *)&sin6);
}

static void test_addr_allowed(void **state)
{
	(void)state;
	static const char *const v4_ok[] = {
	    "8.8.8.8",         "1.1.1.1",         "9.255.255.255",   "11.0.0.0",
	    "100.63.255.255",  "100.128.0.0",     "126.255.255.255", "128.0.0.0",
	    "169.253.255.255", "169.255.0.0",     "172.15.255.255",  "172.32.0.0",
	    "192.0.1.0",       "192.167.255.255", "192.169.0.0",     "198.17.255.255",
	    "198.20.0.0",      "223.255.255.255", "192.0.3.0",       "192.0.1.255",
	    "198.51.99.255",   "198.51.101.0",    "203.0.112.255",   "203.0.114.0"};
	static const char *const v4_bad[] = {
	    "0.0.0.0",      "0.255.255.255",   "10.0.0.0",    "10.255.255.255",
	    "100.64.0.0",   "100.127.255.255", "127.0.0.1",   "127.255.255.255",
	    "169.254.0.0",  "169.254.169.254", "172.16.0.0",  "172.31.255.255",
	    "192.0.0.0",    "192.0.0.255",     "192.168.0.0", "192.168.255.255",
	    "198.18.0.0",   "198.19.255.255",  "224.0.0.0",   "239.255.255.255",
	    "240.0.0.1",    "255.255.255.255", "192.0.2.0",   "192.0.2.255",
	    "192.31.196.1", "192.52.193.1",    "192.88.99.1", "192.175.48.1",
	    "198.51.100.0", "198.51.100.255",  "203.0.113.0", "203.0.113.255"};
	static const char *const v6_ok[] = {"2606:4700::1111",  "2a00:1450:4001::200e",
	                                    "::ffff:8.8.8.8",   "::ffff:0:8.8.8.8",
	                                    "64:ff9b::808:808", "2002:808:808::1",
	                                    "2001:200::1",      "3fff:1000::1",
	                                    "2000::1",          "3ffe::1"};
	static const char *const v6_bad[] = {"::",
	                                     "::1",
	                                     "fc00::",
	                                     "fdff:ffff:ffff::1",
	                                     "fe80::1",
	                                     "febf:ffff::1",
	                                     "fec0::1",
	                                     "ff00::",
	                                     "ff02::1",
	                                     "::ffff:127.0.0.1",
	                                     "::ffff:10.0.0.1",
	                                     "::ffff:169.254.169.254",
	                                     "::ffff:0.0.0.0",
	                                     "::ffff:255.255.255.255",
	                                     "::127.0.0.1",
	                                     "::8.8.8.8",
	                                     "64:ff9b::7f00:1",
	                                     "64:ff9b::a9fe:a9fe",
	                                     "64:ff9b:1::7f00:1",
	                                     "64:ff9b:1::808:808",
	                                     "2002:7f00:1::",
	                                     "2002:a00:1::1",
	                                     "::ffff:0:7f00:1",
	                                     "::ffff:0:c0a8:101",
	                                     "2001::7f00:1",
	                                     "2001:0:4136:e378:8000:63bf:3fff:fdd2",
	                                     "2001:1ff:ffff::1",
	                                     "2001:db8::1",
	                                     "3fff::1",
	                                     "3fff:fff:ffff::1",
	                                     "100::1",
	                                     "100::ffff:ffff:ffff:ffff",
	                                     "5f00::1",
	                                     "fbff::1",
	                                     "fe7f::1",
	                                     "4000::1",
	                                     "1::1",
	                                     "8000::1"};

	for (size_t i = 0; i < sizeof(v4_ok) / sizeof(v4_ok[0]); i++)
		if (!v4_allowed(v4_ok[i]))
			fail_msg("refused %s", v4_ok[i]);
	for (size_t i = 0; i < sizeof(v4_bad) / sizeof(v4_bad[0]); i++)
		if (v4_allowed(v4_bad[i]))
			fail_msg("allowed %s", v4_bad[i]);
	for (size_t i = 0; i < sizeof(v6_ok) / sizeof(v6_ok[0]); i++)
		if (!v6_allowed(v6_ok[i]))
			fail_msg("refused %s", v6_ok[i]);
	for (size_t i = 0; i < sizeof(v6_bad) / sizeof(v6_bad[0]); i++)
		if (v6_allowed(v6_bad[i]))
			fail_msg("allowed %s", v6_bad[i]);

	struct sockaddr sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNIX;
	assert_false(urlcheck_addr_allowed(&sa));
	assert_false(urlcheck_addr_allowed(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_messages),
	    cmocka_unit_test(test_length),
	    cmocka_unit_test(test_addr_allowed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
