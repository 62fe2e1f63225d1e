// check.mjs — checks the objects one kustomize overlay renders (deploy/k8s).
//
//   node check.mjs RENDERED.yaml OVERLAY_NAME [API.md]
//
// Prints one line per problem and exits 1 when there is any, 0 otherwise. What it
// holds the manifests to (docs/operations.md describes the same rules to people):
//   - every object is valid against the Kubernetes schema (npm kubernetes-models, and
//     @kubernetes-models/cert-manager for the mesh-tls component's objects), and
//     carries no field the API does not know (a misspelt readinessProbe would
//     otherwise be dropped in silence by the API server);
//   - every long-running container has liveness and readiness probes (native gRPC
//     readiness for the gRPC services, /readyz and /healthz for the gateways); every
//     container, init and Job containers included, has cpu and memory limits and runs
//     non-root, read-only, without privilege escalation;
//   - termination grace covers preStop + VENTA_SHUTDOWN_GRACE_MS + slack;
//   - every workload with more than one replica (or an HPA minimum above one) has a
//     PodDisruptionBudget; HPAs exist for the gateways and venta-location;
//   - NetworkPolicies: default deny, and the gRPC ports open only to the gateways
//     (and venta-user -> venta-vendor);
//   - every API.md §1 variable comes from a ConfigMap or a Secret, never a literal;
//     services listen on 0.0.0.0 while their clients dial Service names that exist;
//   - the NATS cluster: three servers, routes to each, a config nats-server accepts;
//   - NATS and Redis users (docs/security.md): the servers define users and get every
//     password their files name from the Secret; each process logs in as itself;
//   - mTLS (components/mesh-tls): all processes or none, each with a cert-manager
//     Certificate whose one URI SAN is its SPIFFE id, readiness then on /readyz.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { tmpdir } from "node:os";
import { parseAllDocuments } from "yaml";

const [renderedPath, overlay, apiDocPath] = process.argv.slice(2);
if (!renderedPath || !overlay) {
  console.error("usage: node check.mjs RENDERED.yaml OVERLAY_NAME [API.md]");
  process.exit(2);
}

// prod and scale (prod at the size of issue #20) are production overlays.
const production = overlay === "prod" || overlay === "scale";
const problems = [];
const fail = (where, msg) => problems.push(`${overlay}: ${where}: ${msg}`);

const docs = parseAllDocuments(readFileSync(renderedPath, "utf8"));
const objects = [];
for (const d of docs) {
  if (d.errors.length) fail("yaml", d.errors.map((e) => e.message).join("; "));
  const o = d.toJS();
  if (o) objects.push(o);
}
const idOf = (o) => `${o.kind}/${o.metadata?.name}`;
const byKind = (kind) => objects.filter((o) => o.kind === kind);
const find = (kind, name) => objects.find((o) => o.kind === kind && o.metadata?.name === name);

// ---------------------------------------------------------------- schema, strictly --

// Model classes live at kubernetes-models/<group/version>/<Kind>.
// The package of an object's schema: Kubernetes' own, or cert-manager's CRDs
// (@kubernetes-models/cert-manager) for the mesh-tls component.
const modelsPackage = (o) =>
  o.apiVersion?.startsWith("cert-manager.io/") ? "@kubernetes-models/cert-manager" : "kubernetes-models";

async function modelFor(o) {
  try {
    const mod = await import(`${modelsPackage(o)}/${o.apiVersion}/${o.kind}`);
    return mod[o.kind];
  } catch {
    return null;
  }
}

// Unknown fields: the schemas ship as compiled validators that allow extra properties,
// but the TypeScript declarations beside them list every field with its type. Walk
// the object along those declarations; a key not declared is unknown. Maps
// ({ [key: string]: ... }) and types we cannot resolve are not descended into.
const require = createRequire(import.meta.url);
const modelsRoot = dirname(require.resolve("kubernetes-models/package.json"));
const apimachineryRoot = dirname(
  require.resolve("@kubernetes-models/apimachinery/package.json", { paths: [modelsRoot] }),
);
const declCache = new Map();

