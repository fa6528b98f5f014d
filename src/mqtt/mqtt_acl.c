/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Users and topic access of the embedded broker, read once at start-up
 * from the files mosquitto uses, so existing files work unchanged.
 *
 * mqtt.password-file: "user:hash" lines as mosquitto_passwd writes them
 * ($6$ salted SHA-512 or $7$ PBKDF2-SHA512; mqtt_tls.c checks them). With
 * the file, a client that gives a user name must give its password
 * (CONNACK 4 otherwise); without it, user names are taken as given.
 * mqtt.allow-anonymous decides about clients without a user name
 * (CONNACK 5 when false).
 *
 * mqtt.acl-file: mosquitto's acl_file format. "topic [read|write|
 * readwrite|deny] <filter>" lines before any "user <name>" line apply to
 * clients without a user name, after it to that user; "pattern ..." lines
 * apply to everyone, with %c replaced by the client id and %u by the user
 * name. Without the file everything is allowed; with it, an access is
 * allowed when no deny rule matches and some rule grants it. Publishing
 * checks the topic (write). Subscribing checks the filter: a deny rule
 * covering it, or no read rule covering it, refuses it (SUBACK 0x80);
 * every message is then checked again (read) before it is delivered, so
 * a broad subscription never shows a denied topic.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "mqtt/mqtt_broker_int.h"
#include "mqtt/mqtt_packet.h"
#include "mqtt/mqtt_topic.h"

#define MQTT_ACL_DENY	0	/* access bits of a deny rule */

struct mqtt_acl_rule {
	char	*filter;
	int	 access;	/* MQTT_ACL_READ | MQTT_ACL_WRITE, or DENY */
};

struct mqtt_acl_rules {
	struct mqtt_acl_rule	*v;
	size_t			 n;
};

/* A user of the password file or of the ACL file. */
struct mqtt_acl_user {
	char			*name;
	char			*hash;		/* NULL: not in the password file */
	struct mqtt_acl_rules	 rules;
};

struct mqtt_acl {
	int			 allow_anonymous;
	int			 passwords;	/* a password file is loaded */
	int			 active;	/* an ACL file is loaded */
	struct mqtt_acl_user	*users;
	size_t			 nusers;
	struct mqtt_acl_rules	 anon;
	struct mqtt_acl_rules	 patterns;
};

static char	mqtt_acl_errbuf[512];

/* Formats a load error into the static buffer and returns it. */
static const char * __attribute__((format(printf, 1, 2)))
mqtt_acl_fail(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(mqtt_acl_errbuf, sizeof(mqtt_acl_errbuf), fmt, ap);
	va_end(ap);
	return mqtt_acl_errbuf;
}

/* The user called name, created when add is set. */
static struct mqtt_acl_user *
mqtt_acl_user(struct mqtt_acl *a, const char *name, int add)
{
	size_t	i;

	for (i = 0; i < a->nusers; i++)
		if (strcmp(a->users[i].name, name) == 0)
			return &a->users[i];
	if (!add)
		return NULL;
	a->users = xreallocarray(a->users, a->nusers + 1, sizeof(*a->users));
	memset(&a->users[a->nusers], 0, sizeof(*a->users));
	a->users[a->nusers].name = xstrdup(name);
	return &a->users[a->nusers++];
}

static void
mqtt_acl_rules_add(struct mqtt_acl_rules *r, const char *filter, int access)
{
	r->v = xreallocarray(r->v, r->n + 1, sizeof(*r->v));
	r->v[r->n].filter = xstrdup(filter);
	r->v[r->n].access = access;
	r->n++;
}

static void
mqtt_acl_rules_clear(struct mqtt_acl_rules *r)
{
	size_t	i;

	for (i = 0; i < r->n; i++)
		free(r->v[i].filter);
	free(r->v);
}

/* Strips the line end and surrounding blanks in place. */
static char *
mqtt_acl_trim(char *s)
{
	size_t	len;

	s += strspn(s, " \t");
	len = strlen(s);
	while (len > 0 && strchr(" \t\r\n", s[len - 1]) != NULL)
		s[--len] = '\0';
	return s;
}

/* Reads the password file; NULL or an error text. */
static const char *
mqtt_acl_load_passwords(struct mqtt_acl *a, const char *path)
{
	struct mqtt_acl_user	*u;
	FILE			*fp;
	char			*line = NULL, *s, *colon;
	size_t			 sz = 0, lineno = 0;
	const char		*err = NULL;

	if ((fp = fopen(path, "r")) == NULL)
		return mqtt_acl_fail("%s: %s", path, strerror(errno));
	while (err == NULL && getline(&line, &sz, fp) != -1) {
		lineno++;
		s = mqtt_acl_trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if ((colon = strchr(s, ':')) == NULL || colon == s ||
		    colon[1] != '$') {
			err = mqtt_acl_fail("%s:%zu: not \"user:hash\"", path,
			    lineno);
			break;
		}
		*colon = '\0';
		u = mqtt_acl_user(a, s, 1);
		free(u->hash);
		u->hash = xstrdup(colon + 1);
	}
	a->passwords = 1;
	explicit_bzero(line, sz);
	free(line);
	fclose(fp);
	return err;
}

