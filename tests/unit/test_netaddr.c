/*
 * test_netaddr: addresses and CIDRs as a source's allowIps and the server's
 * --trusted-proxy read them: the one accepted spelling of each address and
 * every refusal (odd IPv4 forms, bad prefixes, host bits, spaces, NUL), the
 * IPv4-mapped normalisation, IPv4/IPv6 matching, the "gupy" preset against
 * the addresses Gupy publishes, the JSON list errors naming the element, and
 * the client address of a request through 0, 1 and 2 trusted proxies:
 * X-Forwarded-For ignored from an untrusted peer, refused when malformed
 * from a trusted one, and read no further than needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "core/netaddr.h"

/* addr: parse s (which must parse) and return it. */
static struct netaddr addr(const char *s)
{
	struct netaddr a;
	if (netaddr_parse(s, strlen(s), &a) != 0)
		fail_msg("\"%s\" refused", s);
	return a;
}

static void assert_formats(const char *in, const char *want)
{
	char out[NETADDR_STRLEN];
	struct netaddr a = addr(in);
	netaddr_format(&a, out);
	if (strcmp(out, want) != 0)
		fail_msg("\"%s\" formats as \"%s\", not \"%s\"", in, out, want);
}

static void test_parse_accepts(void **state)
{
	(void)state;
	assert_formats("0.0.0.0", "0.0.0.0");
	assert_formats("255.255.255.255", "255.255.255.255");
	assert_formats("203.0.113.7", "203.0.113.7");
	assert_formats("10.0.0.1", "10.0.0.1");
	assert_formats("1.20.100.0", "1.20.100.0");
	assert_formats("::", "::");
	assert_formats("::1", "::1");
	assert_formats("2001:DB8::1", "2001:db8::1");
	assert_formats("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1");
	assert_formats("[2001:db8::1]", "2001:db8::1");
	assert_formats("fe80::1:2:3:4", "fe80::1:2:3:4");
	/* Mapped addresses are IPv4, bracketed or not, in any spelling. */
	assert_formats("::ffff:203.0.113.7", "203.0.113.7");
	assert_formats("::FFFF:cb00:7107", "203.0.113.7");
	assert_formats("[::ffff:203.0.113.7]", "203.0.113.7");
	assert_formats("0:0:0:0:0:ffff:1.2.3.4", "1.2.3.4");
	/* Not mapped: IPv4-compatible, NAT64, ffff elsewhere. */
	assert_formats("::1.2.3.4", "::102:304");
	assert_formats("64:ff9b::1.2.3.4", "64:ff9b::102:304");
	assert_formats("::ffff:0:1.2.3.4", "::ffff:0:102:304");
	/* RFC 5952: longest zero run (the first of equals), not a single zero
	 * group, no leading zeros, lowercase. */
	assert_formats("1:0:0:1:0:0:0:1", "1:0:0:1::1");
	assert_formats("1:0:0:2:0:0:3:4", "1::2:0:0:3:4");
	assert_formats("1:0:1:1:1:1:1:1", "1:0:1:1:1:1:1:1");
	assert_formats("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");
	assert_formats("1::", "1::");
	assert_formats("0:0:0:0:0:0:0:0", "::");
	assert_formats("FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF",
	               "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_formats("0:1:0:1:0:1:0:1", "0:1:0:1:0:1:0:1");
	assert_formats("2001:db8::00a0", "2001:db8::a0");

	struct netaddr a = addr("::ffff:1.2.3.4"), b = addr("1.2.3.4");
	assert_int_equal(a.family, NETADDR_V4);
	assert_true(netaddr_equal(&a, &b));
	/* The family and bytes are all there is: the unused bytes are zero. */
	assert_memory_equal(&a, &b, sizeof(a));
	a = addr("2001:db8::1");
	assert_int_equal(a.family, NETADDR_V6);
	assert_false(netaddr_equal(&a, &b));
}

static void test_parse_refuses(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    " ",
	    "1.2.3",
	    "1.2.3.4.5",
	    "1.2.3.",
	    ".1.2.3",
	    "1..2.3",
	    "256.1.1.1",
	    "1.2.3.256",
	    "1000.1.1.1",
	    "010.0.0.1",
	    "1.02.3.4",
	    "00.0.0.0",
	    "0x7f.0.0.1",
	    "0x7f000001",
	    "2130706433",
	    "127.1",
	    "1.2.3.4 ",
	    " 1.2.3.4",
	    "1.2.3.4\n",
	    "1.2. 3.4",
	    "+1.2.3.4",
	    "-1.2.3.4",
	    "1.2.3.a",
	    "localhost",
	    "example.com",
	    "gupy",
	    "[1.2.3.4]",
	    "[::1",
	    "::1]",
	    "[]",
	    "[",
	    ":::",
	    "1:2:3:4:5:6:7:8:9",
	    "2001:db8::1::2",
	    "12345::",
	    "fe80::1%eth0",
	    "fe80::1%1",
	    "::ffff:1.2.3",
	    "::ffff:010.2.3.4",
	    "::ffff:256.2.3.4",
	    "1.2.3.4/32",
	    "::1/128",
	    "1.2.3.4:80",
	    "[::1]:80",
	    "１.2.3.4",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct netaddr a = {.family = 99};
		if (netaddr_parse(bad[i], strlen(bad[i]), &a) != GERR_INVALID)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_int_equal(a.family, 99); /* untouched */
	}
	/* A NUL inside the given length is refused, not read as the end. */
	struct netaddr a;
	assert_int_equal(netaddr_parse("1.2.3.4\0", 8, &a), GERR_INVALID);
	assert_int_equal(netaddr_parse("::1\0:2", 6, &a), GERR_INVALID);
	assert_int_equal(netaddr_parse("1.2.3.4\0junk", 7, &a), 0); /* n says where it ends */
	assert_int_equal(netaddr_parse(NULL, 0, &a), GERR_INVALID);
	/* Too long, even if inet_pton might take it. */
	char longv6[128];
	memset(longv6, '0', sizeof(longv6));
	memcpy(longv6 + 100, "::1", 4);
	assert_int_equal(netaddr_parse(longv6, strlen(longv6), &a), GERR_INVALID);
}

