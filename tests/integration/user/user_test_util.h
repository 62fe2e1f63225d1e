/*
 * user_test_util.h — what the integration tests of venta-user (test_user*.c, one
 * executable) share: the running processes and their channels, the bus, SQL lookups,
 * the events seen on evt.user.* and evt.subscription.changed, one call per gRPC method.
 */
#ifndef USER_TEST_UTIL_H
#define USER_TEST_UTIL_H

#include "grpc/health/v1/health.pb-c.h"
#include "venta/events/v1/events.pb-c.h"
#include "venta/user/v1/user.pb-c.h"
#include "venta/vendor/v1/vendor.pb-c.h"
#include "vt_bus.h"
#include "vt_core.h"
#include "vt_db.h"
#include "vt_harness.h"
#include "vt_harness_rpc.h"
#include "vt_rpc.h"
#ifndef VT_TEST_COUNTERS_HERE
#define VT_TEST_SHARED_COUNTERS
#endif
#include "vt_test.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#define DAY_MS (86400LL * 1000)

typedef struct {
    char subject[64];
    char user_id[160];
    char type[32];   /* UserEvent.type */
    char status[32]; /* SubscriptionChanged.status */
    char event_type[64];
    char email[400];
    bool entitled;
} seen_event;

typedef struct {
    char id[200], email[400], first[1024], last[1024], status[32], product[300];
    char entitlement[160], expires_at[40];
    size_t n_entitlements;
    bool entitled;
} user_view;

typedef struct {
    const char *event_id, *id, *email, *first, *last, *type, *provider;
    int64_t created_ms, updated_ms;
} clerk_user;

typedef struct {
    const char *event_id, *type, *user, *original_user, *product, *new_product;
    int64_t expires_ms, ts_ms;
    const char *const *from, *const *to; /* NULL-terminated */
} rc_event;

extern char *db_url;
extern int service_pid, grpc_port, metrics_port;
extern int vendor_pid, vendor_port;
extern vt_rpc_channel *channel;
extern vt_bus *bus;
extern const ProtobufCServiceDescriptor *svc; /* venta.user.v1.UserService */
extern int64_t t0;                            /* a base for provider timestamps */

bool vendor_built(void);

void start_vendor(void);

int health(const char *service);

bool wait_serving(int ms);

PGconn *db(void);

void start_service(void);

/* One value of a query with one text parameter, into out ("(null)" for NULL, "" when
 * no row). */
void sql_value(const char *sql, const char *param, char *out, size_t outlen);

long sql_count(const char *sql, const char *param);

void on_event(const char *subject, const void *data, size_t len, void *user);

/* Events on subject about user_id; *last (may be NULL) gets the latest. */
int count_events(const char *subject, const char *user_id, seen_event *last);

bool wait_events(const char *subject, const char *user_id, int n, int ms);

int get_user(const char *id, user_view *v);

/* UpsertUser: status; *dup the duplicate flag; v the returned user (id "" when none);
 * msg the status message. */
int upsert(const clerk_user *c, bool *dup, user_view *v, char *msg, size_t msglen);

int simple_upsert(const char *event_id, const char *id, const char *email, const char *type,
                  int64_t updated_ms);

int delete_user(const char *event_id, const char *id, bool *deleted, bool *dup);

/* ApplySubscriptionEvent: status; result ("applied"…) and users changed into out. */
int apply(const rc_event *e, char *result, size_t n_users[1], char *msg, size_t msglen);

const char *applied(const char *event_id, const char *type, const char *user, int64_t expires_ms,
                    int64_t ts_ms);

/* A barrier on the event stream: one more user created, and its event seen, means
 * every event published before it has arrived too. */
void event_barrier(void);

/* The cases of each test_user_<feature>.c, in order. */
void user_clerk_tests(void);
void user_subscription_tests(void);
void user_ops_tests(void);

#endif