/* Parses "[read|write|readwrite|deny] filter" of a topic/pattern line. */
static const char *
mqtt_acl_parse_rule(char *s, int *access, char **filter)
{
	static const struct {
		const char	*word;
		int		 access;
	} words[] = {
		{ "read", MQTT_ACL_READ },
		{ "write", MQTT_ACL_WRITE },
		{ "readwrite", MQTT_ACL_READ | MQTT_ACL_WRITE },
		{ "deny", MQTT_ACL_DENY },
	};
	size_t	i, len = strcspn(s, " \t");

	*access = MQTT_ACL_READ | MQTT_ACL_WRITE;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strlen(words[i].word) == len && strncmp(s, words[i].word,
		    len) == 0 && s[len] != '\0') {
			*access = words[i].access;
			s += len;
			break;
		}
	}
	s = mqtt_acl_trim(s);
	if (*s == '\0')
		return "missing topic";
	*filter = s;
	return NULL;
}

/* One line of the ACL file; *cur is the user of the "user" block. */
static const char *
mqtt_acl_line(struct mqtt_acl *a, char *s, struct mqtt_acl_user **cur)
{
	const char	*why;
	char		*filter;
	int		 access, pattern;

	if (strncmp(s, "user", 4) == 0 && (s[4] == ' ' || s[4] == '\t')) {
		s = mqtt_acl_trim(s + 5);
		if (*s == '\0')
			return "missing user name";
		*cur = mqtt_acl_user(a, s, 1);
		return NULL;
	}
	if (strncmp(s, "topic", 5) == 0 && (s[5] == ' ' || s[5] == '\t'))
		pattern = 0;
	else if (strncmp(s, "pattern", 7) == 0 && (s[7] == ' ' ||
	    s[7] == '\t'))
		pattern = 1;
	else
		return "expected \"user\", \"topic\" or \"pattern\"";
	s = mqtt_acl_trim(s + (pattern ? 7 : 5));
	if ((why = mqtt_acl_parse_rule(s, &access, &filter)) != NULL)
		return why;
	if (!mqtt_topic_filter_valid(filter, strlen(filter)))
		return "invalid topic filter";
	if (pattern)
		mqtt_acl_rules_add(&a->patterns, filter, access);
	else
		mqtt_acl_rules_add(*cur != NULL ? &(*cur)->rules : &a->anon,
		    filter, access);
	return NULL;
}

/* Reads the ACL file; NULL or an error text. */
static const char *
mqtt_acl_load_rules(struct mqtt_acl *a, const char *path)
{
	struct mqtt_acl_user	*cur = NULL;
	FILE			*fp;
	char			*line = NULL, *s;
	size_t			 sz = 0, lineno = 0;
	const char		*err = NULL, *why;

	if ((fp = fopen(path, "r")) == NULL)
		return mqtt_acl_fail("%s: %s", path, strerror(errno));
	while (getline(&line, &sz, fp) != -1) {
		lineno++;
		s = mqtt_acl_trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if ((why = mqtt_acl_line(a, s, &cur)) != NULL) {
			err = mqtt_acl_fail("%s:%zu: %s", path, lineno, why);
			break;
		}
	}
	a->active = 1;
	free(line);
	fclose(fp);
	return err;
}

struct mqtt_acl *
mqtt_acl_new(const char *password_file, const char *acl_file,
    int allow_anonymous, const char **errstr)
{
	struct mqtt_acl	*a;
	const char	*err = NULL;

	a = xcalloc(1, sizeof(*a));
	a->allow_anonymous = allow_anonymous;
	if (password_file != NULL && *password_file != '\0')
		err = mqtt_acl_load_passwords(a, password_file);
	if (err == NULL && acl_file != NULL && *acl_file != '\0')
		err = mqtt_acl_load_rules(a, acl_file);
	if (err != NULL) {
		*errstr = err;
		mqtt_acl_free(a);
		return NULL;
	}
	return a;
}

void
mqtt_acl_free(struct mqtt_acl *a)
{
	size_t	i;

	if (a == NULL)
		return;
	for (i = 0; i < a->nusers; i++) {
		free(a->users[i].name);
		xfree_secret(a->users[i].hash);
		mqtt_acl_rules_clear(&a->users[i].rules);
	}
	free(a->users);
	mqtt_acl_rules_clear(&a->anon);
	mqtt_acl_rules_clear(&a->patterns);
	free(a);
}