function parseDecl(file) {
  if (declCache.has(file)) return declCache.get(file);
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    declCache.set(file, null);
    return null;
  }
  const imports = new Map();
  for (const m of text.matchAll(/import \{ ([^}]+) \} from "([^"]+)";/g)) {
    for (const name of m[1].split(",").map((s) => s.trim())) imports.set(name, m[2]);
  }
  const body = text.match(/export interface I\w+(?: extends ([\w, <>]+))? \{([\s\S]*?)\n\}/);
  if (!body) {
    declCache.set(file, null);
    return null;
  }
  const props = new Map();
  const decl = { file, imports, props };
  declCache.set(file, decl);
  // CRD models (cert-manager's) declare a spec as an empty interface that extends
  // the one with the fields: take those fields (and their imports) too.
  for (const base of (body[1] || "").split(",").map((s) => s.trim())) {
    const from = imports.get(base);
    if (!from?.startsWith(".")) continue;
    const inherited = parseDecl(join(dirname(file), from.replace(/\.js$/, ".d.ts")));
    if (!inherited) continue;
    for (const [k, v] of inherited.props) props.set(k, v);
    for (const [k, v] of inherited.imports) if (!imports.has(k)) imports.set(k, v);
  }
  for (const m of body[2].matchAll(/^ {4}"([^"]+)"\??: (.+)$/gm)) props.set(m[1], m[2].replace(/;$/, ""));
  return decl;
}

function resolveType(decl, typeText) {
  let t = typeText.trim();
  if (t.startsWith("{")) return null; // a map: keys are data
  const arr = t.match(/^Array<(.+)>$/);
  if (arr) t = arr[1];
  const from = decl.imports.get(t);
  if (!from || !from.startsWith(".") && !from.startsWith("@kubernetes-models/apimachinery")) {
    return null;
  }
  let file;
  if (from.startsWith("@kubernetes-models/apimachinery/")) {
    file = join(apimachineryRoot, from.slice("@kubernetes-models/apimachinery/".length) + ".d.ts");
  } else {
    file = join(dirname(decl.file), from.replace(/\.js$/, ".d.ts"));
  }
  return parseDecl(file);
}

function unknownFields(value, decl, path, out) {
  if (!decl || value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => unknownFields(v, decl, `${path}[${i}]`, out));
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    const t = decl.props.get(k);
    if (t === undefined) {
      out.push(`${path}.${k}`);
      continue;
    }
    const sub = resolveType(decl, t);
    if (sub) unknownFields(v, sub, `${path}.${k}`, out);
  }
}

for (const o of objects) {
  const Model = await modelFor(o);
  if (!Model) {
    fail(idOf(o), `no Kubernetes schema for ${o.apiVersion} ${o.kind}`);
    continue;
  }
  try {
    new Model(o).validate();
  } catch (e) {
    fail(idOf(o), `schema: ${e.message}`);
  }
  const root = modelsPackage(o) === "kubernetes-models" ? modelsRoot
    : dirname(require.resolve(`${modelsPackage(o)}/package.json`));
  const top = parseDecl(join(root, o.apiVersion, `${o.kind}.d.ts`));
  if (top) {
    const unknown = [];
    unknownFields(o, top, "", unknown);
    for (const u of unknown) fail(idOf(o), `unknown field ${u.slice(1)}`);
  } else {
    fail(idOf(o), "cannot read the field declarations of this kind");
  }
}

// ------------------------------------------------------------------ configuration --

// API.md §1, plus the variables every process of the brief reads. Aliases are not
// required (CLERK_WEBHOOK_SECRET stands for CLERK_WEBHOOK_SIGNING_SECRET).
const ALIASES = new Set(["CLERK_WEBHOOK_SECRET"]);
const apiVars = new Set([
  "VENTA_DATABASE_URL", "VENTA_REDIS_URL", "VENTA_NATS_URL", "VENTA_LOG_LEVEL",
  "CLERK_JWT_KEY", "VENTA_JWKS_FILE", "VENTA_JWT_ISSUER", "VENTA_JWT_AUTHORIZED_PARTIES",
  "CLERK_WEBHOOK_SIGNING_SECRET", "REVENUECAT_WEBHOOK_AUTH", "VENTA_CORS_ORIGINS",
  "VENTA_GATEWAY_ADDR", "VENTA_WS_ADDR", "VENTA_USER_ADDR", "VENTA_VENDOR_ADDR",
  "VENTA_LOCATION_ADDR", "VENTA_METRICS_ADDR", "VENTA_SHUTDOWN_GRACE_MS",
  "VENTA_RPC_THREADS", "VENTA_LOCATION_TTL_S", "VENTA_MIGRATIONS_DIR",
  "VENTA_TRUST_FORWARDED_FOR",
]);
if (apiDocPath) {
  const api = readFileSync(apiDocPath, "utf8");
  const s1 = api.slice(api.indexOf("## 1."), api.indexOf("## 2."));
  for (const m of s1.matchAll(/`((?:VENTA|CLERK|REVENUECAT)_[A-Z0-9_]+)`/g)) {
    if (!ALIASES.has(m[1])) apiVars.add(m[1]);
  }
}

