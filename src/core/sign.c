/*
 * sign: HMAC signatures for outgoing webhooks (Acesso RH, Standard
 * Webhooks) and their verification, plus the basic auth header and the
 * raw HMACs and comparisons the inbound verifier (core/verifier.c) uses.
 *
 * sign_hmac_raw and the one-off signatures (Standard Webhooks, sign_acesso)
 * go through OpenSSL's one-shot HMAC(), which looks the MAC and the digest
 * up by name and allocates its contexts on every call. The inbound verifier
 * and a compiled webhook's Acesso-Signature use the same few secrets for
 * every message, so they use a pre-keyed HMAC instead (struct
 * sign_hmac_key): RFC 2104 over EVP_MD_CTX, the digest fetched once per key
 * and the two keyed midstates, H(K' ^ ipad) and H(K' ^ opad) absorbed, kept
 * read-only so that a message costs two context copies and the hashing.
 * Comparisons of secret-derived values use CRYPTO_memcmp so a receiver (or
 * an attacker probing our verifier) learns nothing from timing.
 */
#include "core/sign.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "util/base64.h"
#include "util/buf.h"

/* The hashes we offer: our name, OpenSSL's fetch name and the built-in
 * digest. SHA-1 is here only to check senders that still sign with it
 * (HMAC-SHA1 is not broken the way plain SHA-1 collisions are); gancho never
 * signs with it. */
static const struct sign_hash {
	const char *name;
	const char *fetch;
	const EVP_MD *(*md)(void);
} sign_hashes[] = {
    {"sha1", "SHA1", EVP_sha1},
    {"sha256", "SHA256", EVP_sha256},
    {"sha512", "SHA512", EVP_sha512},
};

static const struct sign_hash *sign_hash_find(const char *hash)
{
	for (size_t i = 0; hash && i < sizeof(sign_hashes) / sizeof(sign_hashes[0]); i++)
		if (strcmp(hash, sign_hashes[i].name) == 0)
			return &sign_hashes[i];
	return NULL;
}

/* sign_md: the digest for a hash name, or NULL when we do not offer it. */
static const EVP_MD *sign_md(const char *hash)
{
	const struct sign_hash *h = sign_hash_find(hash);
	return h ? h->md() : NULL;
}

_Static_assert(SIGN_MAC_MAX >= EVP_MAX_MD_SIZE, "SIGN_MAC_MAX holds any digest");

/* sign_raw: HMAC into md (EVP_MAX_MD_SIZE bytes); returns its length or -1. */
static int sign_raw(const EVP_MD *md, const void *key, size_t keylen, const void *msg, size_t len,
                    unsigned char *out)
{
	/* OpenSSL reads a NULL key as "keep the previous key"; an empty key
	 * must be a real (empty) buffer. Likewise for an empty message. */
	static const unsigned char empty[1];
	unsigned int outlen = 0;

	if (!md || keylen > INT32_MAX)
		return -1;
	if (!key || keylen == 0)
		key = empty;
	if (!msg || len == 0)
		msg = empty;
	if (!HMAC(md, key, (int)keylen, msg, len, out, &outlen))
		return -1;
	return (int)outlen;
}

int sign_hmac_raw(const char *hash, const void *key, size_t keylen, const void *msg, size_t len,
                  unsigned char out[SIGN_MAC_MAX])
{
	return sign_raw(sign_md(hash), key, keylen, msg, len, out);
}

/* The largest block among the offered digests (SHA-512's). */
#define SIGN_BLOCK_MAX 128

struct sign_hmac_key {
	EVP_MD *md;        /* fetched once, owned */
	EVP_MD_CTX *inner; /* has absorbed K' ^ ipad; never written after _new */
	EVP_MD_CTX *outer; /* has absorbed K' ^ opad; never written after _new */
	int maclen;
};

