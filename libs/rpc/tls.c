/*
 * tls.c — mTLS credentials for the server and the channel, from grpc core's own TLS
 * (docs/security.md).
 *
 * Both sides take their certificate, key and the mesh CA from a file-watcher provider:
 * grpc re-reads the three files every refresh_s seconds and new handshakes use what it
 * read last, so rotating a certificate on disk needs no restart (connections already
 * up keep the certificate they were made with). The server requires a client
 * certificate and verifies it against the CA during the handshake; a connection
 * without one, or with one from another CA, never carries a call.
 *
 * After the chain has been verified, a verifier of ours checks the peer's identity: its
 * certificate must carry exactly one SPIFFE id of the mesh (a URI SAN starting with
 * VT_RPC_SPIFFE_PREFIX), and on the client side it must be the one of the service the
 * channel was made for. Hostnames are not checked: in the mesh a name or an address says
 * where a service runs, its certificate says which one it is. What a peer may call is
 * decided per call by the allow-list (allow.c).
 *
 * vt_rpc_tls_from_env checks the files once at start with OpenSSL (readable, key matching
 * the certificate, chain to the CA, the process's own SPIFFE id), so that a wrong path
 * stops the process with a line naming the variable instead of failing every handshake.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/string_util.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "rpc_internal.h"

#define DEFAULT_REFRESH_S 60

/* ---- the identity check after the handshake ---- */

typedef struct {
    grpc_tls_certificate_verifier_external ext;
    char *expect; /* the SPIFFE id the peer must carry; NULL: any of the mesh */
} spiffe_verifier;

static int spiffe_verify(void *user, grpc_tls_custom_verification_check_request *req,
                         grpc_tls_on_custom_verification_check_done_cb cb, void *cb_arg,
                         grpc_status_code *status, char **details)
{
    (void)cb;
    (void)cb_arg;
    const spiffe_verifier *v = user;
    const char *found = NULL;
    int count = 0;
    for (size_t i = 0; i < req->peer_info.san_names.uri_names_size; i++) {
        const char *uri = req->peer_info.san_names.uri_names[i];
        if (uri && strncmp(uri, VT_RPC_SPIFFE_PREFIX, strlen(VT_RPC_SPIFFE_PREFIX)) == 0) {
            found = uri;
            count++;
        }
    }
    char why[300] = "";
    if (count != 1 || !found[strlen(VT_RPC_SPIFFE_PREFIX)])
        snprintf(why, sizeof why, "the peer's certificate must carry one SPIFFE id of the mesh");
    else if (v->expect && strcmp(found, v->expect) != 0)
        snprintf(why, sizeof why, "the peer is %.120s, not %.120s", found, v->expect);
    *status = why[0] ? GRPC_STATUS_UNAUTHENTICATED : GRPC_STATUS_OK;
    *details = why[0] ? gpr_strdup(why) : NULL;
    return 1; /* answered synchronously */
}

static void spiffe_cancel(void *user, grpc_tls_custom_verification_check_request *req)
{
    (void)user;
    (void)req;
}

static void spiffe_destruct(void *user)
{
    spiffe_verifier *v = user;
    free(v->expect);
    free(v);
}

/* The options common to both sides: the three files, watched, and our verifier. NULL
 * when out of memory. expect_name: the peer's name (client side) or NULL. */
static grpc_tls_credentials_options *tls_options(const vt_rpc_tls *tls, const char *expect_name)
{
    spiffe_verifier *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    if (expect_name) {
        size_t n = strlen(VT_RPC_SPIFFE_PREFIX) + strlen(expect_name) + 1;
        v->expect = malloc(n);
        if (!v->expect) {
            free(v);
            return NULL;
        }
        snprintf(v->expect, n, "%s%s", VT_RPC_SPIFFE_PREFIX, expect_name);
    }
    v->ext.user_data = v;
    v->ext.verify = spiffe_verify;
    v->ext.cancel = spiffe_cancel;
    v->ext.destruct = spiffe_destruct;
    grpc_tls_certificate_verifier *verifier =
        grpc_tls_certificate_verifier_external_create(&v->ext);

    unsigned refresh = tls->refresh_s > 0 ? (unsigned)tls->refresh_s : DEFAULT_REFRESH_S;
    grpc_tls_certificate_provider *provider = grpc_tls_certificate_provider_file_watcher_create(
        tls->key_file, tls->cert_file, tls->ca_file, refresh);
    grpc_tls_credentials_options *o = grpc_tls_credentials_options_create();
    grpc_tls_credentials_options_set_certificate_provider(o, provider);
    grpc_tls_credentials_options_watch_root_certs(o);
    grpc_tls_credentials_options_watch_identity_key_cert_pairs(o);
    grpc_tls_credentials_options_set_certificate_verifier(o, verifier);
    grpc_tls_certificate_provider_release(provider);
    grpc_tls_certificate_verifier_release(verifier);
    return o;
}