const configMaps = new Map(byKind("ConfigMap").map((c) => [c.metadata.name, c.data || {}]));
const SECRET = "venta-secrets";
// What the Secret must hold (docs/operations.md "Secrets"); optional keys may be absent.
const SECRET_KEYS = new Set([
  "VENTA_DATABASE_URL", "CLERK_JWT_KEY", "CLERK_WEBHOOK_SIGNING_SECRET", "REVENUECAT_WEBHOOK_AUTH",
  "VENTA_ALGOLIA_SEARCH_KEY",
  // The passwords of the NATS and Redis users (docs/security.md); the servers read all
  // of them, each process only its own.
  "NATS_PASSWORD_WS_GATEWAY", "NATS_PASSWORD_USER", "NATS_PASSWORD_VENDOR", "NATS_PASSWORD_LOCATION",
  "NATS_PASSWORD_ADMIN", "REDIS_PASSWORD_GATEWAY", "REDIS_PASSWORD_WS_GATEWAY", "REDIS_PASSWORD_ADMIN",
]);

// A container's environment as the kubelet builds it: envFrom first, env wins.
// Each entry: {source: "configmap"|"secret"|"literal"|"field", value?}.
function resolveEnv(c, where) {
  const env = new Map();
  for (const ef of c.envFrom || []) {
    if (ef.configMapRef) {
      const data = configMaps.get(ef.configMapRef.name);
      if (!data) {
        if (!ef.configMapRef.optional) fail(where, `envFrom ConfigMap ${ef.configMapRef.name} is not rendered`);
        continue;
      }
      for (const [k, v] of Object.entries(data)) env.set(k, { source: "configmap", value: v });
    } else if (ef.secretRef) {
      fail(where, "envFrom a whole Secret: reference each key instead (least privilege)");
    }
  }
  for (const e of c.env || []) {
    const vf = e.valueFrom;
    if (!vf) env.set(e.name, { source: "literal", value: e.value });
    else if (vf.configMapKeyRef) {
      const { name, key, optional } = vf.configMapKeyRef;
      const data = configMaps.get(name);
      if (!data || !(key in data)) {
        if (!optional) fail(where, `${e.name}: ConfigMap ${name} has no key ${key}`);
        continue;
      }
      env.set(e.name, { source: "configmap", value: data[key] });
    } else if (vf.secretKeyRef) {
      const { name, key, optional } = vf.secretKeyRef;
      if (name !== SECRET) fail(where, `${e.name}: Secret ${name}: every secret is in ${SECRET}`);
      if (!SECRET_KEYS.has(key)) fail(where, `${e.name}: ${SECRET} key ${key} is not documented`);
      env.set(e.name, { source: "secret", key, optional: !!optional });
    } else {
      env.set(e.name, { source: "field" });
    }
  }
  return env;
}

// ---------------------------------------------------------------------- workloads --

const workloads = objects.filter((o) => ["Deployment", "StatefulSet", "Job"].includes(o.kind));
const hpas = byKind("HorizontalPodAutoscaler");
const services = byKind("Service");
const GRPC_SERVICES = { "venta-user": "VENTA_USER_ADDR", "venta-vendor": "VENTA_VENDOR_ADDR", "venta-location": "VENTA_LOCATION_ADDR" };
const GATEWAYS = { "venta-gateway": "VENTA_GATEWAY_ADDR", "venta-ws-gateway": "VENTA_WS_ADDR" };
// Which services each process dials (API.md, DESIGN.md).
const DIALS = {
  "venta-user": ["VENTA_VENDOR_ADDR"],
  "venta-gateway": ["VENTA_USER_ADDR", "VENTA_VENDOR_ADDR", "VENTA_LOCATION_ADDR"],
  "venta-ws-gateway": ["VENTA_VENDOR_ADDR", "VENTA_LOCATION_ADDR"],
};
const providedBy = new Map(); // API variable -> sources seen

const binaryOf = (c) => (c.command || [])[0]?.split("/").pop();
const selects = (selector, labels) =>
  !!selector && Object.entries(selector.matchLabels || {}).every(([k, v]) => labels?.[k] === v) &&
  (selector.matchExpressions || []).every((x) =>
    x.operator === "In" ? x.values.includes(labels?.[x.key])
      : x.operator === "NotIn" ? !x.values.includes(labels?.[x.key])
      : x.operator === "Exists" ? x.key in (labels || {}) : !(x.key in (labels || {})));

function serviceFor(host, port) {
  const svc = services.find((s) => s.metadata.name === host);
  if (!svc) return null;
  return svc.spec.ports.some((p) => p.port === Number(port)) ? svc : null;
}

