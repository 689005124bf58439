/* http_request: request bodies -> commands (see http_request.h). */
#include "intake/http_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intake/json_body.h"

json_t *http_parse_json_object(const char *body, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *doc;

	if (len == 0) {
		snprintf(err, errlen, "a JSON request body is required");
		return NULL;
	}
	if (!http_json_depth_ok(body, len, HTTP_JSON_MAX_DEPTH)) {
		snprintf(err, errlen, "malformed JSON: nested deeper than %d levels",
			 HTTP_JSON_MAX_DEPTH);
		return NULL;
	}
	doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (doc == NULL) {
		snprintf(err, errlen, "malformed JSON: %s (line %d, column %d)", je.text, je.line,
			 je.column);
		return NULL;
	}
	if (!json_is_object(doc)) {
		json_decref(doc);
		snprintf(err, errlen, "the request body must be a JSON object");
		return NULL;
	}
	return doc;
}

int http_order_item(const char *sku, size_t skulen, long long quantity,
		    struct order_item_req *out, char *err, size_t errlen)
{
	if (skulen >= sizeof(out->sku)) {
		/* Longer than stock.sku can hold: no such SKU (order_place's words). */
		snprintf(err, errlen, "unknown SKU \"%.64s...\"", sku);
		return 422;
	}
	memcpy(out->sku, sku, skulen + 1);
	out->quantity = quantity;
	return 0;
}

/* One element of "items"; 0, or 400/422 with err. */
static int parse_item(json_t *item, size_t i, struct order_item_req *out, char *err,
		      size_t errlen)
{
	json_t *sku, *qty;

	if (!json_is_object(item)) {
		snprintf(err, errlen, "items[%zu] must be an object {\"sku\", \"quantity\"}", i);
		return 400;
	}
	sku = json_object_get(item, "sku");
	qty = json_object_get(item, "quantity");
	if (sku == NULL || qty == NULL) {
		snprintf(err, errlen, "items[%zu].%s is required", i, sku == NULL ? "sku" : "quantity");
		return 400;
	}
	if (!json_is_string(sku)) {
		snprintf(err, errlen, "items[%zu].sku must be a string", i);
		return 400;
	}
	if (!json_is_integer(qty)) {
		snprintf(err, errlen, "items[%zu].quantity must be an integer", i);
		return 400;
	}
	return http_order_item(json_string_value(sku), json_string_length(sku),
			       (long long)json_integer_value(qty), out, err, errlen);
}

static int parse_items(json_t *items, struct order_request *req, char *err, size_t errlen)
{
	size_t n = json_array_size(items);
	int code;

	if (n == 0)
		return 0;
	req->items = calloc(n, sizeof(*req->items));
	if (req->items == NULL) {
		snprintf(err, errlen, "out of memory");
		return 503;
	}
	for (size_t i = 0; i < n; i++)
		if ((code = parse_item(json_array_get(items, i), i, &req->items[i], err, errlen)) != 0)
			return code;
	req->nitems = (int)n;
	return 0;
}

/* The members of the order object; 0 or an HTTP status with err. */
static int parse_order_doc(json_t *doc, struct order_request *req, char *err, size_t errlen)
{
	json_t *cust = json_object_get(doc, "customer_id");
	json_t *cur = json_object_get(doc, "currency");
	json_t *items = json_object_get(doc, "items");

	if (cust == NULL) {
		snprintf(err, errlen, "customer_id is required");
		return 400;
	}
	if (!json_is_string(cust) || json_string_length(cust) == 0 ||
	    json_string_length(cust) > DOM_CUSTOMER_MAX) {
		snprintf(err, errlen, "%s", HTTP_MSG_CUSTOMER_ID);
		return 400;
	}
	if (cur != NULL && !json_is_string(cur)) {
		snprintf(err, errlen, "currency must be a string");
		return 400;
	}
	if (items == NULL) {
		snprintf(err, errlen, "items is required");
		return 400;
	}
	if (!json_is_array(items)) {
		snprintf(err, errlen, "items must be an array of {\"sku\", \"quantity\"} objects");
		return 400;
	}
	req->customer_id = json_string_value(cust);
	req->currency = cur != NULL ? json_string_value(cur) : NULL;
	return parse_items(items, req, err, errlen);
}

int http_parse_order(const char *body, size_t len, struct order_request *req, char *err,
		     size_t errlen)
{
	int code;

	memset(req, 0, sizeof(*req));
	req->doc = http_parse_json_object(body, len, err, errlen);
	if (req->doc == NULL)
		return 400;
	code = parse_order_doc(req->doc, req, err, errlen);
	if (code != 0)
		order_request_free(req);
	return code;
}

void order_request_free(struct order_request *req)
{
	free(req->items);
	json_decref(req->doc);
	memset(req, 0, sizeof(*req));
}

int http_parse_cancel(const char *body, size_t len, char **reason_r, char *err, size_t errlen)
{
	json_t *doc, *reason;
	int code = 400;

	*reason_r = NULL;
	if (len == 0)
		return 0;
	if ((doc = http_parse_json_object(body, len, err, errlen)) == NULL)
		return 400;
	reason = json_object_get(doc, "reason");
	if (reason != NULL && !json_is_string(reason)) {
		snprintf(err, errlen, "reason must be a string");
		goto out;
	}
	if (reason != NULL && (*reason_r = strdup(json_string_value(reason))) == NULL) {
		snprintf(err, errlen, "out of memory");
		code = 503;
		goto out;
	}
	code = 0;
out:
	json_decref(doc);
	return code;
}
