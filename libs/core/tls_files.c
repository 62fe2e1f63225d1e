/*
 * tls_files.c — the one check of a certificate and key file pair, for everything that
 * reads one from the environment (libs/rpc's mTLS, libs/http's edge TLS): both readable
 * PEM, and the key the certificate's. Done at start so that a wrong file stops the
 * process with a line naming the variable, not at the first handshake.
 */
#include "vt_core.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>

int vt_tls_pair_check(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
    BIO *bio = BIO_new_file(cert_file, "r");
    X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!cert) {
        snprintf(err, errlen, "is not a readable PEM certificate");
        return 1;
    }
    bio = BIO_new_file(key_file, "r");
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    int bad = 0;
    if (!key) {
        snprintf(err, errlen, "is not a readable PEM private key");
        bad = 2;
    } else if (X509_check_private_key(cert, key) != 1) {
        snprintf(err, errlen, "does not match the certificate");
        bad = 2;
    }
    EVP_PKEY_free(key);
    X509_free(cert);
    return bad;
}