grpc_server_credentials *rpc_tls_server_credentials(const vt_rpc_tls *tls)
{
    grpc_tls_credentials_options *o = tls_options(tls, NULL);
    if (!o)
        return NULL;
    grpc_tls_credentials_options_set_cert_request_type(
        o, GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    return grpc_tls_server_credentials_create(o);
}

grpc_channel_credentials *rpc_tls_channel_credentials(const vt_rpc_tls *tls,
                                                      const char *server_name)
{
    grpc_tls_credentials_options *o = tls_options(tls, server_name);
    if (!o)
        return NULL;
    grpc_tls_credentials_options_set_verify_server_cert(o, 1);
    /* Calls carry no host of their own to check against the certificate: the verifier
     * has checked the server's identity once per connection. */
    grpc_tls_credentials_options_set_check_call_host(o, 0);
    return grpc_tls_credentials_create(o);
}

/* ---- configuration, checked once at start ---- */

/* The one SPIFFE id of the mesh in cert, copied into out; false when it has none or
 * several. */
static bool cert_spiffe_id(X509 *cert, char *out, size_t outlen)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    int count = 0;
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        if (gn->type != GEN_URI)
            continue;
        const char *uri = (const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
        int len = ASN1_STRING_length(gn->d.uniformResourceIdentifier);
        size_t plen = strlen(VT_RPC_SPIFFE_PREFIX);
        if ((size_t)len > plen && strncmp(uri, VT_RPC_SPIFFE_PREFIX, plen) == 0) {
            snprintf(out, outlen, "%.*s", len, uri);
            count++;
        }
    }
    GENERAL_NAMES_free(names);
    return count == 1;
}

/* Whether cert chains to a CA of ca_file; why gets the reason when not. */
static bool cert_chains_to(X509 *cert, const char *ca_file, char *why, size_t whylen)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    bool ok = false;
    if (!store || !ctx || X509_STORE_load_file(store, ca_file) != 1)
        snprintf(why, whylen, "cannot read the CA bundle");
    else if (X509_STORE_CTX_init(ctx, store, cert, NULL) != 1)
        snprintf(why, whylen, "out of memory");
    else if (X509_verify_cert(ctx) != 1)
        snprintf(why, whylen, "%s", X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    else
        ok = true;
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return ok;
}

bool vt_rpc_tls_from_env(const char *name, vt_rpc_tls *out)
{
    memset(out, 0, sizeof *out);
    out->ca_file = vt_config_str("VENTA_TLS_CA", NULL);
    out->cert_file = vt_config_str("VENTA_TLS_CERT", NULL);
    out->key_file = vt_config_str("VENTA_TLS_KEY", NULL);
    out->refresh_s = (int)vt_config_int("VENTA_TLS_REFRESH_S", DEFAULT_REFRESH_S, 1, 86400);
    if (!out->ca_file && !out->cert_file && !out->key_file) {
        vt_warn(NULL, "gRPC without TLS (VENTA_TLS_CA, VENTA_TLS_CERT, VENTA_TLS_KEY unset): "
                      "any process that reaches a gRPC port is trusted; development only");
        return false;
    }
#define TOGETHER "is required: VENTA_TLS_CA, VENTA_TLS_CERT and VENTA_TLS_KEY go together"
    if (!out->ca_file)
        vt_config_fail("VENTA_TLS_CA", TOGETHER);
    if (!out->cert_file)
        vt_config_fail("VENTA_TLS_CERT", TOGETHER);
    if (!out->key_file)
        vt_config_fail("VENTA_TLS_KEY", TOGETHER);
#undef TOGETHER

    char why[400], id[300];
    int bad = vt_tls_pair_check(out->cert_file, out->key_file, why, sizeof why);
    if (bad == 1)
        vt_config_fail("VENTA_TLS_CERT", why);
    if (bad)
        vt_config_fail("VENTA_TLS_KEY", why);
    BIO *bio = BIO_new_file(out->cert_file, "r");
    X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!cert) /* replaced between the two reads */
        vt_config_fail("VENTA_TLS_CERT", "is not a readable PEM certificate");
    if (!cert_chains_to(cert, out->ca_file, why, sizeof why)) {
        char reason[512];
        snprintf(reason, sizeof reason, "does not verify against VENTA_TLS_CA: %s", why);
        vt_config_fail("VENTA_TLS_CERT", reason);
    }
    if (!cert_spiffe_id(cert, id, sizeof id))
        vt_config_fail("VENTA_TLS_CERT",
                       "must carry exactly one URI SAN " VT_RPC_SPIFFE_PREFIX "<name>");
    if (strncmp(id + strlen(VT_RPC_SPIFFE_PREFIX), name, strlen(name) + 1) != 0) {
        snprintf(why, sizeof why, "names %.200s, not %s%.60s", id, VT_RPC_SPIFFE_PREFIX, name);
        vt_config_fail("VENTA_TLS_CERT", why);
    }
    X509_free(cert);
    vt_info(NULL, "gRPC with mTLS as %s (CA %s, files checked every %d s)", id, out->ca_file,
            out->refresh_s);
    return true;
}