struct sign_hmac_key *sign_hmac_key_new(const char *hash, const void *key, size_t keylen)
{
	const struct sign_hash *h = sign_hash_find(hash);
	unsigned char kb[SIGN_BLOCK_MAX], pad[SIGN_BLOCK_MAX];
	struct sign_hmac_key *k;
	bool ok = false;
	int bs;

	if (!h || (!key && keylen))
		return NULL;
	if (!(k = calloc(1, sizeof(*k))))
		return NULL;
	memset(kb, 0, sizeof(kb));
	k->md = EVP_MD_fetch(NULL, h->fetch, NULL);
	k->inner = EVP_MD_CTX_new();
	k->outer = EVP_MD_CTX_new();
	if (!k->md || !k->inner || !k->outer)
		goto out;
	bs = EVP_MD_get_block_size(k->md);
	k->maclen = EVP_MD_get_size(k->md);
	if (bs <= 0 || bs > SIGN_BLOCK_MAX || k->maclen <= 0 || k->maclen > SIGN_MAC_MAX ||
	    k->maclen > bs)
		goto out;
	/* K': a key longer than a block is hashed first, any key is zero-padded. */
	if (keylen > (size_t)bs) {
		unsigned int n = 0;
		if (!EVP_Digest(key, keylen, kb, &n, k->md, NULL) || n != (unsigned int)k->maclen)
			goto out;
	} else if (keylen) {
		memcpy(kb, key, keylen);
	}
	for (int i = 0; i < bs; i++)
		pad[i] = kb[i] ^ 0x36;
	if (!EVP_DigestInit_ex(k->inner, k->md, NULL) ||
	    !EVP_DigestUpdate(k->inner, pad, (size_t)bs))
		goto out;
	for (int i = 0; i < bs; i++)
		pad[i] = kb[i] ^ 0x5c;
	if (!EVP_DigestInit_ex(k->outer, k->md, NULL) ||
	    !EVP_DigestUpdate(k->outer, pad, (size_t)bs))
		goto out;
	ok = true;
out:
	OPENSSL_cleanse(kb, sizeof(kb));
	OPENSSL_cleanse(pad, sizeof(pad));
	if (!ok) {
		sign_hmac_key_free(k);
		return NULL;
	}
	return k;
}

int sign_hmac_keyed(const struct sign_hmac_key *k, const void *msg, size_t len,
                    unsigned char out[SIGN_MAC_MAX])
{
	unsigned char ih[SIGN_MAC_MAX];
	unsigned int n = 0, m = 0;
	EVP_MD_CTX *c;
	int rc = -1;

	if (!k || !out || (!msg && len))
		return -1;
	/* One scratch context per call; the stored midstates are only read
	 * (EVP_MD_CTX_copy_ex takes them const), so threads may share k. */
	if (!(c = EVP_MD_CTX_new()))
		return -1;
	if (EVP_MD_CTX_copy_ex(c, k->inner) && (len == 0 || EVP_DigestUpdate(c, msg, len)) &&
	    EVP_DigestFinal_ex(c, ih, &n) && n == (unsigned int)k->maclen &&
	    EVP_MD_CTX_copy_ex(c, k->outer) && EVP_DigestUpdate(c, ih, n) &&
	    EVP_DigestFinal_ex(c, out, &m) && m == (unsigned int)k->maclen)
		rc = k->maclen;
	EVP_MD_CTX_free(c);
	OPENSSL_cleanse(ih, sizeof(ih));
	return rc;
}

void sign_hmac_key_free(struct sign_hmac_key *k)
{
	if (!k)
		return;
	/* Freeing a digest context clears its state (the keyed midstate). */
	EVP_MD_CTX_free(k->inner);
	EVP_MD_CTX_free(k->outer);
	EVP_MD_free(k->md);
	free(k);
}

int sign_hmac_len(const char *hash)
{
	const EVP_MD *md = sign_md(hash);
	return md ? EVP_MD_get_size(md) : -1;
}

