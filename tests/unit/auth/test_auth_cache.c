/*
 * test_auth_cache.c — libs/auth: the verified-token cache (hits, bounds, threads) and
 * the verifier's configuration from the environment.
 *
 * RSA keys, token signing and verifiers come from auth_test_util.c.
 */
#include "auth_test_util.h"
#include "vt_test.h"

#include <pthread.h>

/* ---- verified-token cache ---- */

static void test_verifier_cache(void)
{
    vt_auth_verifier *v = pem_verifier(pem_a, NULL, NULL, 5, 64);
    char *t = std_token(key_a, ""); /* exp NOW+60, nbf/iat NOW-10 */
    VT_CHECK_INT(verify_at(v, t, NOW), VT_OK);
    VT_CHECK(!ident.cached);
    VT_CHECK_INT(verify_at(v, t, NOW + 1), VT_OK);
    VT_CHECK(ident.cached);
    VT_CHECK_STR(ident.sub, "user_2abc");
    VT_CHECK_INT(ident.exp, NOW + 60);
    /* The cache answers exactly where verification would: up to exp + skew... */
    VT_CHECK_INT(verify_at(v, t, NOW + 64), VT_OK);
    VT_CHECK(ident.cached);
    VT_CHECK_INT(verify_at(v, t, NOW + 65), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "token expired");
    VT_CHECK_STR(ident.sub, "");
    /* ...and not before nbf - skew. */
    VT_CHECK_INT(verify_at(v, t, NOW - 16), VT_UNAUTHENTICATED);
    VT_CHECK_STR(err, "token not yet valid");
    /* A failed token is never cached; a tampered copy is a different key. */
    char *bad = strdup(t);
    bad[strlen(bad) - 5] ^= 1;
    VT_CHECK_INT(verify_at(v, bad, NOW), VT_UNAUTHENTICATED);
    VT_CHECK_INT(verify_at(v, bad, NOW), VT_UNAUTHENTICATED);
    vt_auth_cache_stats st;
    vt_auth_token_cache_stats(vt_auth_verifier_cache(v), &st);
    VT_CHECK_INT(st.hits, 2);
    VT_CHECK_INT(st.inserts, 1);
    free(bad);
    free(t);
    vt_auth_verifier_free(v);
    /* cache_entries 0: no cache. */
    v = pem_verifier(pem_a, NULL, NULL, 5, 0);
    VT_CHECK(vt_auth_verifier_cache(v) == NULL);
    t = std_token(key_a, "");
    VT_CHECK_INT(verify_at(v, t, NOW), VT_OK);
    VT_CHECK_INT(verify_at(v, t, NOW), VT_OK);
    VT_CHECK(!ident.cached);
    free(t);
    vt_auth_verifier_free(v);
}

/* A cache of max_entries, or NULL when vt_auth_token_cache_new refuses. */
static vt_auth_token_cache *cache_of(size_t max_entries)
{
    vt_auth_token_cache_opts o = {.max_entries = max_entries};
    vt_auth_token_cache *c = NULL;
    char why[100];
    return vt_auth_token_cache_new(&o, &c, why, sizeof why) == VT_OK ? c : NULL;
}

