/*
 * http_request: the JSON bodies of the intake's commands, checked for shape
 * before order_intake checks the rules (DESIGN.md "Commands": 400 for
 * malformed JSON, a missing field or a field of the wrong type; 422 for a
 * well-formed order that breaks a rule, which order_place() decides).
 *
 * POST /api/orders: {"customer_id": string of 1..64 bytes, "currency":
 * string (optional), "items": [{"sku": string, "quantity": integer}, ...]}.
 * A quantity must be a JSON integer: 2.0, "2" and true are 400; one beyond
 * 64 bits does not parse (400). Other members are ignored. An empty items
 * array is well-formed (order_place() refuses it with 422), and so is a SKU
 * or a quantity outside the rules. A SKU longer than any catalogue SKU (64
 * bytes) is reported here as 422 "unknown SKU", with order_place()'s words.
 *
 * POST /api/orders/{id}/cancel: no body, or {"reason": string} (optional).
 *
 * The text must be UTF-8 JSON nesting at most HTTP_JSON_MAX_DEPTH deep,
 * without duplicate keys; jansson refuses "\u0000" in strings. Pure: the
 * messages are meant for the client ({"error": ...}).
 */
#ifndef ORDERFLOW_HTTP_REQUEST_H
#define ORDERFLOW_HTTP_REQUEST_H

#include <jansson.h>
#include <stddef.h>

#include "intake/order_intake.h"

/* The 400 message for a customer_id that is not 1..64 bytes (the API's
 * words, which `orderflowctl order place` repeats). */
#define HTTP_MSG_CUSTOMER_ID "customer_id must be a string of 1 to 64 bytes"

struct order_request {
	const char *customer_id;        /* points into doc */
	const char *currency;           /* NULL when left out */
	struct order_item_req *items;   /* malloc'd; NULL when nitems == 0 */
	int nitems;
	json_t *doc;                    /* owns the strings */
};

/* Fills one order line from a SKU of skulen bytes (NUL-terminated) and a
 * quantity; 0, or 422 "unknown SKU" when the SKU is longer than any
 * catalogue SKU. Shared with `orderflowctl order place`. */
int http_order_item(const char *sku, size_t skulen, long long quantity,
		    struct order_item_req *out, char *err, size_t errlen);

/* Returns 0 with *req filled (free with order_request_free), or 400 / 422
 * with a message in err and *req empty. */
int http_parse_order(const char *body, size_t len, struct order_request *req, char *err,
		     size_t errlen);
void order_request_free(struct order_request *req);

/* An optional cancel body: len 0 gives *reason_r = NULL. Returns 0 with
 * *reason_r (malloc'd or NULL, caller frees), or 400 with err. */
int http_parse_cancel(const char *body, size_t len, char **reason_r, char *err, size_t errlen);

/* Parses a JSON object (depth limit, no duplicates); NULL with a 400
 * message in err. */
json_t *http_parse_json_object(const char *body, size_t len, char *err, size_t errlen);

#endif