static void test_sockaddr(void **state)
{
	(void)state;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct netaddr a;
	char out[NETADDR_STRLEN];

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, "203.0.113.9", &sin.sin_addr), 1);
	assert_int_equal(netaddr_from_sockaddr((struct sockaddr *)&sin, &a), 0);
	netaddr_format(&a, out);
	assert_string_equal(out, "203.0.113.9");

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "::ffff:203.0.113.9", &sin6.sin6_addr), 1);
	assert_int_equal(netaddr_from_sockaddr((struct sockaddr *)&sin6, &a), 0);
	assert_int_equal(a.family, NETADDR_V4);
	netaddr_format(&a, out);
	assert_string_equal(out, "203.0.113.9");

	assert_int_equal(inet_pton(AF_INET6, "2001:db8::9", &sin6.sin6_addr), 1);
	assert_int_equal(netaddr_from_sockaddr((struct sockaddr *)&sin6, &a), 0);
	assert_int_equal(a.family, NETADDR_V6);
	netaddr_format(&a, out);
	assert_string_equal(out, "2001:db8::9");

	struct sockaddr other = {.sa_family = AF_UNIX};
	assert_int_equal(netaddr_from_sockaddr(&other, &a), GERR_INVALID);
	assert_int_equal(netaddr_from_sockaddr(NULL, &a), GERR_INVALID);
}

/* cidr_ok: s parses to the network want ("a/p"). */
static void cidr_ok(const char *s, const char *want)
{
	struct netaddr_cidr c;
	struct gerr err = {0};
	char out[NETADDR_CIDR_STRLEN];
	if (netaddr_cidr_parse(s, strlen(s), &c, "allowIps[0]", &err) != 0)
		fail_msg("\"%s\" refused: %s", s, err.msg);
	netaddr_cidr_format(&c, out);
	if (strcmp(out, want) != 0)
		fail_msg("\"%s\" is %s, not %s", s, out, want);
}

/* cidr_bad: s is refused with a message holding why. */
static void cidr_bad(const char *s, size_t n, const char *why)
{
	struct netaddr_cidr c = {.prefix = 77};
	struct gerr err = {0};
	if (netaddr_cidr_parse(s, n, &c, "allowIps[3]", &err) != GERR_INVALID)
		fail_msg("\"%s\" accepted", s);
	assert_int_equal(c.prefix, 77);
	assert_int_equal(err.status, 400);
	assert_string_equal(err.code, "invalid_field");
	if (strncmp(err.msg, "allowIps[3]: \"", 14) != 0 || !strstr(err.msg, why))
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", s, err.msg, why);
}

