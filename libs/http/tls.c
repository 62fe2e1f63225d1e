/*
 * tls.c — TLS at the two edges (docs/security.md, "TLS at the edges"), for deployments
 * without an ingress that terminates it: with VENTA_HTTP_TLS_CERT and
 * VENTA_HTTP_TLS_KEY set, a gateway's libwebsockets vhost serves HTTPS (and WSS, and
 * socket.io over WSS, on the WebSocket edge) on its usual port, plaintext no more. The
 * files are checked at start (vt_tls_pair_check) so that a wrong one stops the process
 * naming the variable; lws reads them when it creates the vhost.
 */
#include "vt_http.h"

bool vt_http_tls_from_env(vt_http_tls *out)
{
    out->cert_file = vt_config_str("VENTA_HTTP_TLS_CERT", NULL);
    out->key_file = vt_config_str("VENTA_HTTP_TLS_KEY", NULL);
    if (!out->cert_file && !out->key_file)
        return false;
    if (!out->cert_file)
        vt_config_fail("VENTA_HTTP_TLS_CERT",
                       "is required: VENTA_HTTP_TLS_CERT and VENTA_HTTP_TLS_KEY go together");
    if (!out->key_file)
        vt_config_fail("VENTA_HTTP_TLS_KEY",
                       "is required: VENTA_HTTP_TLS_CERT and VENTA_HTTP_TLS_KEY go together");
    char why[200];
    int bad = vt_tls_pair_check(out->cert_file, out->key_file, why, sizeof why);
    if (bad)
        vt_config_fail(bad == 1 ? "VENTA_HTTP_TLS_CERT" : "VENTA_HTTP_TLS_KEY", why);
    vt_info(NULL, "edge with TLS (certificate %s)", out->cert_file);
    return true;
}

void vt_http_tls_apply(const vt_http_tls *tls, struct lws_context_creation_info *info)
{
    if (!tls)
        return;
    info->options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info->ssl_cert_filepath = tls->cert_file;
    info->ssl_private_key_filepath = tls->key_file;
    /* No HTTP/2 at the edges: both gateways speak HTTP/1.1 (and WebSocket upgrades). */
    info->alpn = "http/1.1";
}
