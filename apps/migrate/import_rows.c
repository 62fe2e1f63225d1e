/*
 * import_rows.c — see import_rows.h.
 *
 * Subscription statuses. The original only ever wrote Active (on RevenueCat's
 * INITIAL_PURCHASE, the one event it handled); Cancelled, Inactive and Pending exist in
 * its enum for rows changed by hand. None of its rows has a period end, so:
 *   Active    → active: entitled until RevenueCat's next event for the user says
 *               otherwise (the original granted it for good)
 *   Cancelled → cancelled, expires_at = the row's updatedAt: the original knew of no
 *               period left, so the entitlement ends at the last change it recorded
 *   Inactive  → expired (no entitlement)
 *   Pending   → expired (no purchase completed; RevenueCat's INITIAL_PURCHASE, newer
 *               than the row, makes it active)
 * Any other value (a later version of the original) has no meaning here: skipped.
 */
#include "import_rows.h"

#include "../vendor/validate.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const import_status import_statuses[] = {
    {"Active", "active", false},
    {"Cancelled", "cancelled", true},
    {"Inactive", "expired", false},
    {"Pending", "expired", false},
    {NULL, NULL, false},
};

const import_status *import_status_for(const char *original)
{
    for (const import_status *s = import_statuses; original && s->original; s++)
        if (strcmp(s->original, original) == 0)
            return s;
    return NULL;
}

static int why_fmt(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int why_fmt(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return VT_INVALID_ARGUMENT;
}

void import_printable(const char *in, char *out, size_t outlen)
{
    size_t n = 0;
    for (const char *p = in ? in : "(null)"; *p && n + 1 < outlen && n < 96; p++)
        out[n++] = ((unsigned char)*p < 0x20 || *p == 0x7f) ? '?' : *p;
    if (outlen)
        out[n] = '\0';
}

int import_check_clerk_id(const char *clerk_id, char *why, size_t whylen)
{
    if (!clerk_id || !*clerk_id)
        return why_fmt(why, whylen, "the user has no clerkId");
    char err[IMPORT_WHY_LEN];
    if (validate_owner_id("clerkId", clerk_id, err, sizeof err) != VT_OK)
        return why_fmt(why, whylen, "%s", err);
    return VT_OK;
}

/* An optional text field: kept when check passes, otherwise "" and a note. */
static const char *optional(import_vendor *v, const char *field, const char *value,
                            int (*check)(const char *, char *, size_t))
{
    if (!value || !*value)
        return "";
    char err[IMPORT_WHY_LEN - 32];
    if (check(value, err, sizeof err) == VT_OK)
        return value;
    if (v->nnotes < (int)(sizeof v->notes / sizeof v->notes[0]))
        snprintf(v->notes[v->nnotes++], IMPORT_WHY_LEN, "%s left out: %s", field, err);
    return "";
}

static int check_website(const char *value, char *err, size_t errlen)
{
    return validate_url("website", value, err, errlen);
}

static int check_image(const char *value, char *err, size_t errlen)
{
    return validate_url("primaryImage", value, err, errlen);
}

static void map_location(const import_vendor_row *in, import_vendor *out)
{
    if (!in->has_lat && !in->has_long)
        return;
    const char *problem = NULL;
    if (in->has_lat != in->has_long)
        problem = in->has_lat ? "lat without long" : "long without lat";
    else if (!isfinite(in->lat) || in->lat < -90 || in->lat > 90)
        problem = "lat out of range -90..90";
    else if (!isfinite(in->lng) || in->lng < -180 || in->lng > 180)
        problem = "long out of range -180..180";
    if (problem) {
        if (out->nnotes < (int)(sizeof out->notes / sizeof out->notes[0]))
            snprintf(out->notes[out->nnotes++], IMPORT_WHY_LEN, "location left out: %s (%g, %g)",
                     problem, in->has_lat ? in->lat : NAN, in->has_long ? in->lng : NAN);
        return;
    }
    out->has_location = true;
    out->lat = in->lat;
    out->lng = in->lng;
}

int import_map_vendor(const import_vendor_row *in, import_vendor *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    if (!vt_uuid_valid(in->id))
        return why_fmt(why, whylen, "the id is not a UUID, and vendor ids are UUIDs here");
    for (int i = 0; i < VT_UUID_LEN; i++)
        out->id[i] = (char)((in->id[i] >= 'A' && in->id[i] <= 'F') ? in->id[i] + 32 : in->id[i]);
    if (!in->owner_exists)
        return why_fmt(why, whylen, "its owner (the user with the same id) does not exist");
    char err[IMPORT_WHY_LEN - 40];
    if (import_check_clerk_id(in->owner_clerk_id, err, sizeof err) != VT_OK)
        return why_fmt(why, whylen, "its owner cannot be imported: %s", err);
    if (validate_name(in->name ? in->name : "", err, sizeof err) != VT_OK)
        return why_fmt(why, whylen, "%s", err);
    out->owner_id = in->owner_clerk_id;
    out->name = in->name;
    out->description = optional(out, "description", in->description, validate_description);
    out->email = optional(out, "email", in->email, validate_email);
    out->phone = optional(out, "phone", in->phone, validate_phone);
    out->website = optional(out, "website", in->website, check_website);
    out->profile_image = optional(out, "primaryImage", in->primary_image, check_image);
    out->is_open = in->open;
    map_location(in, out);
    return VT_OK;
}

/* A string member of o into out[outlen]: printable ASCII without spaces, 1..max bytes. */
static int id_member(json_t *o, const char *name, char *out, size_t max, char *why, size_t whylen)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_string(v))
        return why_fmt(why, whylen, "integration.data.%s is %s, not a string", name,
                       v ? "of another type" : "missing");
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    bool ok = n >= 1 && n <= max && strlen(s) == n;
    for (size_t i = 0; ok && i < n; i++)
        ok = s[i] > 0x20 && s[i] < 0x7f;
    if (!ok)
        return why_fmt(why, whylen,
                       "integration.data.%s must be 1 to %zu printable ASCII characters", name,
                       max);
    memcpy(out, s, n + 1);
    return VT_OK;
}

int import_parse_revenuecat(const char *json, import_revenuecat_ids *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    if (!json)
        return why_fmt(why, whylen, "integration.data is null");
    json_error_t jerr;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return why_fmt(why, whylen, "integration.data is not JSON: %s", jerr.text);
    int rc = VT_OK;
    if (!json_is_object(root))
        rc = why_fmt(why, whylen, "integration.data is not a JSON object");
    if (rc == VT_OK)
        rc = id_member(root, "eventId", out->event_id, IMPORT_EVENT_ID_MAX, why, whylen);
    if (rc == VT_OK)
        rc = id_member(root, "productId", out->product_id, IMPORT_PRODUCT_ID_MAX, why, whylen);
    if (rc == VT_OK)
        rc = id_member(root, "transactionId", out->transaction_id, IMPORT_PRODUCT_ID_MAX, why,
                       whylen);
    json_decref(root);
    return rc;
}
