/*
 * user_service.h — venta.user.v1.UserService over libs/rpc: what the handler files
 * (handlers.c, subscriptions.c) share.
 *
 * Every webhook-driven method runs as one database transaction that records the
 * provider's event id and applies its effect together; the domain events it causes are
 * collected while the transaction runs and written to account.outbox in that same
 * transaction (user_tx), so a committed change always gets its events and a rolled-back
 * or retried attempt gets none; libs/outbox's relay publishes them on NATS.
 */
#ifndef VENTA_USER_SERVICE_H
#define VENTA_USER_SERVICE_H

#include "venta/events/v1/events.pb-c.h"
#include "venta/user/v1/user.pb-c.h"
#include "vt_bus.h"
#include "vt_db.h"
#include "vt_metrics.h"
#include "vt_outbox.h"
#include "vt_rpc.h"
#include "vt_service.h"

enum { EV_USER_CREATED, EV_USER_UPDATED, EV_USER_DELETED, EV_SUBSCRIPTION_CHANGED, EV_COUNT };

typedef struct user_service user_service;

struct user_service {
    vt_outbox_relay *outbox; /* kicked after a commit that wrote events */
    vt_rpc_channel *vendor;  /* VENTA_VENDOR_ADDR */
    int vendor_timeout_ms;   /* cap of a ListVendors call, below the caller's deadline */

    vt_counter *duplicates[2]; /* clerk, revenuecat */
};

/* Registers every UserService method on svc (counted and timed by libs/service), with
 * app as their state, and the webhook metrics; takes svc's outbox relay. */
int user_service_register(user_service *app, vt_service *svc);

/* ---- shared by the handler files ---- */

/* Domain events of the running transaction. Memory comes from the call's arena. */
typedef struct {
    int kinds[128];
    ProtobufCMessage *msgs[128];
    size_t n, dropped;
} outbox;

/* Queue evt.user.<type> for user_id (profile fields may be NULL). */
void outbox_user_event(vt_rpc_ctx *ctx, outbox *o, int kind, const char *user_id,
                       const Venta__User__V1__User *profile);
/* Queue evt.subscription.changed from a user's state after the change. */
void outbox_subscription_changed(vt_rpc_ctx *ctx, outbox *o, const Venta__User__V1__User *user,
                                 int64_t expires_ms, const char *event_type,
                                 const char *provider_event_id);
/* Run fn (with job) as one READ COMMITTED transaction, retried on serialization
 * failures, and write the events it queued in ob to account.outbox in that same
 * transaction. 0 or the transaction's status with err. */
int user_tx(vt_rpc_ctx *ctx, vt_db_tx_fn fn, void *job, outbox *ob, char *err, size_t errlen);
/* After user_tx committed: wake the relay (and log events that did not fit in ob). */
void outbox_committed(user_service *svc, vt_rpc_ctx *ctx, const outbox *o);

/* Read a live user with its subscription into a new arena User: VT_OK, VT_NOT_FOUND,
 * or a database status with err. expires_ms (may be NULL) gets expires_at in ms. */
int user_load(vt_rpc_ctx *ctx, vt_db_conn *c, const char *id, Venta__User__V1__User **out,
              int64_t *expires_ms, char *err, size_t errlen);

/* Record a webhook event in the current transaction; *first is false when it had been
 * recorded before (a redelivery). */
int user_record_event(vt_db_conn *c, const char *provider, const char *event_id, const char *type,
                      bool *first, char *err, size_t errlen);
/* Lock an existing user row (FOR UPDATE): its id (VT_UUID_LEN + 1 bytes), whether it
 * is deleted, deleted_at and clerk_updated_at in ms (0 when NULL). */
int user_lock_row(vt_db_conn *c, const char *clerk_id, char *row_id, bool *deleted,
                  int64_t *deleted_ms, int64_t *version_ms, char *err, size_t errlen);

int apply_subscription_event(vt_rpc_ctx *ctx, const ProtobufCMessage *in, ProtobufCMessage *out,
                             void *user);

#endif