function portNumber(c, name) {
  return (c.ports || []).find((p) => p.name === name)?.containerPort;
}

function checkSecurity(c, where) {
  const sc = c.securityContext || {};
  if (sc.runAsNonRoot !== true) fail(where, "securityContext.runAsNonRoot must be true");
  if (sc.runAsUser === 0) fail(where, "securityContext.runAsUser must not be 0");
  if (sc.readOnlyRootFilesystem !== true) fail(where, "securityContext.readOnlyRootFilesystem must be true");
  if (sc.allowPrivilegeEscalation !== false) fail(where, "securityContext.allowPrivilegeEscalation must be false");
  if (!(sc.capabilities?.drop || []).includes("ALL")) fail(where, "securityContext.capabilities.drop must include ALL");
}

function checkResources(c, where) {
  const lim = c.resources?.limits || {};
  const req = c.resources?.requests || {};
  if (!lim.cpu || !lim.memory) fail(where, "resources.limits needs cpu and memory");
  if (!req.cpu || !req.memory) fail(where, "resources.requests needs cpu and memory");
}

for (const w of workloads) {
  const tmpl = w.spec.template;
  const pod = tmpl.spec;
  const name = w.metadata.name;
  const longRunning = w.kind !== "Job";
  if (w.kind !== "Job" && !selects(w.spec.selector, tmpl.metadata?.labels)) {
    fail(idOf(w), "selector does not match the pod template's labels");
  }
  if (pod.securityContext?.runAsNonRoot !== true) fail(idOf(w), "pod securityContext.runAsNonRoot must be true");
  if (pod.automountServiceAccountToken !== false) fail(idOf(w), "automountServiceAccountToken must be false");

  for (const c of [...(pod.initContainers || []), ...pod.containers]) {
    const where = `${idOf(w)} container ${c.name}`;
    const init = (pod.initContainers || []).includes(c);
    checkResources(c, where);
    checkSecurity(c, where);
    if (longRunning && !init && (!c.livenessProbe || !c.readinessProbe)) {
      fail(where, "needs livenessProbe and readinessProbe");
    }
    const env = resolveEnv(c, where);
    for (const [k, v] of env) {
      if (!apiVars.has(k)) continue;
      if (v.source === "literal") fail(where, `${k} is a literal value: put it in a ConfigMap or the Secret`);
      else if (!providedBy.has(k)) providedBy.set(k, new Set([v.source]));
      else providedBy.get(k).add(v.source);
    }
    const bin = binaryOf(c);
    if (bin?.startsWith("venta-") && !c.image?.includes("venta-mesh")) {
      fail(where, `runs ${bin} from ${c.image}, not the venta-mesh image`);
    }
    if (bin === "venta-migrate") {
      if (env.get("VENTA_DATABASE_URL")?.source !== "secret") fail(where, "VENTA_DATABASE_URL must come from the Secret");
      if (env.get("VENTA_MIGRATIONS_DIR")?.value !== "/usr/share/venta/migrations") {
        fail(where, "VENTA_MIGRATIONS_DIR must be /usr/share/venta/migrations (where the image has them)");
      }
    }
    if (init || !longRunning || !bin?.startsWith("venta-")) continue;

    // Listen where the cluster can reach, dial what exists.
    const listenVar = GRPC_SERVICES[bin] || GATEWAYS[bin];
    if (!listenVar) {
      fail(where, `unknown Venta process ${bin}`);
      continue;
    }
    const mainPort = GRPC_SERVICES[bin] ? portNumber(c, "grpc") : portNumber(c, "http");
    if (env.get(listenVar)?.value !== `0.0.0.0:${mainPort}`) {
      fail(where, `${listenVar} must be 0.0.0.0:${mainPort} (its own listen address), got ${env.get(listenVar)?.value}`);
    }
    for (const dial of DIALS[bin] || []) {
      const v = env.get(dial)?.value || "";
      const [host, port] = v.split(":");
      const svc = serviceFor(host, port);
      const target = Object.keys(GRPC_SERVICES).find((s) => GRPC_SERVICES[s] === dial);
      const targetPods = find("Deployment", target)?.spec.template.metadata.labels;
      if (!svc) fail(where, `${dial}=${v} is not a Service name:port in this overlay`);
      else if (!selects({ matchLabels: svc.spec.selector }, targetPods)) {
        fail(where, `${dial}=${v}: Service ${host} does not select ${target}'s pods`);
      } else if (svc.spec.clusterIP !== "None") {
        // gRPC keeps one long-lived HTTP/2 connection: behind a ClusterIP every client
        // would send everything to the one pod it first reached.
        fail(where, `${dial}=${v}: Service ${host} must be headless (clusterIP: None) so that calls spread over its pods`);
      }
    }
    for (const need of ["VENTA_NATS_URL", "VENTA_LOG_LEVEL", "VENTA_SHUTDOWN_GRACE_MS"]) {
      if (!env.has(need)) fail(where, `${need} is not set`);
    }
    if (GRPC_SERVICES[bin]) {
      if (env.get("VENTA_DATABASE_URL")?.source !== "secret") fail(where, "VENTA_DATABASE_URL must come from the Secret");
      const mport = portNumber(c, "metrics");
      if (env.get("VENTA_METRICS_ADDR")?.value !== `0.0.0.0:${mport}`) {
        fail(where, `VENTA_METRICS_ADDR must be 0.0.0.0:${mport}`);
      }
      // With mTLS the native gRPC probe cannot show a certificate: /readyz on the
      // metrics port says the same (docs/security.md, "Kubernetes probes").
      if (env.has("VENTA_TLS_CERT")) {
        const h = c.readinessProbe?.httpGet;
        if (h?.path !== "/readyz" || (h.port !== "metrics" && h.port !== mport)) {
          fail(where, "with mTLS, readinessProbe must be GET /readyz on the metrics port");
        }
      } else {
        const g = c.readinessProbe?.grpc;
        if (!g || g.port !== mainPort) fail(where, `readinessProbe must be a native gRPC probe on port ${mainPort}`);
      }
    } else {
      if (c.readinessProbe?.httpGet?.path !== "/readyz") fail(where, "readinessProbe must be GET /readyz");
      if (c.livenessProbe?.httpGet?.path !== "/healthz") fail(where, "livenessProbe must be GET /healthz");
      if (!env.has("VENTA_REDIS_URL")) fail(where, "VENTA_REDIS_URL is not set");
      if (!env.has("CLERK_JWT_KEY") && !env.get("VENTA_JWKS_FILE")?.value) {
        fail(where, "needs CLERK_JWT_KEY or VENTA_JWKS_FILE");
      }
      if (bin === "venta-gateway") {
        for (const s of ["CLERK_WEBHOOK_SIGNING_SECRET", "REVENUECAT_WEBHOOK_AUTH"]) {
          if (env.get(s)?.source !== "secret") fail(where, `${s} must come from the Secret`);
        }
        const cors = env.get("VENTA_CORS_ORIGINS")?.value || "";
        if (production && cors.split(",").includes("*")) fail(where, "VENTA_CORS_ORIGINS is * in prod");
      }
      if (production && /:latest$|^[^:]+$/.test(c.image)) fail(where, `image ${c.image} has no fixed tag`);
    }

    // SIGTERM grace: preStop sleep + the process's drain + 5 s for closing connections.
    const grace = Number(env.get("VENTA_SHUTDOWN_GRACE_MS")?.value);
    const sleepCmd = c.lifecycle?.preStop?.exec?.command || [];
    const preStop = sleepCmd[0]?.endsWith("sleep") ? Number(sleepCmd[1]) : 0;
    if (!c.lifecycle?.preStop) fail(where, "needs a preStop sleep so that it leaves the endpoints before SIGTERM");
    const tgps = pod.terminationGracePeriodSeconds ?? 30;
    if (Number.isFinite(grace) && tgps < preStop + grace / 1000 + 5) {
      fail(where, `terminationGracePeriodSeconds ${tgps} < preStop ${preStop} s + VENTA_SHUTDOWN_GRACE_MS ${grace} ms + 5 s`);
    }
  }
}

