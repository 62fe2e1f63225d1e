/*
 * rest_webhooks.h — the Clerk (Svix) and RevenueCat webhooks (rest_webhooks.c).
 */
#ifndef REST_WEBHOOKS_H
#define REST_WEBHOOKS_H

#include "rest_req.h"

void rest_webhook_clerk(rest_req *req);
void rest_webhook_revenuecat(rest_req *req);

#endif
