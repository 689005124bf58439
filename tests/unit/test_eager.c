/*
 * test_eager: the bookkeeping of eager dispatch (workers/eager.h) that needs
 * no server: which confirms settle which publishes, which marks a committed
 * or rolled-back transaction leaves, and that every failure leaves the rows
 * to the relay instead of counting them published. The publishing and the
 * marks themselves run against RabbitMQ and MariaDB in
 * tests/system/test_saga_eager.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/link_int.h"
#include "broker/publisher.h"
#include "workers/eager.h"

static struct outbox_row make_row(unsigned long long id)
{
	struct outbox_row row = { .id = id };

	snprintf(row.event_id, sizeof(row.event_id), "00000000-0000-4000-8000-%012llu", id);
	row.routing_key = strdup("stock.reserved");
	row.body = strdup("{}");
	row.body_len = 2;
	assert_non_null(row.routing_key);
	assert_non_null(row.body);
	return row;
}

static void test_a_tag_settles_only_on_its_own_channel(void **state)
{
	(void)state;
	assert_true(publisher_tag_settled(LINK_TAG(3, 5), LINK_TAG(3, 5)));
	assert_true(publisher_tag_settled(LINK_TAG(3, 4), LINK_TAG(3, 5)));
	assert_false(publisher_tag_settled(LINK_TAG(3, 6), LINK_TAG(3, 5)));
	/* A reopened channel counts from 1 again: its confirms settle nothing
	 * of the old one, however large the old tag's number. */
	assert_false(publisher_tag_settled(LINK_TAG(2, 1), LINK_TAG(3, 100)));
	assert_false(publisher_tag_settled(LINK_TAG(4, 1), LINK_TAG(3, 100)));
}

static void test_rollback_forgets_the_rows_of_the_transaction(void **state)
{
	struct eager e = { 0 };
	struct outbox_row r1 = make_row(1), r2 = make_row(2);

	(void)state;
	assert_int_equal(eager_add(&e, &r1), 0);
	assert_int_equal(eager_add(&e, &r2), 0);
	assert_null(r1.body); /* taken over */
	assert_int_equal(e.nrows, 2);
	eager_discard(&e);
	assert_int_equal(e.nrows, 0);
	assert_int_equal(e.nsent, 0);
	eager_free(&e);
}

static void test_no_link_leaves_everything_to_the_relay(void **state)
{
	struct eager e = { 0 };
	struct outbox_row r1 = make_row(7);

	(void)state;
	assert_int_equal(eager_add(&e, &r1), 0);
	assert_int_equal(eager_send(&e, NULL), -1);
	assert_int_equal(e.nrows, 0);
	assert_int_equal(e.nsent, 0);
	assert_int_equal(e.nmarks, 0);
	/* Sent rows whose link is gone are not counted published either. */
	e.sent = calloc(1, sizeof(*e.sent));
	e.cap_sent = 1;
	e.sent[0].id = 8;
	e.sent[0].tag = LINK_TAG(1, 1);
	e.nsent = 1;
	assert_int_equal(eager_collect(&e, NULL, 0), -1);
	assert_int_equal(e.nsent, 0);
	assert_int_equal(e.nmarks, 0);
	assert_int_equal(e.published, 0);
	eager_free(&e);
}

static void give_marks(struct eager *e, int n, unsigned long long first)
{
	e->marks = realloc(e->marks, (size_t)(e->nmarks + n) * sizeof(*e->marks));
	assert_non_null(e->marks);
	for (int i = 0; i < n; i++)
		e->marks[e->nmarks + i] = first + (unsigned long long)i;
	e->nmarks += n;
	e->cap_marks = e->nmarks;
}

static void test_a_commit_clears_only_the_marks_it_held(void **state)
{
	struct eager e = { 0 };

	(void)state;
	give_marks(&e, 3, 10);
	e.marking = 3;            /* eager_mark put 10, 11, 12 in the transaction */
	give_marks(&e, 2, 20);    /* confirmed meanwhile: not in it */
	eager_marked(&e, 1);
	assert_int_equal(e.nmarks, 2);
	assert_int_equal(e.marks[0], 20);
	assert_int_equal(e.marks[1], 21);
	assert_int_equal(e.marking, 0);
	eager_free(&e);
}

static void test_a_rollback_keeps_the_marks_for_the_next_transaction(void **state)
{
	struct eager e = { 0 };

	(void)state;
	give_marks(&e, 3, 10);
	e.marking = 3;
	eager_marked(&e, 0);
	assert_int_equal(e.nmarks, 3);
	assert_int_equal(e.marks[0], 10);
	assert_int_equal(e.marking, 0);
	eager_free(&e);
}

static void test_marks_that_never_commit_are_bounded(void **state)
{
	struct eager e = { 0 };

	(void)state;
	give_marks(&e, 5000, 1);
	eager_marked(&e, 0);
	/* Forgotten: the relay publishes those rows again after the grace. */
	assert_int_equal(e.nmarks, 0);
	eager_free(&e);
}

static void test_nothing_to_mark_needs_no_database(void **state)
{
	struct eager e = { 0 };

	(void)state;
	assert_int_equal(eager_flush(&e, NULL), DB_OK);
	assert_int_equal(eager_mark(&e, NULL), DB_OK);
	assert_int_equal(e.marking, 0);
	assert_int_equal(eager_collect(&e, NULL, 1), 0);
	eager_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_tag_settles_only_on_its_own_channel),
		cmocka_unit_test(test_rollback_forgets_the_rows_of_the_transaction),
		cmocka_unit_test(test_no_link_leaves_everything_to_the_relay),
		cmocka_unit_test(test_a_commit_clears_only_the_marks_it_held),
		cmocka_unit_test(test_a_rollback_keeps_the_marks_for_the_next_transaction),
		cmocka_unit_test(test_marks_that_never_commit_are_bounded),
		cmocka_unit_test(test_nothing_to_mark_needs_no_database),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