for (const v of apiVars) {
  if (!providedBy.has(v)) fail("configuration", `${v} (API.md §1) is not taken from a ConfigMap or Secret by any container`);
}

// ------------------------------------------------------ autoscaling and disruption --

const hpaFor = (w) => hpas.find((h) => h.spec.scaleTargetRef.kind === w.kind && h.spec.scaleTargetRef.name === w.metadata.name);
for (const name of ["venta-gateway", "venta-ws-gateway", "venta-location"]) {
  const w = find("Deployment", name);
  if (!w) fail("hpa", `Deployment ${name} missing`);
  else if (!hpaFor(w)) fail(idOf(w), "has no HorizontalPodAutoscaler");
}
for (const h of hpas) {
  const t = find(h.spec.scaleTargetRef.kind, h.spec.scaleTargetRef.name);
  if (!t) fail(idOf(h), `scales ${h.spec.scaleTargetRef.name}, which is not rendered`);
  else if (t.spec.replicas !== undefined) fail(idOf(t), "sets replicas although an HPA owns the count (every apply would reset it)");
  if (!(h.spec.metrics || []).some((m) => m.type === "Resource" && m.resource.name === "cpu")) {
    fail(idOf(h), "needs a CPU metric");
  }
}
const pdbs = byKind("PodDisruptionBudget");
for (const w of workloads.filter((x) => x.kind !== "Job")) {
  const replicas = Math.max(w.spec.replicas ?? 1, hpaFor(w)?.spec.minReplicas ?? 1);
  const labels = w.spec.template.metadata.labels;
  const pdb = pdbs.find((p) => selects(p.spec.selector, labels));
  if (replicas > 1 && !pdb) fail(idOf(w), `${replicas} replicas and no PodDisruptionBudget`);
  if (pdb && pdb.spec.minAvailable !== undefined && Number(pdb.spec.minAvailable) >= replicas) {
    fail(idOf(pdb), `minAvailable ${pdb.spec.minAvailable} blocks every drain of ${replicas} replicas`);
  }
}
for (const p of pdbs) {
  if (!workloads.some((w) => selects(p.spec.selector, w.spec.template.metadata.labels))) {
    fail(idOf(p), "selects no workload");
  }
}
if (production) {
  // scale: the topology of issue #20, six WebSocket gateways and two of every other.
  for (const name of [...Object.keys(GRPC_SERVICES), ...Object.keys(GATEWAYS)]) {
    const w = find("Deployment", name);
    const replicas = w ? Math.max(w.spec.replicas ?? 1, hpaFor(w)?.spec.minReplicas ?? 1) : 0;
    const least = overlay === "scale" && name === "venta-ws-gateway" ? 6 : 2;
    if (replicas < least) fail(`Deployment/${name}`, `${overlay} runs ${replicas} replica(s); at least ${least}`);
  }
}

