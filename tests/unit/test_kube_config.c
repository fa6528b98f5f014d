/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kubeconfig walk: the current context to its cluster and user, the
 * inline and file credentials, and the messages of what is wrong, with
 * line and column for YAML syntax errors.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kube/kube_config.h"
#include "unit.h"

static char	tmpdir[] = "/tmp/test_kube_config.XXXXXX";

/* Writes text to name under the temporary folder; its path, static. */
static const char *
put(const char *name, const char *text)
{
	static char	 path[256];
	FILE		*fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if ((fp = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fputs(text, fp);
	fclose(fp);
	return path;
}

/* Loads text as a kubeconfig: 0 or -1, the message in *errstr. */
static int
load(const char *text, struct kube_auth *auth, const char **errstr)
{
	*errstr = NULL;
	return kube_config_load(put("config", text), NULL, auth, errstr);
}

static void
test_context(void)
{
	struct kube_auth	 auth;
	const char		*errstr;

	put("token", "s3cret\n");
	CHECK(load("apiVersion: v1\n"
	    "current-context: edge\n"
	    "clusters:\n"
	    "- name: other\n"
	    "  cluster: {server: https://10.0.0.9:6443}\n"
	    "- name: home\n"
	    "  cluster:\n"
	    "    server: https://10.0.0.1:6443\n"
	    "    insecure-skip-tls-verify: true\n"
	    "    tls-server-name: api.home\n"
	    "contexts:\n"
	    "- name: edge\n"
	    "  context: {cluster: home, user: node}\n"
	    "users:\n"
	    "- name: node\n"
	    "  user:\n"
	    "    tokenFile: token\n", &auth, &errstr) == 0);
	CHECK(auth.servers != NULL && auth.servers[0] != NULL &&
	    auth.servers[1] == NULL);
	if (auth.servers != NULL)
		CHECK_STR(auth.servers[0], "https://10.0.0.1:6443");
	CHECK(auth.insecure == 1);
	CHECK_STR(auth.tls_server_name, "api.home");
	CHECK_STR(auth.token, "s3cret");
	kube_auth_clear(&auth);

	/* the only context serves when none is current; ~ is null */
	CHECK(load("clusters:\n"
	    "- name: c\n"
	    "  cluster: {server: 'http://127.0.0.1:8080'}\n"
	    "contexts:\n"
	    "- name: only\n"
	    "  context: {cluster: c, user: ~}\n"
	    "users:\n"
	    "- name: u\n"
	    "  user: {token: abc}\n", &auth, &errstr) == 0);
	if (auth.servers != NULL)
		CHECK_STR(auth.servers[0], "http://127.0.0.1:8080");
	CHECK(auth.token == NULL);
	kube_auth_clear(&auth);
}

/* The message of a kubeconfig that must fail, after the path. */
static const char *
fail(const char *text)
{
	struct kube_auth	 auth;
	const char		*errstr, *p;

	if (load(text, &auth, &errstr) != -1 || errstr == NULL)
		return "(loaded)";
	p = strstr(errstr, "/config");
	return p != NULL ? p + strlen("/config") : errstr;
}

static void
test_errors(void)
{
	CHECK_STR(fail("clusters:\n  - name: a\n - name: b\n"),
	    ":3:2: did not find expected key");
	CHECK_STR(fail("- a\n- b\n"), ": not a kubeconfig (no mapping)");
	CHECK_STR(fail("contexts: []\n"), ": no current-context");
	CHECK_STR(fail("current-context: x\n"), ": context \"x\" not found");
	CHECK_STR(fail("current-context: x\n"
	    "contexts:\n- name: x\n  context: {user: u}\n"),
	    ": context \"x\" names no cluster");
	CHECK_STR(fail("current-context: x\n"
	    "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
	    "clusters:\n- name: c\n  cluster: {server: https://h}\n"
	    "users:\n- name: u\n  user:\n    exec: {command: x}\n"),
	    ": user \"u\": exec and auth-provider credentials are not "
	    "supported");
	CHECK_STR(fail("current-context: x\n"
	    "contexts:\n- name: x\n  context: {cluster: c}\n"
	    "clusters:\n- name: c\n  cluster:\n"
	    "    server: https://h\n"
	    "    insecure-skip-tls-verify: maybe\n"),
	    ": cluster \"c\": insecure-skip-tls-verify is not a boolean: "
	    "maybe");
	CHECK_STR(fail("current-context: x\n"
	    "contexts:\n- name: x\n  context: {cluster: c}\n"
	    "clusters:\n- name: c\n  cluster:\n"
	    "    certificate-authority-data: '!!'\n"),
	    ": cluster \"c\" certificate-authority: "
	    "certificate-authority-data is not valid base64");
}

int
main(void)
{
	char	path[256];

	unit_init();
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_context();
	test_errors();
	snprintf(path, sizeof(path), "%s/config", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/token", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return unit_done();
}
