/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The broker's OpenSSL adapter, the only file of the mqtt room that
 * includes it: the server TLS context of the broker's TLS listeners
 * (mqtt.tls-cert, mqtt.tls-key), the server-side bufferevents, their
 * error texts, and the check of mosquitto_passwd hashes ($6$: SHA-512 of
 * the password and the salt; $7$: PBKDF2-HMAC-SHA512), which needs
 * OpenSSL's digests.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "mqtt/mqtt_broker_int.h"

#define MQTT_TLS_HASH_LEN	64	/* SHA-512 */
#define MQTT_TLS_SALT_MAX	256
#define MQTT_TLS_ITER_MAX	10000000

struct mqtt_tls {
	SSL_CTX		*ctx;
};

static char	mqtt_tls_errbuf[512];

/* Formats what failed and OpenSSL's reason into the static buffer. */
static const char *
mqtt_tls_fail(const char *what, const char *path)
{
	unsigned long	e = ERR_peek_last_error();
	char		buf[256];

	if (e != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		snprintf(mqtt_tls_errbuf, sizeof(mqtt_tls_errbuf), "%s %s: %s",
		    what, path, buf);
	} else
		snprintf(mqtt_tls_errbuf, sizeof(mqtt_tls_errbuf), "%s %s",
		    what, path);
	ERR_clear_error();
	return mqtt_tls_errbuf;
}

struct mqtt_tls *
mqtt_tls_new(const char *cert, const char *key, const char **errstr)
{
	struct mqtt_tls	*t;

	if (cert == NULL || *cert == '\0' || key == NULL || *key == '\0') {
		*errstr = "a TLS listener needs mqtt.tls-cert and mqtt.tls-key";
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	if ((t->ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		*errstr = mqtt_tls_fail("cannot create the TLS context", "");
		goto fail;
	}
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(t->ctx, cert) != 1) {
		*errstr = mqtt_tls_fail("cannot load certificate", cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(t->ctx) != 1) {
		*errstr = mqtt_tls_fail("cannot load private key", key);
		goto fail;
	}
	return t;
fail:
	mqtt_tls_free(t);
	return NULL;
}

void
mqtt_tls_free(struct mqtt_tls *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

struct bufferevent *
mqtt_tls_bev(struct mqtt_tls *t, struct event_base *base, int fd)
{
	struct bufferevent	*bev;
	SSL			*ssl;

	if ((ssl = SSL_new(t->ctx)) == NULL) {
		log_warnx("mqtt broker: %s", mqtt_tls_fail("SSL_new", ""));
		return NULL;
	}
	bev = bufferevent_openssl_socket_new(base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL)
		SSL_free(ssl);
	return bev;
}

const char *
mqtt_tls_error(struct bufferevent *bev, char *buf, size_t len)
{
	unsigned long	e, last = 0;

	while ((e = bufferevent_get_openssl_error(bev)) != 0)
		last = e;
	if (last != 0)
		ERR_error_string_n(last, buf, len);
	else if (errno != 0)
		snprintf(buf, len, "%s", strerror(errno));
	else
		snprintf(buf, len, "TLS connection failed");
	return buf;
}

/* Decodes base64 (with padding) into out; the length or -1. */
static int
mqtt_tls_base64(const char *in, size_t inlen, unsigned char *out,
    size_t outsz)
{
	int	n, pad = 0;

	if (inlen == 0 || inlen % 4 != 0 || inlen / 4 * 3 > outsz)
		return -1;
	if ((n = EVP_DecodeBlock(out, (const unsigned char *)in,
	    (int)inlen)) == -1)
		return -1;
	if (in[inlen - 1] == '=')
		pad++;
	if (in[inlen - 2] == '=')
		pad++;
	return n - pad;
}

/* Splits "$6$salt$hash" or "$7$iter$salt$hash" into its fields. */
static int
mqtt_tls_hash_parse(const char *hash, int *type, long *iter,
    const char **salt, size_t *saltlen, const char **sum)
{
	const char	*p;
	char		*end;

	if (strncmp(hash, "$6$", 3) == 0) {
		*type = 6;
		*iter = 0;
		p = hash + 3;
	} else if (strncmp(hash, "$7$", 3) == 0) {
		*type = 7;
		*iter = strtol(hash + 3, &end, 10);
		if (*end != '$' || *iter < 1 || *iter > MQTT_TLS_ITER_MAX)
			return -1;
		p = end + 1;
	} else
		return -1;
	*salt = p;
	if ((p = strchr(p, '$')) == NULL)
		return -1;
	*saltlen = (size_t)(p - *salt);
	*sum = p + 1;
	return 0;
}

int
mqtt_tls_password_check(const char *hash, const char *password,
    size_t passlen)
{
	unsigned char	 salt[MQTT_TLS_SALT_MAX], want[MQTT_TLS_HASH_LEN + 3];
	unsigned char	 got[MQTT_TLS_HASH_LEN];
	const char	*salt64, *sum64;
	size_t		 salt64len;
	long		 iter;
	int		 type, slen, wlen, ok;
	unsigned int	 glen = 0;
	EVP_MD_CTX	*md;

	if (mqtt_tls_hash_parse(hash, &type, &iter, &salt64, &salt64len,
	    &sum64) == -1 ||
	    (slen = mqtt_tls_base64(salt64, salt64len, salt,
	    sizeof(salt))) < 0 ||
	    (wlen = mqtt_tls_base64(sum64, strlen(sum64), want,
	    sizeof(want))) != MQTT_TLS_HASH_LEN)
		return -1;
	if (type == 6) {
		if ((md = EVP_MD_CTX_new()) == NULL)
			return -1;
		ok = EVP_DigestInit_ex(md, EVP_sha512(), NULL) == 1 &&
		    EVP_DigestUpdate(md, password, passlen) == 1 &&
		    EVP_DigestUpdate(md, salt, (size_t)slen) == 1 &&
		    EVP_DigestFinal_ex(md, got, &glen) == 1 &&
		    glen == MQTT_TLS_HASH_LEN;
		EVP_MD_CTX_free(md);
	} else
		ok = PKCS5_PBKDF2_HMAC(password, (int)passlen, salt, slen,
		    (int)iter, EVP_sha512(), MQTT_TLS_HASH_LEN, got) == 1;
	if (!ok)
		return -1;
	ok = CRYPTO_memcmp(got, want, MQTT_TLS_HASH_LEN) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	return ok;
}