// ------------------------------------------------------------------ network policy --

const policies = byKind("NetworkPolicy");
if (!policies.length) fail("networkpolicy", "no NetworkPolicy at all");
const denyAll = policies.find((p) => Object.keys(p.spec.podSelector || {}).length === 0 &&
  ["Ingress", "Egress"].every((t) => (p.spec.policyTypes || []).includes(t)) &&
  !(p.spec.ingress || []).length && !(p.spec.egress || []).length);
if (!denyAll) fail("networkpolicy", "no default-deny policy (empty podSelector, Ingress and Egress, no rules)");
for (const w of workloads) {
  const labels = w.spec.template.metadata.labels;
  const mine = policies.filter((p) => p !== denyAll && selects(p.spec.podSelector, labels) &&
    Object.keys(p.spec.podSelector).length > 0);
  if (!mine.length) fail(idOf(w), "no NetworkPolicy of its own: default deny would cut it off");
  const bin = binaryOf(w.spec.template.spec.containers[0]);
  if (!GRPC_SERVICES[bin]) continue;
  // Every ingress rule reaching the gRPC port must come from gateways (or venta-user).
  const c = w.spec.template.spec.containers[0];
  const grpcPort = portNumber(c, "grpc");
  for (const p of mine) {
    for (const rule of p.spec.ingress || []) {
      const ports = rule.ports || [];
      const reachesGrpc = !ports.length || ports.some((x) => x.port === "grpc" || x.port === grpcPort);
      if (!reachesGrpc) continue;
      const from = rule.from || [];
      const ok = from.length > 0 && from.every((f) => !f.ipBlock && !f.namespaceSelector && f.podSelector &&
        (f.podSelector.matchLabels?.["app.kubernetes.io/component"] === "gateway" ||
          (bin === "venta-vendor" && f.podSelector.matchLabels?.["app.kubernetes.io/name"] === "venta-user")));
      if (!ok) fail(idOf(p), `lets more than the gateways reach ${bin}'s gRPC port`);
    }
  }
}

// --------------------------------------------------------------------------- NATS --

