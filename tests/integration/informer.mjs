// SPDX-License-Identifier: Apache-2.0
// A real client library against edgesite's local API: an informer of
// @kubernetes/client-node (list, then watch from the list's
// resourceVersion) on the pods of one namespace. Each event is printed as
// one JSON line: {"ev": "add"|"update"|"delete"|"error"|"connect", "name",
// "rv", "labels"}. After an error (edgesite restarting) the informer is
// started again, which lists and watches anew.
//
// usage: node informer.mjs MODULE_DIR SERVER NAMESPACE
import path from "node:path";
import { pathToFileURL } from "node:url";

const [moduleDir, server, namespace] = process.argv.slice(2);
const entry = path.join(moduleDir, "node_modules", "@kubernetes",
    "client-node", "dist", "index.js");
const k8s = await import(pathToFileURL(entry).href);

const kc = new k8s.KubeConfig();
kc.loadFromOptions({
    clusters: [{ name: "site", server, skipTLSVerify: true }],
    users: [{ name: "anyone" }],
    contexts: [{ name: "site", cluster: "site", user: "anyone" }],
    currentContext: "site",
});
const api = kc.makeApiClient(k8s.CoreV1Api);
const informer = k8s.makeInformer(kc,
    `/api/v1/namespaces/${namespace}/pods`,
    () => api.listNamespacedPod({ namespace }));

function say(ev, obj) {
    const md = (obj && obj.metadata) || {};
    process.stdout.write(JSON.stringify({
        ev, name: md.name, rv: md.resourceVersion, labels: md.labels || {},
    }) + "\n");
}

informer.on("add", (o) => say("add", o));
informer.on("update", (o) => say("update", o));
informer.on("delete", (o) => say("delete", o));
informer.on("connect", () => say("connect", null));
informer.on("error", (err) => {
    process.stdout.write(JSON.stringify({ ev: "error",
        error: String(err && err.message || err) }) + "\n");
    setTimeout(() => informer.start().catch(() => {}), 300);
});
informer.start().catch(() => {});
setInterval(() => {}, 1 << 30);
