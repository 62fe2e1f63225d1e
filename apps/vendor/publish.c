/*
 * publish.c — see publish.h.
 */
#include "publish.h"

#include "venta/events/v1/events.pb-c.h"
#include "vt_core.h"
#include "vt_events.h"

#include <stdio.h>

static const char *const type_names[3] = {"created", "updated", "deleted"};

void vendor_publisher_init(vendor_publisher *p, vt_bus *bus, vt_metrics *metrics)
{
    p->bus = bus;
    for (int i = 0; i < 3; i++) {
        char labels[32];
        snprintf(labels, sizeof labels, "type=\"%s\"", type_names[i]);
        p->published[i] = vt_metrics_counter(metrics, "venta_vendor_events_published_total",
                                             "Vendor domain events published on NATS.", labels);
        p->failed[i] =
            vt_metrics_counter(metrics, "venta_vendor_events_failed_total",
                               "Vendor domain events that could not be published.", labels);
    }
}

int vendor_publish(vendor_publisher *p, vendor_event_type type, const char *vendor_id,
                   const char *owner_id, const char *name, bool is_open, const char *request_id)
{
    char subject[32];
    snprintf(subject, sizeof subject, "evt.vendor.%s", type_names[type]);
    Venta__Events__V1__VendorEvent ev = VENTA__EVENTS__V1__VENDOR_EVENT__INIT;
    ev.type = (char *)type_names[type];
    ev.vendor_id = (char *)vendor_id;
    ev.owner_id = (char *)owner_id;
    ev.name = (char *)name;
    ev.is_open = is_open;
    ev.ts = vt_now_ms();
    ev.request_id = (char *)(request_id ? request_id : "");
    int rc = vt_events_publish_message(p->bus, subject, &ev.base);
    if (rc == VT_OK) {
        vt_counter_inc(p->published[type]);
    } else {
        vt_counter_inc(p->failed[type]);
        vt_warn(NULL, "%s for vendor %s not published: %s", subject, vendor_id, vt_status_name(rc));
    }
    return rc;
}