static void test_token_cache_bounds(void)
{
    vt_auth_token_cache_opts too_big = {.max_entries = ((size_t)1 << 20) + 1};
    vt_auth_token_cache *c = NULL;
    char why[100];
    VT_CHECK_INT(vt_auth_token_cache_new(&too_big, &c, why, sizeof why), VT_INVALID_ARGUMENT);
    VT_CHECK_STR(why, "token cache size must be 1..1048576");
    VT_CHECK(c == NULL);
    /* Zeroed options: the default size. */
    VT_REQUIRE((c = cache_of(0)) != NULL);
    VT_CHECK_INT(vt_auth_token_cache_capacity(c), VT_AUTH_DEFAULT_CACHE_ENTRIES);
    vt_auth_token_cache_free(c);
    c = cache_of(8);
    VT_REQUIRE(c);
    VT_CHECK_INT(vt_auth_token_cache_capacity(c), 8);
    vt_auth_identity id = {.exp = 1000};
    char tok[32];
    for (int i = 0; i < 100; i++) {
        snprintf(tok, sizeof(tok), "token-%d", i);
        snprintf(id.sub, sizeof(id.sub), "user_%d", i);
        vt_auth_token_cache_put(c, tok, strlen(tok), &id, 0, 1000 + i, 10);
    }
    vt_auth_cache_stats st;
    vt_auth_token_cache_stats(c, &st);
    VT_CHECK_INT(st.entries, 8);
    VT_CHECK_INT(st.inserts, 100);
    VT_CHECK_INT(st.evictions, 92);
    /* The ones that expire last survive a full set. */
    vt_auth_identity got;
    VT_CHECK(vt_auth_token_cache_get(c, "token-99", 8, 10, &got));
    VT_CHECK_STR(got.sub, "user_99");
    VT_CHECK(!vt_auth_token_cache_get(c, "token-0", 7, 10, &got));
    /* Expired entries are never returned and go first when room is needed. */
    VT_CHECK(!vt_auth_token_cache_get(c, "token-99", 8, 1099, &got));
    VT_CHECK(vt_auth_token_cache_get(c, "token-99", 8, 1098, &got));
    VT_CHECK(!vt_auth_token_cache_get(c, "token-99", 8, -1, &got)); /* before valid_from */
    /* Nothing is stored past its window, nor a sub that does not fit inline. */
    vt_auth_token_cache_put(c, "late", 4, &id, 0, 50, 50);
    VT_CHECK(!vt_auth_token_cache_get(c, "late", 4, 49, &got));
    memset(id.sub, 's', VT_AUTH_CACHE_SUB_MAX + 1);
    id.sub[VT_AUTH_CACHE_SUB_MAX + 1] = '\0';
    vt_auth_token_cache_put(c, "longsub", 7, &id, 0, 5000, 10);
    VT_CHECK(!vt_auth_token_cache_get(c, "longsub", 7, 10, &got));
    id.sub[VT_AUTH_CACHE_SUB_MAX] = '\0';
    vt_auth_token_cache_put(c, "maxsub", 6, &id, 0, 5000, 10);
    VT_CHECK(vt_auth_token_cache_get(c, "maxsub", 6, 10, &got));
    VT_CHECK_INT(strlen(got.sub), VT_AUTH_CACHE_SUB_MAX);
    /* Re-inserting a token refreshes its slot instead of taking another. */
    vt_auth_token_cache_stats(c, &st);
    size_t before = st.entries;
    vt_auth_token_cache_put(c, "maxsub", 6, &id, 0, 6000, 10);
    vt_auth_token_cache_stats(c, &st);
    VT_CHECK_INT(st.entries, before);
    vt_auth_token_cache_free(c);

    c = cache_of(1000);
    VT_CHECK_INT(vt_auth_token_cache_capacity(c), 1000);
    vt_auth_token_cache_free(c);
    c = cache_of(3);
    VT_CHECK_INT(vt_auth_token_cache_capacity(c), 3);
    vt_auth_token_cache_free(c);
}

typedef struct {
    vt_auth_token_cache *c;
    int seed;
    int wrong;
} cache_worker;

static void *cache_thread(void *arg)
{
    cache_worker *w = arg;
    char tok[32], want[32];
    vt_auth_identity id = {.exp = 100}, got;
    for (int i = 0; i < 4000; i++) {
        int k = (i * 7 + w->seed) % 200;
        snprintf(tok, sizeof(tok), "tok-%d", k);
        snprintf(want, sizeof(want), "user_%d", k);
        if (i % 3 == 0) {
            strcpy(id.sub, want);
            vt_auth_token_cache_put(w->c, tok, strlen(tok), &id, 0, 100, 1);
        } else if (vt_auth_token_cache_get(w->c, tok, strlen(tok), 1, &got) &&
                   strcmp(got.sub, want) != 0) {
            w->wrong++;
        }
    }
    return NULL;
}

static void test_token_cache_threads(void)
{
    vt_auth_token_cache *c = cache_of(64);
    pthread_t th[4];
    cache_worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (cache_worker){c, i * 13, 0};
        VT_REQUIRE(pthread_create(&th[i], NULL, cache_thread, &w[i]) == 0);
    }
    int wrong = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        wrong += w[i].wrong;
    }
    VT_CHECK_INT(wrong, 0);
    vt_auth_cache_stats st;
    vt_auth_token_cache_stats(c, &st);
    VT_CHECK(st.entries <= 64);
    VT_CHECK(st.hits > 0);
    vt_auth_token_cache_free(c);
}

/* ---- configuration from the environment ---- */

static void clear_env(void)
{
    unsetenv("CLERK_JWT_KEY");
    unsetenv("VENTA_JWKS_FILE");
    unsetenv("VENTA_JWT_ISSUER");
    unsetenv("VENTA_JWT_AUTHORIZED_PARTIES");
    unsetenv("VENTA_JWT_CLOCK_SKEW_S");
}

