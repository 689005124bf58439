/*
 * webhook_curl: the webhook domain's transport on libcurl (see
 * webhook_transport in workers/domains/webhook.h). Kept out of the domain
 * tables so that orderflowctl, which needs the tables, does not link libcurl.
 */
#ifndef ORDERFLOW_WEBHOOK_CURL_H
#define ORDERFLOW_WEBHOOK_CURL_H

/* Makes libcurl the webhook's transport in this process. */
void webhook_transport_use_curl(void);

#endif