static void test_cidr(void **state)
{
	(void)state;
	cidr_ok("203.0.113.0/24", "203.0.113.0/24");
	cidr_ok("203.0.113.7", "203.0.113.7/32");
	cidr_ok("203.0.113.7/32", "203.0.113.7/32");
	cidr_ok("0.0.0.0/0", "0.0.0.0/0");
	cidr_ok("10.0.0.0/8", "10.0.0.0/8");
	cidr_ok("172.16.0.0/12", "172.16.0.0/12");
	cidr_ok("203.0.113.128/25", "203.0.113.128/25");
	cidr_ok("2001:db8::/32", "2001:db8::/32");
	cidr_ok("2001:DB8::/32", "2001:db8::/32");
	cidr_ok("[2001:db8::]/32", "2001:db8::/32");
	cidr_ok("::/0", "::/0");
	cidr_ok("::1", "::1/128");
	cidr_ok("[::1]", "::1/128");
	cidr_ok("2001:db8::8000/113", "2001:db8::8000/113");
	cidr_ok("2001:db8::/127", "2001:db8::/127");
	/* Mapped CIDRs are IPv4 ones. */
	cidr_ok("::ffff:10.0.0.0/104", "10.0.0.0/8");
	cidr_ok("::ffff:203.0.113.7", "203.0.113.7/32");
	cidr_ok("::ffff:203.0.113.7/128", "203.0.113.7/32");
	cidr_ok("::ffff:0.0.0.0/96", "0.0.0.0/0");

	cidr_bad("", 0, "\"\" is empty");
	cidr_bad("1.2.3.4/33", 10, "prefix above 32");
	cidr_bad("::/129", 6, "prefix above 128");
	cidr_bad("::ffff:1.2.3.4/129", 18, "prefix above 128");
	cidr_bad("1.2.3.4/", 8, "malformed prefix");
	cidr_bad("1.2.3.4/-1", 10, "malformed prefix");
	cidr_bad("1.2.3.4/+8", 10, "malformed prefix");
	cidr_bad("1.2.3.4/1000", 12, "malformed prefix");
	cidr_bad("1.2.3.4/ 8", 10, "malformed prefix");
	cidr_bad("1.2.3.4/8/8", 11, "malformed prefix");
	cidr_bad("10.0.0.0/08", 11, "leading zero");
	cidr_bad("0.0.0.0/00", 10, "leading zero");
	cidr_bad("/24", 3, "\"/24\" has no address before the /");
	cidr_bad("1.2.3/24", 8, "four decimal numbers");
	cidr_bad("010.0.0.1", 9, "leading zero in an IPv4 part");
	cidr_bad("010.0.0.0/8", 11, "leading zero in an IPv4 part");
	cidr_bad("256.1.1.1", 9, "above 255");
	cidr_bad("1.2.3.4 ", 8, "contains a space");
	cidr_bad(" 1.2.3.4", 8, "contains a space");
	cidr_bad("1.2.3.4\t", 8, "contains a space");
	cidr_bad("1.2.3.4\0", 8, "control or non-ASCII");
	cidr_bad("1.2.3.4/24\0", 11, "malformed prefix");
	cidr_bad("fe80::1%eth0", 12, "zone");
	cidr_bad("2001:db8::g", 11, "not a valid IPv6 address");
	cidr_bad("[1.2.3.4]/32", 12, "brackets");
	cidr_bad("[::1/128", 8, "unclosed bracket");
	cidr_bad("example.com", 11, "is not an IP address or a CIDR");
	cidr_bad("gupy", 4, "is not an IP address or a CIDR"); /* no presets here */
	cidr_bad(NULL, 0, "is not an IP address or a CIDR");

	/* Host bits: refused, naming the network meant. */
	cidr_bad("203.0.113.7/24", 14, "did you mean 203.0.113.0/24, or a longer prefix?");
	cidr_bad("10.1.0.0/8", 10, "did you mean 10.0.0.0/8");
	cidr_bad("0.0.0.1/0", 9, "did you mean 0.0.0.0/0");
	cidr_bad("203.0.113.129/25", 16, "did you mean 203.0.113.128/25");
	cidr_bad("2001:db8::1/32", 14, "did you mean 2001:db8::/32");
	cidr_bad("2001:db8::8001/113", 18, "did you mean 2001:db8::8000/113");
	cidr_bad("::1/0", 5, "did you mean ::/0");
	cidr_bad("::ffff:10.1.0.0/104", 19, "did you mean 10.0.0.0/8");
	cidr_bad("::ffff:0.0.0.0/95", 17, "IPv4-mapped address takes a prefix of 96 to 128");
	cidr_bad("::ffff:0.0.0.0/0", 16, "bits set after the prefix");

	/* Quoted input is cut and made printable. */
	char big[300];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	struct netaddr_cidr c;
	struct gerr err = {0};
	assert_int_equal(netaddr_cidr_parse(big, strlen(big), &c, "allowIps[0]", &err),
	                 GERR_INVALID);
	assert_non_null(strstr(err.msg, "xxx...\" is too long"));
	assert_true(strlen(err.msg) < 200);
	assert_int_equal(netaddr_cidr_parse("\x01\xff/8", 4, &c, NULL, &err), GERR_INVALID);
	assert_string_equal(err.msg, "\"?\?/8\" contains a control or non-ASCII character");
	/* err may be NULL. */
	assert_int_equal(netaddr_cidr_parse("1.2.3.4/33", 10, &c, NULL, NULL), GERR_INVALID);
}

static bool in(const char *cidr, const char *a)
{
	struct netaddr_cidr c;
	struct netaddr x = addr(a);
	assert_int_equal(netaddr_cidr_parse(cidr, strlen(cidr), &c, NULL, NULL), 0);
	return netaddr_cidr_contains(&c, &x);
}

