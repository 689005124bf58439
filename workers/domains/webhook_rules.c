/* webhook_rules: the pure parts of the webhook domain (see webhook.h). Kept
 * apart from webhook.c so unit tests link without libcurl or the database. */
#include "workers/domains/webhook.h"

enum webhook_outcome webhook_classify(long http_status)
{
	if (http_status >= 200 && http_status < 300)
		return WEBHOOK_DELIVERED;
	/* 408 Request Timeout and 429 Too Many Requests: the receiver asks us to
	 * come back later. */
	if (http_status >= 400 && http_status < 500 && http_status != 408 && http_status != 429)
		return WEBHOOK_PERMANENT;
	return WEBHOOK_TRANSIENT;
}
