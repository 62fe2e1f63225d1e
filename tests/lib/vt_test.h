/*
 * vt_test.h — the few assertion macros our C tests use.
 *
 * A test file defines static void test_x(void) functions and lists them in main()
 * with VT_RUN(test_x). A failed check prints file:line and the values, marks the
 * test failed and carries on, so one run shows every broken expectation; main()
 * returns VT_TEST_RESULT() which meson reads as pass/fail.
 */
#ifndef VT_TEST_H
#define VT_TEST_H

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Per file, unless an executable made of several test files defines
 * VT_TEST_SHARED_COUNTERS in all of them and VT_TEST_COUNTERS_HERE in the one that owns
 * the counters (its main). Unused in a helper file that only uses VT_REQUIRE. */
#if defined(VT_TEST_COUNTERS_HERE)
int vt_test_failures, vt_test_checks;
#elif defined(VT_TEST_SHARED_COUNTERS)
extern int vt_test_failures, vt_test_checks;
#else
static int vt_test_failures __attribute__((unused));
static int vt_test_checks __attribute__((unused));
#endif

#define VT_CHECK(cond)                                                                             \
    do {                                                                                           \
        vt_test_checks++;                                                                          \
        if (!(cond)) {                                                                             \
            vt_test_failures++;                                                                    \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define VT_CHECK_INT(a, b)                                                                         \
    do {                                                                                           \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                      \
        vt_test_checks++;                                                                          \
        if (va_ != vb_) {                                                                          \
            vt_test_failures++;                                                                    \
            fprintf(stderr, "%s:%d: %s == %s: %lld != %lld\n", __FILE__, __LINE__, #a, #b, va_,    \
                    vb_);                                                                          \
        }                                                                                          \
    } while (0)

#define VT_CHECK_STR(a, b)                                                                         \
    do {                                                                                           \
        const char *sa_ = (a), *sb_ = (b);                                                         \
        vt_test_checks++;                                                                          \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0) {                                               \
            vt_test_failures++;                                                                    \
            fprintf(stderr, "%s:%d: %s == %s: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a, #b,     \
                    sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");                                   \
        }                                                                                          \
    } while (0)

#define VT_CHECK_NEAR(a, b, eps)                                                                   \
    do {                                                                                           \
        double da_ = (a), db_ = (b);                                                               \
        vt_test_checks++;                                                                          \
        if (!(fabs(da_ - db_) <= (eps))) {                                                         \
            vt_test_failures++;                                                                    \
            fprintf(stderr, "%s:%d: %s ~ %s: %.9g vs %.9g\n", __FILE__, __LINE__, #a, #b, da_,     \
                    db_);                                                                          \
        }                                                                                          \
    } while (0)

/* Stop the whole test binary: for setup that later checks depend on. */
#define VT_REQUIRE(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: required: %s\n", __FILE__, __LINE__, #cond);                   \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define VT_RUN(fn)                                                                                 \
    do {                                                                                           \
        int before_ = vt_test_failures;                                                            \
        fn();                                                                                      \
        fprintf(stderr, "%s %s\n", vt_test_failures == before_ ? "ok  " : "FAIL", #fn);            \
    } while (0)

#define VT_TEST_RESULT()                                                                           \
    (fprintf(stderr, "%d checks, %d failed\n", vt_test_checks, vt_test_failures),                  \
     vt_test_failures ? 1 : 0)

/* Run fn in a child process with its stderr captured into out (NUL-terminated); the
 * child's exit status, or -1 when it did not exit (a signal). For code that exits. */
static inline int vt_test_run_child(void (*fn)(void), char *out, size_t outlen)
{
    int fds[2];
    VT_REQUIRE(pipe(fds) == 0);
    pid_t pid = fork();
    VT_REQUIRE(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        fn();
        _exit(0);
    }
    close(fds[1]);
    size_t used = 0;
    ssize_t n;
    while ((n = read(fds[0], out + used, outlen - 1 - used)) > 0)
        used += (size_t)n;
    out[used] = '\0';
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#endif
