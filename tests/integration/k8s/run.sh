#!/usr/bin/env bash
# tests/integration/k8s/run.sh SOURCE_ROOT — render every overlay of deploy/k8s with
# `kubectl kustomize` and check the objects with check.mjs (schema, probes, limits,
# security context, drain time, PDBs, HPAs, NetworkPolicies, configuration, NATS).
#
# Then it proves that the checks can fail: each mutation below breaks a copy of
# deploy/k8s in one way, and the check must reject the copy with the expected message.
# Needs no server: kubectl only renders, nats-server only parses its configuration.
set -uo pipefail
root=${1:?usage: run.sh SOURCE_ROOT}
here=$root/tests/integration/k8s

for tool in kubectl node nats-server; do
    if ! command -v "$tool" >/dev/null; then
        echo "FAIL: $tool not found (kubectl: any release with kustomize v5, e.g. 1.27+;" \
            "node and nats-server: scripts/bootstrap)" >&2
        exit 1
    fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
api=$root/../shared/API.md
[[ -f $api ]] || api=

# check K8S_DIR OVERLAY: render and check; output in $work/out, status returned.
check() {
    local dir=$1 overlay=$2
    if ! kubectl kustomize "$dir/overlays/$overlay" >"$work/$overlay.yaml" 2>"$work/out"; then
        echo "FAIL $overlay: kubectl kustomize failed" >>"$work/out"
        return 1
    fi
    node "$here/check.mjs" "$work/$overlay.yaml" "$overlay" ${api:+"$api"} >"$work/out" 2>&1
}

passed=0 failed=0
for overlay in dev prod scale prod-mtls; do
    if check "$root/deploy/k8s" "$overlay"; then
        passed=$((passed + 1))
        tail -n 1 "$work/out"
    else
        failed=$((failed + 1))
        cat "$work/out"
    fi
done

# mutation NAME FILE SED_EXPR EXPECTED_MESSAGE [OVERLAY]: break a copy, expect OVERLAY
# (prod unless given) to be rejected.
mutation() {
    local name=$1 file=$2 expr=$3 expect=$4 overlay=${5:-prod}
    rm -rf "$work/k8s"
    cp -r "$root/deploy/k8s" "$work/k8s"
    sed -i -e "$expr" "$work/k8s/$file"
    if cmp -s "$root/deploy/k8s/$file" "$work/k8s/$file"; then
        echo "FAIL mutation '$name': the edit no longer applies to $file (update the test)"
        failed=$((failed + 1))
    elif check "$work/k8s" "$overlay"; then
        echo "FAIL mutation '$name': the broken manifests passed"
        failed=$((failed + 1))
    elif ! grep -qF -- "$expect" "$work/out"; then
        echo "FAIL mutation '$name': rejected, but not for the expected reason ($expect):"
        cat "$work/out"
        failed=$((failed + 1))
    else
        echo "ok   mutation '$name' caught"
        passed=$((passed + 1))
    fi
}

mutation "misspelt readiness probe" base/user.yaml \
    's/^          readinessProbe:/          readinesProbe:/' "needs livenessProbe and readinessProbe"
mutation "unknown field" base/vendor.yaml \
    's/^          readinessProbe:/          readinesProbe:/' "unknown field spec.template.spec.containers[0].readinesProbe"
mutation "writable root filesystem" base/gateway.yaml \
    's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/' "readOnlyRootFilesystem must be true"
mutation "root user" base/migrate-job.yaml \
    's/runAsNonRoot: true/runAsNonRoot: false/' "runAsNonRoot must be true"
mutation "no memory limit" base/vendor.yaml \
    's/limits: {cpu: "1", memory: 256Mi}/limits: {cpu: "1"}/' "resources.limits needs cpu and memory"
mutation "no PodDisruptionBudgets" base/kustomization.yaml \
    '/^  - pdb.yaml$/d' "no PodDisruptionBudget"
mutation "no NetworkPolicies" base/kustomization.yaml \
    '/^  - networkpolicy.yaml$/d' "no NetworkPolicy at all"
mutation "gRPC port open to all" base/networkpolicy.yaml \
    's/matchLabels: {app.kubernetes.io\/component: gateway}/matchLabels: {app.kubernetes.io\/part-of: venta}/' \
    "lets more than the gateways reach"
mutation "variable dropped from the ConfigMap" base/kustomization.yaml \
    '/VENTA_LOCATION_TTL_S=600/d' "VENTA_LOCATION_TTL_S (API.md §1) is not taken from a ConfigMap or Secret"
