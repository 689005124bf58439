/* handler: the helpers a domain handler uses (see domain.h). */
#include "workers/domain.h"

#include <stdarg.h>
#include <stdio.h>

#include "db/outbox.h"
#include "core/log.h"

enum handler_result handler_fail(struct handler_ctx *ctx, enum handler_result r,
				 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->reason, sizeof(ctx->reason), fmt, ap);
	va_end(ap);
	return r;
}

enum handler_result handler_db_failed(struct handler_ctx *ctx, const char *what)
{
	return handler_retry(ctx, "%s: %s", what, db_error(ctx->db));
}

enum db_status handler_emit(struct handler_ctx *ctx, const char *event_type,
			    const char *aggregate_type, const char *aggregate_id,
			    json_t *payload)
{
	struct envelope out;
	char err[256];
	enum db_status st;

	if (envelope_init(&out, event_type, aggregate_type, aggregate_id,
			  ctx->ev->correlation_id, ctx->ev->event_id, payload, err,
			  sizeof(err)) != 0) {
		/* Only allocation or an over-long id can fail here: a bug, not
		 * something a retry fixes, but retrying loses nothing. */
		log_error("%s: cannot build %s for %s: %s", ctx->consumer, event_type,
			  aggregate_id, err);
		return DB_FATAL;
	}
	if (ctx->eager != NULL && ctx->keep != NULL) {
		struct outbox_row row;

		st = outbox_append_held(ctx->db, &out, ctx->grace_ms, &row);
		/* Kept or not, the row is written: the relay has it after the grace. */
		if (st == DB_OK && ctx->keep(ctx->eager, &row) != 0)
			log_warn("%s: out of memory keeping event %s; the relay publishes it",
				 ctx->consumer, out.event_id);
	} else {
		st = outbox_append(ctx->db, &out, NULL);
	}
	envelope_clear(&out);
	if (st == DB_OK)
		ctx->emitted++;
	return st;
}