static void test_contains(void **state)
{
	(void)state;
	assert_true(in("203.0.113.0/24", "203.0.113.0"));
	assert_true(in("203.0.113.0/24", "203.0.113.255"));
	assert_false(in("203.0.113.0/24", "203.0.114.0"));
	assert_false(in("203.0.113.0/24", "203.0.112.255"));
	assert_true(in("203.0.113.128/25", "203.0.113.200"));
	assert_false(in("203.0.113.128/25", "203.0.113.127"));
	assert_true(in("10.0.0.0/9", "10.127.255.255"));
	assert_false(in("10.0.0.0/9", "10.128.0.0"));
	assert_true(in("0.0.0.0/0", "255.255.255.255"));
	assert_true(in("1.2.3.4", "1.2.3.4"));
	assert_false(in("1.2.3.4", "1.2.3.5"));
	/* Mapped clients match IPv4 networks; IPv6 networks match only IPv6. */
	assert_true(in("203.0.113.0/24", "::ffff:203.0.113.9"));
	assert_true(in("::ffff:203.0.113.0/120", "203.0.113.9"));
	assert_false(in("0.0.0.0/0", "2001:db8::1"));
	assert_false(in("::/0", "1.2.3.4"));
	assert_false(in("::/0", "::ffff:1.2.3.4"));
	assert_true(in("::/0", "2001:db8::1"));
	assert_false(in("::/96", "1.2.3.4"));
	assert_true(in("::/96", "::1.2.3.4"));
	assert_true(in("2001:db8::/32", "2001:db8:ffff:ffff::1"));
	assert_false(in("2001:db8::/32", "2001:db9::"));
	assert_true(in("2001:db8::8000/113", "2001:db8::ffff"));
	assert_false(in("2001:db8::8000/113", "2001:db8::7fff"));
	assert_true(in("::1", "::1"));
	assert_false(in("::1", "::2"));
	/* The 4-byte IPv4 prefix never spills into the IPv6 bytes. */
	assert_false(in("0.0.0.0/0", "::"));

	/* A hand-made mapped address (not from the parser) is normalised too. */
	struct netaddr_cidr c;
	struct netaddr m = {.family = NETADDR_V6};
	m.b[10] = m.b[11] = 0xff;
	m.b[12] = 10;
	m.b[15] = 1;
	assert_int_equal(netaddr_cidr_parse("10.0.0.0/8", 10, &c, NULL, NULL), 0);
	assert_true(netaddr_cidr_contains(&c, &m));
}

static void test_preset_gupy(void **state)
{
	(void)state;
	/* Gupy's documentation, "Sender IP addresses". */
	static const char *const published[] = {"3.225.75.195",  "3.213.125.198", "3.81.178.137",
	                                        "18.235.49.246", "18.209.132.16", "34.231.178.88",
	                                        "34.237.26.228", "52.3.10.144",   "54.87.127.240"};
	size_t n = 0;
	const char *const *p = netaddr_preset("gupy", &n);
	assert_non_null(p);
	assert_int_equal(n, 9);
	for (size_t k = 0; k < n; k++)
		assert_string_equal(p[k], published[k]);
	assert_null(netaddr_preset("Gupy", &n));
	assert_null(netaddr_preset("gupy ", &n));
	assert_null(netaddr_preset("", &n));
	assert_null(netaddr_preset(NULL, &n));

	json_t *arr = json_pack("[s]", "gupy");
	struct netaddr_list *l = NULL;
	struct gerr err = {0};
	assert_int_equal(netaddr_list_from_json(arr, "allowIps", &l, &err), 0);
	assert_int_equal(l->n, 9);
	for (size_t k = 0; k < 9; k++) {
		struct netaddr a = addr(published[k]);
		assert_true(netaddr_list_contains(l, &a));
		assert_int_equal(l->v[k].prefix, 32);
		/* Exactly these: the neighbours are out. */
		a.b[3] ^= 1;
		assert_false(netaddr_list_contains(l, &a));
	}
	struct netaddr x = addr("::ffff:52.3.10.144");
	assert_true(netaddr_list_contains(l, &x));
	x = addr("10.0.0.1");
	assert_false(netaddr_list_contains(l, &x));
	netaddr_list_free(l);
	json_decref(arr);

	/* Beside CIDRs, in any position, and twice. */
	arr = json_pack("[s,s,s]", "10.0.0.0/8", "gupy", "2001:db8::/32");
	assert_int_equal(netaddr_list_from_json(arr, "allowIps", &l, &err), 0);
	assert_int_equal(l->n, 11);
	x = addr("10.200.0.1");
	assert_true(netaddr_list_contains(l, &x));
	x = addr("34.237.26.228");
	assert_true(netaddr_list_contains(l, &x));
	x = addr("2001:db8::5");
	assert_true(netaddr_list_contains(l, &x));
	x = addr("11.0.0.1");
	assert_false(netaddr_list_contains(l, &x));
	netaddr_list_free(l);
	json_decref(arr);
	arr = json_pack("[s,s]", "gupy", "gupy");
	assert_int_equal(netaddr_list_from_json(arr, "allowIps", &l, &err), 0);
	assert_int_equal(l->n, 18);
	netaddr_list_free(l);
	json_decref(arr);

	/* Presets only where allowed. */
	l = netaddr_list_new();
	assert_int_equal(netaddr_list_add(l, "gupy", 4, false, "--trusted-proxy", &err),
	                 GERR_INVALID);
	assert_string_equal(err.msg, "--trusted-proxy: \"gupy\" is not an IP address or a CIDR");
	assert_int_equal(l->n, 0);
	assert_int_equal(netaddr_list_add(l, "gupy", 4, true, NULL, &err), 0);
	assert_int_equal(l->n, 9);
	netaddr_list_free(l);
}

