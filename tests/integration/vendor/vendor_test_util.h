/*
 * vendor_test_util.h — what the integration tests of venta-vendor (test_vendor*.c, one
 * executable) share: the running service and its channel, the bus, one call per gRPC
 * method, the events seen on evt.vendor.>, /metrics. The status message of the last call
 * is in msg.
 */
#ifndef VENDOR_TEST_UTIL_H
#define VENDOR_TEST_UTIL_H

#include "grpc/health/v1/health.pb-c.h"
#include "venta/events/v1/events.pb-c.h"
#include "venta/vendor/v1/vendor.pb-c.h"
#include "vt_bus.h"
#include "vt_core.h"
#include "vt_db.h"
#include "vt_events.h"
#include "vt_harness.h"
#include "vt_harness_rpc.h"
#include "vt_rpc.h"
#ifndef VT_TEST_COUNTERS_HERE
#define VT_TEST_SHARED_COUNTERS
#endif
#include "vt_test.h"

#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

typedef Venta__Vendor__V1__Vendor Vendor;

typedef struct {
    const char *name, *description, *email, *phone, *website, *profile_image, *owner_id;
    bool is_open;
} profile;

typedef struct {
    char subject[64], type[16], vendor_id[40], owner_id[64], name[128], request_id[64];
    bool is_open;
} seen_event;

typedef struct {
    int n;
    char ids[128][VT_UUID_LEN + 1];
    char next[512];
} page;

extern char *db_url;
extern int service_pid, grpc_port, metrics_port;
extern vt_rpc_channel *channel;
extern vt_bus *bus;
extern char msg[1024]; /* status message of the last call() */

int health(const char *service);

bool wait_serving(int ms);

PGconn *db(void);

void start_service(void);

/* One call as `user` (NULL: no x-user-id). The status message lands in msg; on OK and
 * when out is non-NULL the response is handed over (free with free_msg). */
int call_on(vt_rpc_channel *ch, const char *method, const ProtobufCMessage *req, const char *user,
            const char *request_id, void *out);

int call(const char *method, const ProtobufCMessage *req, const char *user, const char *request_id,
         void *out);

void free_msg(void *m);

int create(const char *user, const profile *p, Vendor **out);

/* Create and return the new id (into id, 37 bytes); requires success. */
void create_id(const char *user, const char *name, const char *description, char *id);

int get(const char *id, Vendor **out);

int del(const char *user, const char *id);

long count_rows(const char *owner);

bool rfc3339_ms(const char *t);

void on_event(const char *subject, const void *data, size_t len, void *user);

/* Wait until n events on subject about vendor_id arrived; copies the n-th into out. */
bool wait_event_n(const char *subject, const char *vendor_id, int n, seen_event *out);

bool wait_event(const char *subject, const char *vendor_id, seen_event *out);

int count_events(const char *subject, const char *vendor_id);

char *metrics_text(void);

double metric_of(int port, const char *series);

double metric(const char *series);

int update(const char *user, Venta__Vendor__V1__UpdateVendorRequest *req, Vendor **out);

int list(const char *owner, int page_size, const char *token, page *out);

int search(const char *q, const double *lat, const double *lng, const double *radius, int limit,
           const char *cursor, page *out);

bool page_has(const page *pg, const char *id);

void publish_location(const char *id, double lat, double lng, int64_t ts,
                      const char *previous_cell);

/* Wait until GetVendor shows a location at lat. */
bool wait_location(const char *id, double lat);

/* The cases of each test_vendor_<feature>.c, in order. */
void vendor_crud_tests(void);
void vendor_list_search_tests(void);
void vendor_search_tests(void);
void vendor_replicas_tests(void);
void vendor_ops_tests(void);

#endif