const nats = find("StatefulSet", "venta-nats");
if (!nats) fail("nats", "StatefulSet venta-nats missing");
else {
  if (nats.spec.replicas !== 3) fail(idOf(nats), `replicas ${nats.spec.replicas}, want 3`);
  const headless = find("Service", nats.spec.serviceName);
  if (!headless || headless.spec.clusterIP !== "None" || headless.spec.publishNotReadyAddresses !== true) {
    fail(idOf(nats), "serviceName must be a headless Service that publishes not-ready addresses");
  }
  const vol = nats.spec.template.spec.volumes.find((v) => v.configMap);
  const conf = vol && configMaps.get(vol.configMap.name)?.["nats.conf"];
  if (!conf) fail(idOf(nats), "no nats.conf in its ConfigMap");
  else {
    for (let i = 0; i < nats.spec.replicas; i++) {
      const route = `nats-route://venta-nats-${i}.${nats.spec.serviceName}:6222`;
      if (!conf.includes(route)) fail("nats.conf", `no route ${route}`);
    }
    // nats-server itself is the judge of its configuration (scripts/bootstrap installs it),
    // with every file of its ConfigMap (nats-auth.conf) and stand-ins for the passwords
    // the StatefulSet gives it.
    const dir = mkdtempSync(join(tmpdir(), "venta-nats-"));
    const passwords = {};
    for (const e of nats.spec.template.spec.containers[0].env || []) {
      if (e.valueFrom?.secretKeyRef) passwords[e.name] = "vStandIn1";
    }
    try {
      for (const [file, text] of Object.entries(configMaps.get(vol.configMap.name))) {
        writeFileSync(join(dir, file), text);
      }
      execFileSync("nats-server", ["-t", "-c", join(dir, "nats.conf")], {
        env: { ...process.env, POD_NAME: "venta-nats-0", ...passwords }, stdio: "pipe",
      });
    } catch (e) {
      fail("nats.conf", `nats-server -t: ${(e.stderr || e.stdout || e.message).toString().trim()}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  // JetStream (the stream of domain events, docs/events.md): a store on a volume that
  // outlives the pod, and no more stream copies than servers.
  const store = conf && /jetstream\s*\{[^}]*store_dir:\s*([^\s}]+)/.exec(conf);
  if (!store) fail("nats.conf", "no jetstream block with a store_dir");
  else {
    const claims = (nats.spec.volumeClaimTemplates || []).map((c) => c.metadata.name);
    const mounts = nats.spec.template.spec.containers[0].volumeMounts || [];
    const onClaim = mounts.some((m) => claims.includes(m.name) && store[1].startsWith(m.mountPath));
    if (!onClaim) fail(idOf(nats), `JetStream store ${store[1]} is not on a volumeClaimTemplate`);
  }
  const venta = configMaps.get([...configMaps.keys()].find((k) => k.startsWith("venta-config"))) || {};
  const copies = Number(venta.VENTA_EVENTS_REPLICAS || 1);
  if (!(copies >= 1 && copies <= nats.spec.replicas)) {
    fail("VENTA_EVENTS_REPLICAS", `${venta.VENTA_EVENTS_REPLICAS}: want 1..${nats.spec.replicas}`);
  }
  const urls = venta.VENTA_NATS_URL || "";
  for (let i = 0; i < nats.spec.replicas; i++) {
    if (!urls.includes(`nats://venta-nats-${i}.${nats.spec.serviceName}:4222`)) {
      fail("VENTA_NATS_URL", `does not list server venta-nats-${i}`);
    }
  }
}
if (!find("Job", "venta-migrate")) fail("migrate", "Job venta-migrate missing");
const redis = find("Deployment", "venta-redis");
if (!redis) fail("redis", "Deployment venta-redis missing");

// --------------------------------------------------------------------------- mTLS --
// docs/security.md: all processes or none; each reads the Secret of a certificate whose
// only URI SAN is its own SPIFFE id, usable as server and client, from the mesh's issuer.

const certificates = byKind("Certificate");
const processes = workloads.filter((w) => w.kind === "Deployment" &&
  w.spec.template.spec.containers.some((c) => binaryOf(c)?.startsWith("venta-")));
const withTls = processes.filter((w) => w.spec.template.spec.containers.some((c) =>
  (c.env || []).some((e) => e.name === "VENTA_TLS_CERT")));
if (withTls.length && withTls.length !== processes.length) {
  fail("mTLS", `only ${withTls.map((w) => w.metadata.name).join(", ")} have VENTA_TLS_*: a mesh is all TLS or none`);
}
for (const w of withTls) {
  const c = w.spec.template.spec.containers.find((x) => binaryOf(x)?.startsWith("venta-"));
  const bin = binaryOf(c);
  const certFile = (c.env || []).find((e) => e.name === "VENTA_TLS_CERT")?.value || "";
  const mount = (c.volumeMounts || []).find((m) => certFile.startsWith(`${m.mountPath}/`));
  const secretName = w.spec.template.spec.volumes?.find((v) => v.name === mount?.name)?.secret?.secretName;
  const cert = certificates.find((x) => x.spec.secretName === secretName);
  if (!cert) {
    fail(idOf(w), `VENTA_TLS_CERT ${certFile} is not in the Secret of a Certificate`);
    continue;
  }
  const uris = cert.spec.uris || [];
  if (uris.length !== 1 || uris[0] !== `spiffe://venta/${bin}`) {
    fail(idOf(cert), `${bin} reads it: its one URI SAN must be spiffe://venta/${bin}, got ${uris.join(", ")}`);
  }
  for (const u of ["server auth", "client auth"]) {
    if (!(cert.spec.usages || []).includes(u)) fail(idOf(cert), `usages must include ${u}`);
  }
  const issuer = find(cert.spec.issuerRef.kind || "Issuer", cert.spec.issuerRef.name);
  if (!issuer?.spec.ca) fail(idOf(cert), `issuer ${cert.spec.issuerRef.name} is not the mesh's CA Issuer`);
}

// ------------------------------------------------------------- NATS and Redis users --
// docs/security.md: every process logs in as itself, with its password from the Secret;
// the servers know exactly the users of their files, and get every password those name.

// Which processes connect to each (every container gets both URLs from venta-config).
const LOGINS = {
  nats: { user: "VENTA_NATS_USER", password: "VENTA_NATS_PASSWORD",
    by: ["venta-user", "venta-vendor", "venta-location", "venta-ws-gateway"] },
  redis: { user: "VENTA_REDIS_USER", password: "VENTA_REDIS_PASSWORD", by: ["venta-gateway", "venta-ws-gateway"] },
};
const passwordKey = (kind, bin) => `${kind.toUpperCase()}_PASSWORD_${bin.replace(/^venta-/, "").replace(/-/g, "_").toUpperCase()}`;
// Users a server's files define, and the password variables they read.
function serverLogins(kind, files) {
  const users = new Set(), vars = new Set();
  for (const text of Object.values(files || {})) {
    const re = kind === "nats" ? /^\s*user:\s*([\w-]+)/gm : /^user\s+([\w-]+)\s+on\b/gm;
    for (const m of text.matchAll(re)) users.add(m[1]);
    const vre = kind === "nats" ? /password:\s*\$(\w+)/g : /\$\{(\w+)\}/g;
    for (const m of text.matchAll(vre)) vars.add(m[1]);
  }
  return { users, vars };
}
const serverFiles = (w) => {
  const vol = w?.spec.template.spec.volumes?.find((v) => v.configMap && !v.configMap.name.startsWith("venta-config"));
  return vol ? configMaps.get(vol.configMap.name) : null;
};
const natsFiles = serverFiles(nats);
const natsLogins = serverLogins("nats", natsFiles);
const redisLogins = serverLogins("redis", serverFiles(redis));
if (natsFiles && !/^include nats-auth\.conf$/m.test(natsFiles["nats.conf"] || "")) {
  fail("nats.conf", "does not include nats-auth.conf: NATS takes anyone");
}
if (redis && !redisLogins.users.size) fail(idOf(redis), "no ACL users (redis-users.acl): Redis takes anyone");
for (const [server, logins] of [[nats, natsLogins], [redis, redisLogins]]) {
  if (!server) continue;
  const env = resolveEnv(server.spec.template.spec.containers[0], idOf(server));
  for (const v of logins.vars) {
    if (env.get(v)?.source !== "secret" || env.get(v).key !== v) fail(idOf(server), `its users' files need ${v} from ${SECRET}`);
  }
}
for (const w of workloads) {
  for (const c of w.spec.template.spec.containers) {
    const bin = binaryOf(c);
    if (!bin?.startsWith("venta-") || w.kind === "Job") continue;
    const env = resolveEnv(c, `${idOf(w)} container ${c.name}`);
    for (const [kind, v] of Object.entries(LOGINS)) {
      if (!v.by.includes(bin)) continue;
      const where = `${idOf(w)} container ${c.name}`;
      const users = kind === "nats" ? natsLogins.users : redisLogins.users;
      if (env.get(v.user)?.value !== bin) fail(where, `must log in to ${kind === "nats" ? "NATS" : "Redis"} as ${bin} (${v.user})`);
      else if (!users.has(bin)) fail(where, `${kind} has no user ${bin}`);
      const pw = env.get(v.password);
      if (pw?.source !== "secret" || pw.key !== passwordKey(kind, bin)) {
        fail(where, `${v.password} must come from ${SECRET} key ${passwordKey(kind, bin)}`);
      }
    }
  }
}

// ------------------------------------------------------------------------- report --

for (const p of problems) console.log(`FAIL ${p}`);
console.log(`${overlay}: ${objects.length} objects, ${problems.length} problem(s)`);
process.exit(problems.length ? 1 : 0);