/* list_bad: the JSON text is refused with exactly msg. */
static void list_bad(const char *json, const char *msg)
{
	json_error_t jerr;
	json_t *arr = json_loads(json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	struct netaddr_list *l = (struct netaddr_list *)&jerr; /* must stay untouched */
	struct gerr err = {0};
	if (!arr)
		fail_msg("test JSON %s: %s", json, jerr.text);
	if (netaddr_list_from_json(arr, "allowIps", &l, &err) != GERR_INVALID)
		fail_msg("%s accepted", json);
	assert_ptr_equal(l, (struct netaddr_list *)&jerr);
	assert_int_equal(err.status, 400);
	assert_string_equal(err.code, "invalid_field");
	if (strcmp(err.msg, msg) != 0)
		fail_msg("%s: \"%s\", not \"%s\"", json, err.msg, msg);
	json_decref(arr);
}

static void test_list_json(void **state)
{
	(void)state;
	list_bad("\"10.0.0.0/8\"",
	         "allowIps: must be an array of IP addresses, CIDRs or presets (\"gupy\")");
	list_bad("{}", "allowIps: must be an array of IP addresses, CIDRs or presets (\"gupy\")");
	list_bad("null", "allowIps: must be an array of IP addresses, CIDRs or presets (\"gupy\")");
	list_bad("[]", "allowIps: must not be empty (leave it out to accept any address)");
	list_bad("[\"10.0.0.0/8\", 3]",
	         "allowIps[1]: must be a string (an IP address, a CIDR or a preset)");
	list_bad("[\"10.0.0.0/8\", null]",
	         "allowIps[1]: must be a string (an IP address, a CIDR or a preset)");
	list_bad("[[\"10.0.0.0/8\"]]",
	         "allowIps[0]: must be a string (an IP address, a CIDR or a preset)");
	list_bad("[\"gupy\", \"10.0.0.0/8\", \"10.0.0.1/33\"]",
	         "allowIps[2]: \"10.0.0.1/33\" has a prefix above 32 (IPv4)");
	list_bad("[\"Gupy\"]",
	         "allowIps[0]: \"Gupy\" is not an IP address, a CIDR or a preset (\"gupy\")");
	list_bad("[\"gupy \"]", "allowIps[0]: \"gupy \" contains a space");
	list_bad("[\"gupy\\u0000\"]", "allowIps[0]: \"gupy?\" contains a control or "
	                              "non-ASCII character");
	list_bad("[\"10.0.0.1\\u0000/8\"]",
	         "allowIps[0]: \"10.0.0.1?/8\" contains a control or non-ASCII character");
	list_bad("[\"\"]", "allowIps[0]: \"\" is empty");
	list_bad("[\"1.2.3.4\", \"010.0.0.1\"]", "allowIps[1]: \"010.0.0.1\" has a leading zero "
	                                         "in an IPv4 part (octal to some parsers)");
	list_bad("[\"203.0.113.7/24\"]",
	         "allowIps[0]: \"203.0.113.7/24\" has bits set after the "
	         "prefix: did you mean 203.0.113.0/24, or a longer prefix?");

	/* The size bound. */
	json_t *arr = json_array();
	for (int k = 0; k < NETADDR_LIST_MAX; k++) {
		char s[32];
		snprintf(s, sizeof(s), "10.%d.%d.0/24", k / 256, k % 256);
		json_array_append_new(arr, json_string(s));
	}
	struct netaddr_list *l = NULL;
	struct gerr err = {0};
	assert_int_equal(netaddr_list_from_json(arr, "allowIps", &l, &err), 0);
	assert_int_equal(l->n, NETADDR_LIST_MAX);
	struct netaddr x = addr("10.0.255.77");
	assert_true(netaddr_list_contains(l, &x));
	x = addr("10.1.0.1");
	assert_false(netaddr_list_contains(l, &x));
	netaddr_list_free(l);
	json_array_append_new(arr, json_string("gupy"));
	l = NULL;
	assert_int_equal(netaddr_list_from_json(arr, "allowIps", &l, &err), GERR_INVALID);
	assert_null(l);
	assert_string_equal(err.msg, "allowIps: at most 256 entries");
	json_decref(arr);

	/* NULL field and NULL or empty lists. */
	arr = json_array();
	assert_int_equal(netaddr_list_from_json(arr, NULL, &l, &err), GERR_INVALID);
	assert_string_equal(err.msg,
	                    "list: must not be empty (leave it out to accept any address)");
	json_decref(arr);
	x = addr("1.2.3.4");
	assert_false(netaddr_list_contains(NULL, &x));
	l = netaddr_list_new();
	assert_false(netaddr_list_contains(l, &x));
	netaddr_list_free(l);
	netaddr_list_free(NULL);
}

/* client: the client address of a request from peer with the given XFF
 * values (NULL-terminated array) behind trusted ("a,b,..." CIDRs, or NULL),
 * formatted, or "ERR: <message>". */
static const char *client(const char *peer, const char *const *xff, const char *trusted)
{
	static char out[300];
	struct netaddr_list *l = NULL;
	size_t n = 0;

	if (trusted) {
		l = netaddr_list_new();
		const char *p = trusted;
		while (*p) {
			const char *comma = strchr(p, ',');
			size_t len = comma ? (size_t)(comma - p) : strlen(p);
			assert_int_equal(netaddr_list_add(l, p, len, false, NULL, NULL), 0);
			p += len + (comma ? 1 : 0);
		}
	}
	while (xff && xff[n])
		n++;
	struct netaddr pa = addr(peer), c = {.family = 99};
	struct gerr err = {0};
	int rc = netaddr_client(&pa, xff, n, l, &c, &err);
	if (rc == 0) {
		netaddr_format(&c, out);
	} else {
		assert_int_equal(rc, GERR_INVALID);
		assert_int_equal(c.family, 99);
		assert_int_equal(err.status, 400);
		assert_string_equal(err.code, "invalid_forwarded_for");
		snprintf(out, sizeof(out), "ERR: %s", err.msg);
	}
	netaddr_list_free(l);
	return out;
}

#define XFF(...) ((const char *const[]){__VA_ARGS__, NULL})
#define PROXY    "10.0.0.0/8,2001:db8:ffff::/48"

static void test_client_untrusted(void **state)
{
	(void)state;
	/* No trusted proxies: the header is ignored, whatever it says. */
	assert_string_equal(client("198.51.100.7", XFF("3.225.75.195"), NULL), "198.51.100.7");
	assert_string_equal(client("198.51.100.7", XFF("3.225.75.195"), ""), "198.51.100.7");
	/* A peer outside the trusted list: a forged header is ignored, even
	 * a malformed one (no refusal: it is never read). */
	assert_string_equal(client("198.51.100.7", XFF("3.225.75.195"), PROXY), "198.51.100.7");
	assert_string_equal(client("198.51.100.7", XFF("3.225.75.195, 10.0.0.1"), PROXY),
	                    "198.51.100.7");
	assert_string_equal(client("198.51.100.7", XFF("garbage, , unknown"), PROXY),
	                    "198.51.100.7");
	assert_string_equal(client("::ffff:198.51.100.7", XFF("3.225.75.195"), PROXY),
	                    "198.51.100.7");
	assert_string_equal(client("2001:db8:1::7", XFF("3.225.75.195"), PROXY), "2001:db8:1::7");
	/* No header at all. */
	assert_string_equal(client("198.51.100.7", NULL, PROXY), "198.51.100.7");
}

static void test_client_one_proxy(void **state)
{
	(void)state;
	/* The proxy appended what it saw. */
	assert_string_equal(client("10.0.0.2", XFF("3.225.75.195"), PROXY), "3.225.75.195");
	assert_string_equal(client("::ffff:10.0.0.2", XFF("3.225.75.195"), PROXY), "3.225.75.195");
	assert_string_equal(client("2001:db8:ffff::2", XFF("2001:db8:1::7"), PROXY),
	                    "2001:db8:1::7");
	assert_string_equal(client("10.0.0.2", XFF("[2001:db8:1::7]"), PROXY), "2001:db8:1::7");
	assert_string_equal(client("10.0.0.2", XFF("::ffff:3.225.75.195"), PROXY), "3.225.75.195");
	/* The client's own forgery sits to the left and is never read. */
	assert_string_equal(client("10.0.0.2", XFF("52.3.10.144, 198.51.100.7"), PROXY),
	                    "198.51.100.7");
	assert_string_equal(client("10.0.0.2", XFF("10.0.0.99, 198.51.100.7"), PROXY),
	                    "198.51.100.7");
	assert_string_equal(
	    client("10.0.0.2", XFF("not an address, 010.1.1.1,198.51.100.7"), PROXY),
	    "198.51.100.7");
	/* Spaces and tabs around elements; ports in the unambiguous forms. */
	assert_string_equal(client("10.0.0.2", XFF(" \t198.51.100.7 \t"), PROXY), "198.51.100.7");
	assert_string_equal(client("10.0.0.2", XFF("198.51.100.7:54321"), PROXY), "198.51.100.7");
	assert_string_equal(client("10.0.0.2", XFF("198.51.100.7:1"), PROXY), "198.51.100.7");
	assert_string_equal(client("10.0.0.2", XFF("198.51.100.7:65535"), PROXY), "198.51.100.7");
	assert_string_equal(client("10.0.0.2", XFF("[2001:db8:1::7]:443"), PROXY), "2001:db8:1::7");
	/* A request the proxy made itself: no header. */
	assert_string_equal(client("10.0.0.2", NULL, PROXY), "10.0.0.2");
}

static void test_client_two_proxies(void **state)
{
	(void)state;
	/* client → CDN (10.1.0.0) → load balancer (10.0.0.2) → gancho. */
	assert_string_equal(client("10.0.0.2", XFF("198.51.100.7, 10.1.0.5"), PROXY),
	                    "198.51.100.7");
	assert_string_equal(client("10.0.0.2", XFF("6.6.6.6, 198.51.100.7, 10.1.0.5"), PROXY),
	                    "198.51.100.7");
	/* The same chain as two header lines (each proxy added its own). */
	assert_string_equal(client("10.0.0.2", XFF("6.6.6.6, 198.51.100.7", "10.1.0.5"), PROXY),
	                    "198.51.100.7");
	assert_string_equal(client("10.0.0.2", XFF("6.6.6.6", "198.51.100.7", "10.1.0.5"), PROXY),
	                    "198.51.100.7");
	/* Mixed families along the chain. */
	assert_string_equal(
	    client("2001:db8:ffff::1", XFF("198.51.100.7, [2001:db8:ffff::9]:80"), PROXY),
	    "198.51.100.7");
	/* Only the trusted list decides: an untrusted middle hop is the client. */
	assert_string_equal(client("10.0.0.2", XFF("198.51.100.7, 192.0.2.1"), PROXY), "192.0.2.1");
	/* Every element trusted: the leftmost is the client. */
	assert_string_equal(client("10.0.0.2", XFF("10.9.9.9, 10.1.0.5"), PROXY), "10.9.9.9");
	assert_string_equal(client("10.0.0.2", XFF("10.9.9.9", "10.1.0.5"), PROXY), "10.9.9.9");
}

static void test_client_malformed(void **state)
{
	(void)state;
	/* Not static: the compound literals live in this block. */
	const struct {
		const char *const *xff;
		const char *msg;
	} cases[] = {
	    {XFF(""), "X-Forwarded-For from a trusted proxy has an empty element: \"\""},
	    {XFF("   "), "has an empty element"},
	    {XFF("198.51.100.7,"), "has an empty element"},
	    {XFF("198.51.100.7, , 10.1.0.5"), "has an empty element"},
	    {XFF("198.51.100.7", ""), "has an empty element"},
	    {XFF("unknown"),
	     "X-Forwarded-For from a trusted proxy has an element that is not an IP address: "
	     "\"unknown\""},
	    {XFF("client.example.com"), "not an IP address"},
	    {XFF("_hidden"), "not an IP address"},
	    {XFF("\"198.51.100.7\""), "not an IP address"},
	    {XFF("for=198.51.100.7"), "not an IP address"},
	    {XFF("010.1.1.1"), "not an IP address"},
	    {XFF("1.2.3"), "not an IP address"},
	    {XFF("256.1.1.1"), "not an IP address"},
	    {XFF("198.51.100.7 10.1.0.5"), "not an IP address"},
	    {XFF("[1.2.3.4]"), "not an IP address"},
	    {XFF("fe80::1%eth0"), "not an IP address"},
	    {XFF("198.51.100.7:"), "malformed port"},
	    {XFF("198.51.100.7:0"), "malformed port"},
	    {XFF("198.51.100.7:080"), "malformed port"},
	    {XFF("198.51.100.7:65536"), "malformed port"},
	    {XFF("198.51.100.7:123456"), "malformed port"},
	    {XFF("198.51.100.7:http"), "malformed port"},
	    {XFF("[2001:db8::1]:"), "malformed port"},
	    {XFF("[2001:db8::1]x"), "malformed port"},
	    {XFF("[2001:db8::1"), "unclosed bracket"},
	    {XFF("a:80"), "not an IP address"},
	    /* Malformed among trusted hops, right of the client. */
	    {XFF("198.51.100.7, bogus, 10.1.0.5"), "\"bogus\""},
	    {XFF("198.51.100.7", "10.1.0.5, x"), "\"x\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = client("10.0.0.2", cases[i].xff, PROXY);
		if (strncmp(got, "ERR: ", 5) != 0 || !strstr(got, cases[i].msg))
			fail_msg("case %zu (%s): \"%s\", not \"%s\"", i, cases[i].xff[0], got,
			         cases[i].msg);
	}
	/* A NULL value is an empty one. */
	const char *const withnull[] = {NULL};
	struct netaddr_list *l = netaddr_list_new();
	struct netaddr peer = addr("10.0.0.2"), c;
	struct gerr err = {0};
	assert_int_equal(netaddr_list_add(l, "10.0.0.0/8", 10, false, NULL, NULL), 0);
	assert_int_equal(netaddr_client(&peer, withnull, 1, l, &c, &err), GERR_INVALID);
	assert_non_null(strstr(err.msg, "empty element"));
	/* The quoted element is cut and printable. */
	char longv[400];
	memset(longv, 'x', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	const char *const lv[] = {longv};
	assert_int_equal(netaddr_client(&peer, lv, 1, l, &c, &err), GERR_INVALID);
	assert_non_null(strstr(err.msg, "too long for an address"));
	assert_true(strlen(err.msg) < 200);
	const char *const ctl[] = {"198.51.100.7\x01"};
	assert_int_equal(netaddr_client(&peer, ctl, 1, l, &c, &err), GERR_INVALID);
	assert_non_null(strstr(err.msg, "\"198.51.100.7?\""));
	netaddr_list_free(l);
}

static void test_client_bounds(void **state)
{
	(void)state;
	struct netaddr_list *l = netaddr_list_new();
	struct netaddr peer = addr("10.0.0.2"), c;
	struct gerr err = {0};
	char out[NETADDR_STRLEN];
	assert_int_equal(netaddr_list_add(l, "10.0.0.0/8", 10, false, NULL, NULL), 0);

	/* NETADDR_XFF_MAX - 1 trusted hops and the client: found. */
	size_t cap = 64 * 20 + 64;
	char *v = malloc(cap);
	size_t len = (size_t)snprintf(v, cap, "198.51.100.7");
	for (int k = 0; k < NETADDR_XFF_MAX - 1; k++)
		len += (size_t)snprintf(v + len, cap - len, ", 10.0.%d.1", k);
	const char *const one[] = {v};
	assert_int_equal(netaddr_client(&peer, one, 1, l, &c, &err), 0);
	netaddr_format(&c, out);
	assert_string_equal(out, "198.51.100.7");
	/* One hop more: refused, not a guess. */
	len += (size_t)snprintf(v + len, cap - len, ", 10.0.99.1");
	assert_int_equal(netaddr_client(&peer, one, 1, l, &c, &err), GERR_INVALID);
	assert_string_equal(err.msg,
	                    "X-Forwarded-For from a trusted proxy has more than 32 trusted hops");
	free(v);

	/* The same bound across many header values. */
	const char *many[NETADDR_XFF_MAX + 1];
	many[0] = "198.51.100.7";
	for (int k = 1; k <= NETADDR_XFF_MAX; k++)
		many[k] = "10.3.3.3";
	assert_int_equal(netaddr_client(&peer, many, NETADDR_XFF_MAX, l, &c, &err), 0);
	netaddr_format(&c, out);
	assert_string_equal(out, "198.51.100.7");
	assert_int_equal(netaddr_client(&peer, many, NETADDR_XFF_MAX + 1, l, &c, &err),
	                 GERR_INVALID);

	/* A long client-written tail left of the client costs nothing and is
	 * never refused: 10 000 junk elements, then the proxy's one. */
	size_t big = 10000 * 8 + 64;
	char *junk = malloc(big);
	len = 0;
	for (int k = 0; k < 10000; k++)
		len += (size_t)snprintf(junk + len, big - len, "junk%02d, ", k % 100);
	snprintf(junk + len, big - len, "198.51.100.7");
	const char *const j[] = {junk};
	assert_int_equal(netaddr_client(&peer, j, 1, l, &c, &err), 0);
	netaddr_format(&c, out);
	assert_string_equal(out, "198.51.100.7");
	free(junk);
	netaddr_list_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_accepts),    cmocka_unit_test(test_parse_refuses),
	    cmocka_unit_test(test_sockaddr),         cmocka_unit_test(test_cidr),
	    cmocka_unit_test(test_contains),         cmocka_unit_test(test_preset_gupy),
	    cmocka_unit_test(test_list_json),        cmocka_unit_test(test_client_untrusted),
	    cmocka_unit_test(test_client_one_proxy), cmocka_unit_test(test_client_two_proxies),
	    cmocka_unit_test(test_client_malformed), cmocka_unit_test(test_client_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