mutation "literal configuration" base/location.yaml \
    's/^            - name: VENTA_METRICS_ADDR$/            - {name: VENTA_LOG_LEVEL, value: debug}\n&/' \
    "VENTA_LOG_LEVEL is a literal value"
mutation "service listens on its Service name" base/kustomization.yaml \
    's/user.listen=0.0.0.0:50051/user.listen=venta-user:50051/' "VENTA_USER_ADDR must be 0.0.0.0:50051"
mutation "gateway dials a Service that does not exist" base/kustomization.yaml \
    's/VENTA_VENDOR_ADDR=venta-vendor:50052/VENTA_VENDOR_ADDR=vendor:50052/' "is not a Service name:port"
mutation "gRPC Service with a ClusterIP" base/vendor.yaml \
    's/^  clusterIP: None$/  type: ClusterIP/' "Service venta-vendor must be headless"
mutation "grace shorter than the drain" base/ws-gateway.yaml \
    's/terminationGracePeriodSeconds: 30/terminationGracePeriodSeconds: 20/' "terminationGracePeriodSeconds 20 <"
mutation "schema violation" base/user.yaml \
    's/revisionHistoryLimit: 5/revisionHistoryLimit: five/' "schema: data/spec/revisionHistoryLimit must be integer"
mutation "bad NATS configuration" base/nats.conf \
    's/^cluster {/clustr {/' "nats-server -t"
mutation "NATS route missing" base/nats.conf \
    '/venta-nats-2.venta-nats:6222/d' "no route nats-route://venta-nats-2"
mutation "JetStream store on the pod's own disk" base/nats.yaml \
    '/^            - {name: data, mountPath: \/data}$/d' "is not on a volumeClaimTemplate"
mutation "more stream copies than NATS servers" base/kustomization.yaml \
    's/VENTA_EVENTS_REPLICAS=3/VENTA_EVENTS_REPLICAS=5/' "VENTA_EVENTS_REPLICAS"
mutation "scale overlay with three WebSocket gateways" overlays/scale/hpa.yaml \
    's/minReplicas: 6/minReplicas: 3/' "scale runs 3 replica(s); at least 6" scale
mutation "scale overlay with one venta-location" overlays/scale/hpa.yaml \
    '/name: venta-location/{n;n;s/minReplicas: 2/minReplicas: 1/}' "scale runs 1 replica(s); at least 2" scale
mutation "NATS without users" base/nats.conf \
    '/^include nats-auth.conf$/d' "does not include nats-auth.conf"
mutation "a process logs in as another" base/vendor.yaml \
    's/{name: VENTA_NATS_USER, value: venta-vendor}/{name: VENTA_NATS_USER, value: venta-admin}/' \
    "must log in to NATS as venta-vendor"
mutation "another process's password" base/gateway.yaml \
    's/key: REDIS_PASSWORD_GATEWAY}/key: REDIS_PASSWORD_ADMIN}/' \
    "VENTA_REDIS_PASSWORD must come from venta-secrets key REDIS_PASSWORD_GATEWAY"
mutation "Redis without a password it needs" base/redis.yaml \
    's/- name: REDIS_PASSWORD_ADMIN$/- name: REDIS_PASSWORD_ADMINS/' "its users' files need REDIS_PASSWORD_ADMIN"
mutation "NATS user without its password" base/nats-auth.conf \
    's/password: $NATS_PASSWORD_USER$/password: $NATS_PASSWORD_USERS/' "nats-server -t"
mutation "certificate of another process" components/mesh-tls/certificates.yaml \
    's|"spiffe://venta/venta-user"|"spiffe://venta/venta-admin"|' \
    "its one URI SAN must be spiffe://venta/venta-user" prod-mtls
mutation "misspelt Certificate field" components/mesh-tls/certificates.yaml \
    's/^  uris:/  uri:/' "unknown field spec.uri" prod-mtls
mutation "one process without mTLS" components/mesh-tls/processes.yaml \
    '/^  name: venta-vendor$/,/^---$/{/VENTA_TLS_CERT/d}' "a mesh is all TLS or none" prod-mtls
mutation "gRPC readiness left on /metrics" components/mesh-tls/processes.yaml \
    's|path: /readyz, port: metrics|path: /metrics, port: metrics|' \
    "with mTLS, readinessProbe must be GET /readyz on the metrics port" prod-mtls

echo "k8s: $passed passed, $failed failed"
((failed == 0))