int sign_hmac_b64(const char *hash, const void *key, size_t keylen, const void *msg, size_t len,
                  char *out, size_t outsz)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	int n = sign_raw(sign_md(hash), key, keylen, msg, len, mac);
	if (n < 0 || base64_encode(mac, (size_t)n, out, outsz) < 0)
		return -1;
	return 0;
}

int sign_hmac_hex(const char *hash, const void *key, size_t keylen, const void *msg, size_t len,
                  char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[EVP_MAX_MD_SIZE];
	int n = sign_raw(sign_md(hash), key, keylen, msg, len, mac);
	if (n < 0 || outsz < (size_t)n * 2 + 1)
		return -1;
	for (int i = 0; i < n; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 15];
	}
	out[2 * n] = '\0';
	return 0;
}

int sign_acesso(const char *secret, const void *body, size_t len, char out[SIGN_B64_LEN])
{
	if (!secret)
		return -1;
	return sign_hmac_b64("sha256", secret, strlen(secret), body, len, out, SIGN_B64_LEN);
}

int sign_acesso_keyed(const struct sign_hmac_key *k, const void *body, size_t len,
                      char out[SIGN_B64_LEN])
{
	unsigned char mac[SIGN_MAC_MAX];
	int n = k ? sign_hmac_keyed(k, body, len, mac) : -1;
	int rc = n == 32 && base64_encode(mac, (size_t)n, out, SIGN_B64_LEN) >= 0 ? 0 : -1;
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}

int sign_standard_key(const char *secret, unsigned char key[SIGN_KEY_MAX])
{
	if (!secret)
		return -1;
	if (strncmp(secret, "whsec_", 6) == 0)
		secret += 6;
	int n = base64_decode(secret, strlen(secret), key, SIGN_KEY_MAX);
	return n >= 1 ? n : -1;
}

/* sign_standard_b64: base64 of the Standard Webhooks HMAC (no "v1,") into
 * out (SIGN_B64_LEN bytes). The signed content is "<id>.<ts>.<body>". */
static int sign_standard_b64(const unsigned char *key, size_t keylen, const char *msg_id,
                             const char *ts, const void *body, size_t len, char *out)
{
	struct buf m;
	int rc;

	if (!msg_id || !ts)
		return -1;
	buf_init(&m);
	buf_puts(&m, msg_id);
	buf_putc(&m, '.');
	buf_puts(&m, ts);
	buf_putc(&m, '.');
	if (len)
		buf_append(&m, body, len);
	rc = m.oom ? -1 : sign_hmac_b64("sha256", key, keylen, m.data, m.len, out, SIGN_B64_LEN);
	buf_free(&m);
	return rc;
}

int sign_standard(const unsigned char *key, size_t keylen, const char *msg_id, int64_t ts,
                  const void *body, size_t len, char out[SIGN_STANDARD_LEN])
{
	char tsbuf[24];
	snprintf(tsbuf, sizeof(tsbuf), "%" PRId64, ts);
	memcpy(out, "v1,", 3);
	return sign_standard_b64(key, keylen, msg_id, tsbuf, body, len, out + 3);
}

int64_t sign_standard_ts(const char *s)
{
	int64_t v = 0;
	size_t n = 0;

	if (!s)
		return -1;
	for (; s[n]; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 18)
			return -1;
		v = v * 10 + (s[n] - '0');
	}
	return n ? v : -1;
}