static void test_verifier_from_env(void)
{
    vt_auth_verifier *v = NULL;
    const char *var = NULL;
    char *escaped = replace_all(pem_a, "\n", "\\n");

    clear_env();
    VT_CHECK_INT(vt_auth_verifier_new_from_env(&v, &var, err, sizeof(err)), VT_INVALID_ARGUMENT);
    VT_CHECK_STR(var, "CLERK_JWT_KEY");

    setenv("CLERK_JWT_KEY", escaped, 1);
    setenv("VENTA_JWT_ISSUER", "https://clerk.venta.test", 1);
    setenv("VENTA_JWT_AUTHORIZED_PARTIES", "http://localhost:3000", 1);
    setenv("VENTA_JWT_CLOCK_SKEW_S", "0", 1);
    VT_CHECK_INT(vt_auth_verifier_new_from_env(&v, &var, err, sizeof(err)), VT_OK);
    VT_REQUIRE(v);
    char *t =
        std_token(key_a, ",\"iss\":\"https://clerk.venta.test\",\"azp\":\"http://localhost:3000\"");
    VT_CHECK_INT(verify_at(v, t, NOW), VT_OK);
    VT_CHECK_INT(verify_at(v, t, NOW + 60), VT_UNAUTHENTICATED); /* skew 0 applied */
    free(t);
    t = std_token(key_a, ",\"iss\":\"https://clerk.venta.test\",\"azp\":\"http://evil.test\"");
    VT_CHECK_INT(verify_at(v, t, NOW), VT_UNAUTHENTICATED);
    free(t);
    vt_auth_verifier_free(v);

    setenv("VENTA_JWT_CLOCK_SKEW_S", "soon", 1);
    VT_CHECK_INT(vt_auth_verifier_new_from_env(&v, &var, err, sizeof(err)), VT_INVALID_ARGUMENT);
    VT_CHECK_STR(var, "VENTA_JWT_CLOCK_SKEW_S");
    unsetenv("VENTA_JWT_CLOCK_SKEW_S");

    setenv("VENTA_JWKS_FILE", VT_AUTH_FIXTURES "/jose_jwks.json", 1);
    VT_CHECK_INT(vt_auth_verifier_new_from_env(&v, &var, err, sizeof(err)), VT_INVALID_ARGUMENT);
    VT_CHECK_STR(var, "VENTA_JWKS_FILE");
    VT_CHECK_STR(err, "set only one of CLERK_JWT_KEY and VENTA_JWKS_FILE");

    setenv("CLERK_JWT_KEY", "-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----", 1);
    unsetenv("VENTA_JWKS_FILE");
    VT_CHECK_INT(vt_auth_verifier_new_from_env(&v, &var, err, sizeof(err)), VT_INVALID_ARGUMENT);
    VT_CHECK_STR(var, "CLERK_JWT_KEY");

    unsetenv("CLERK_JWT_KEY");
    setenv("VENTA_JWKS_FILE", VT_AUTH_FIXTURES "/jose_jwks.json", 1);
    setenv("VENTA_JWT_ISSUER", "https://clerk.example.test", 1);
    VT_CHECK_INT(vt_auth_verifier_new_from_env(&v, &var, err, sizeof(err)), VT_OK);
    t = read_fixture("jose_rs384.jwt");
    VT_CHECK_INT(verify_at(v, t, 1700000100), VT_OK);
    VT_CHECK_STR(ident.sub, "user_2jose");
    free(t);
    vt_auth_verifier_free(v);

    setenv("VENTA_JWT_AUTHORIZED_PARTIES", ",", 1);
    VT_CHECK_INT(vt_auth_verifier_new_from_env(&v, &var, err, sizeof(err)), VT_INVALID_ARGUMENT);
    VT_CHECK_STR(var, "VENTA_JWT_AUTHORIZED_PARTIES");
    unsetenv("VENTA_JWT_AUTHORIZED_PARTIES");

    setenv("VENTA_JWKS_FILE", VT_AUTH_FIXTURES "/no-such-file.json", 1);
    VT_CHECK_INT(vt_auth_verifier_new_from_env(&v, &var, err, sizeof(err)), VT_INVALID_ARGUMENT);
    VT_CHECK_STR(var, "VENTA_JWKS_FILE");
    VT_CHECK(strstr(err, "no-such-file.json") != NULL);
    setenv("VENTA_JWKS_FILE", VT_AUTH_FIXTURES "/jose_public.pem", 1);
    VT_CHECK_INT(vt_auth_verifier_new_from_env(&v, &var, err, sizeof(err)), VT_INVALID_ARGUMENT);
    VT_CHECK_STR(var, "VENTA_JWKS_FILE");
    VT_CHECK(v == NULL);
    clear_env();
    free(escaped);
}

int main(void)
{
    auth_test_keys_init();

    VT_RUN(test_verifier_cache);
    VT_RUN(test_token_cache_bounds);
    VT_RUN(test_token_cache_threads);
    VT_RUN(test_verifier_from_env);

    auth_test_keys_free();
    return VT_TEST_RESULT();
}