int
mqtt_acl_login(struct mqtt_acl *a, const char *username, const char *password,
    size_t passlen)
{
	struct mqtt_acl_user	*u;

	if (username == NULL)
		return a->allow_anonymous ? MQTT_CONNACK_ACCEPTED :
		    MQTT_CONNACK_NOT_AUTHORIZED;
	if (!a->passwords)
		return MQTT_CONNACK_ACCEPTED;
	if ((u = mqtt_acl_user(a, username, 0)) == NULL || u->hash == NULL ||
	    password == NULL)
		return MQTT_CONNACK_BAD_LOGIN;
	if (mqtt_tls_password_check(u->hash, password, passlen) != 1)
		return MQTT_CONNACK_BAD_LOGIN;
	return MQTT_CONNACK_ACCEPTED;
}

int
mqtt_acl_active(struct mqtt_acl *a)
{
	return a != NULL && a->active;
}

/*
 * Expands %c and %u in a pattern into a new string; NULL when a value
 * would bring a wildcard or a level separator in.
 */
static char *
mqtt_acl_expand(const char *pat, const char *user, const char *id)
{
	const char	*v;
	char		*out, *o;
	size_t		 len = strlen(pat) + 1;

	if (user == NULL)
		user = "";
	len += 2 * (strlen(user) + strlen(id)) * (strlen(pat) / 2 + 1);
	out = o = xmalloc(len);
	for (; *pat != '\0'; pat++) {
		if (pat[0] == '%' && (pat[1] == 'c' || pat[1] == 'u')) {
			v = *++pat == 'c' ? id : user;
			if (strpbrk(v, "+#/") != NULL || *v == '\0') {
				free(out);
				return NULL;
			}
			o = stpcpy(o, v);
		} else
			*o++ = *pat;
	}
	*o = '\0';
	return out;
}

/* One rule against a topic (match) or a subscription (covers). */
static int
mqtt_acl_rule_applies(const char *filter, const char *what, int sub)
{
	return sub ? mqtt_topic_covers(filter, what) :
	    mqtt_topic_match(filter, what);
}

/* Folds a rule list into *deny and *grant for access to what. */
static void
mqtt_acl_rules_eval(const struct mqtt_acl_rules *r, const char *what,
    int sub, int access, int *deny, int *grant)
{
	size_t	i;

	for (i = 0; i < r->n; i++) {
		if (r->v[i].access == MQTT_ACL_DENY) {
			if (mqtt_acl_rule_applies(r->v[i].filter, what, sub))
				*deny = 1;
		} else if ((r->v[i].access & access) &&
		    mqtt_acl_rule_applies(r->v[i].filter, what, sub))
			*grant = 1;
	}
}

/* The patterns, expanded for this client. */
static void
mqtt_acl_patterns_eval(const struct mqtt_acl *a, const char *username,
    const char *clientid, const char *what, int sub, int access, int *deny,
    int *grant)
{
	char	*f;
	size_t	 i;

	for (i = 0; i < a->patterns.n; i++) {
		if ((f = mqtt_acl_expand(a->patterns.v[i].filter, username,
		    clientid)) == NULL)
			continue;
		if (a->patterns.v[i].access == MQTT_ACL_DENY) {
			if (mqtt_acl_rule_applies(f, what, sub))
				*deny = 1;
		} else if ((a->patterns.v[i].access & access) &&
		    mqtt_acl_rule_applies(f, what, sub))
			*grant = 1;
		free(f);
	}
}

/* The decision for what (a topic, or a filter when sub). */
static int
mqtt_acl_decide(struct mqtt_acl *a, const char *username,
    const char *clientid, const char *what, int sub, int access)
{
	struct mqtt_acl_user	*u;
	int			 deny = 0, grant = 0;

	if (!a->active)
		return 1;
	if (username == NULL)
		mqtt_acl_rules_eval(&a->anon, what, sub, access, &deny, &grant);
	else if ((u = mqtt_acl_user(a, username, 0)) != NULL)
		mqtt_acl_rules_eval(&u->rules, what, sub, access, &deny,
		    &grant);
	mqtt_acl_patterns_eval(a, username, clientid, what, sub, access, &deny,
	    &grant);
	return !deny && grant;
}

int
mqtt_acl_check(struct mqtt_acl *a, const char *username, const char *clientid,
    const char *topic, enum mqtt_acl_access access)
{
	return mqtt_acl_decide(a, username, clientid, topic, 0, (int)access);
}

int
mqtt_acl_subscribe(struct mqtt_acl *a, const char *username,
    const char *clientid, const char *filter)
{
	return mqtt_acl_decide(a, username, clientid, filter, 1,
	    MQTT_ACL_READ);
}