bool sign_standard_match(const unsigned char *const *keys, const size_t *keylens, int nkeys,
                         const char *msg_id, const char *ts_str, const void *body, size_t len,
                         const char *header)
{
	struct buf m;
	bool ok = false;

	if (!header || !keys || !keylens || nkeys <= 0 || !msg_id || !ts_str)
		return false;
	/* The signed content once, whatever the number of keys. The timestamp
	 * is signed exactly as received. */
	buf_init(&m);
	buf_puts(&m, msg_id);
	buf_putc(&m, '.');
	buf_puts(&m, ts_str);
	buf_putc(&m, '.');
	if (len)
		buf_append(&m, body, len);
	if (m.oom) {
		buf_free(&m);
		return false;
	}
	/* Every key is tried and every entry compared, matched or not, so the
	 * time taken says nothing about which key (if any) matched. */
	for (int k = 0; k < nkeys; k++) {
		char want[SIGN_B64_LEN];
		if (!keys[k] || keylens[k] == 0)
			continue;
		if (sign_hmac_b64("sha256", keys[k], keylens[k], m.data, m.len, want, sizeof(want)))
			continue;
		size_t wlen = strlen(want);
		const char *p = header;
		while (*p) {
			while (*p == ' ')
				p++;
			const char *e = p;
			while (*e && *e != ' ')
				e++;
			/* Entries for other versions (v1a, …) are not ours to judge. */
			if (e - p > 3 && memcmp(p, "v1,", 3) == 0)
				ok |= sign_equal(p + 3, (size_t)(e - p - 3), want, wlen);
			p = e;
		}
	}
	buf_free(&m);
	return ok;
}

bool sign_standard_verify(const unsigned char *const *keys, const size_t *keylens, int nkeys,
                          const char *msg_id, const char *ts_str, const void *body, size_t len,
                          const char *header, int64_t now_s, int64_t tolerance_s)
{
	int64_t ts = sign_standard_ts(ts_str);

	if (ts < 0 || tolerance_s < 0)
		return false;
	/* Both directions: a stale timestamp is a replay, a future one would
	 * let a captured message be replayed later. ts is below 10^18, so the
	 * differences overflow only for an absurd now_s: refuse then too. */
	int64_t age, ahead;
	if (__builtin_sub_overflow(now_s, ts, &age) || __builtin_sub_overflow(ts, now_s, &ahead) ||
	    age > tolerance_s || ahead > tolerance_s)
		return false;
	return sign_standard_match(keys, keylens, nkeys, msg_id, ts_str, body, len, header);
}

int sign_basic(const char *user, const char *password, char *out, size_t outsz)
{
	struct buf cred;
	int rc = -1;

	if (!user || !password || outsz < 6)
		return -1;
	buf_init(&cred);
	buf_puts(&cred, user);
	buf_putc(&cred, ':');
	buf_puts(&cred, password);
	if (!cred.oom) {
		memcpy(out, "basic ", 6);
		rc = base64_encode(cred.data, cred.len, out + 6, outsz - 6) < 0 ? -1 : 0;
	}
	/* The buffer held a password: do not leave it in freed memory. */
	if (cred.data)
		OPENSSL_cleanse(cred.data, cred.cap);
	buf_free(&cred);
	return rc;
}

bool sign_secret_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	/* Compare digests of fixed size: no early exit on the length, so a
	 * prober cannot learn a password's or key's length from timing. The
	 * length check after the digest comparison closes the (theoretical)
	 * collision gap without a data-dependent branch before it. */
	unsigned char da[32], db[32];
	unsigned int la = 0, lb = 0;
	static const unsigned char empty[1];

	if (!EVP_Digest(a ? a : empty, alen, da, &la, EVP_sha256(), NULL) ||
	    !EVP_Digest(b ? b : empty, blen, db, &lb, EVP_sha256(), NULL) || la != 32 || lb != 32)
		return false;
	bool same = CRYPTO_memcmp(da, db, 32) == 0;
	OPENSSL_cleanse(da, sizeof(da));
	OPENSSL_cleanse(db, sizeof(db));
	return same && alen == blen;
}

bool sign_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	/* Lengths are public (signatures have a fixed size); the contents are not. */
	if (alen != blen)
		return false;
	if (alen == 0)
		return true;
	return CRYPTO_memcmp(a, b, alen) == 0;
}
