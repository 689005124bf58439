/*
 * test_role_server: the child-process skeleton of proc/role_server.h: a stop
 * request drains once and exits EXIT_DRAINED, SIGHUP does not stop a role, a
 * failed start or a fatal turn ends without draining but still releases,
 * and a nap ends early on a stop request.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <time.h>

#include "core/log.h"
#include "proc/role_server.h"

struct fake {
	int start_code;     /* what start returns */
	int fatal_turn;     /* turn n returns EXIT_CONFIG (0: never) */
	int hup_turn;       /* turn n raises SIGHUP */
	int term_turn;      /* turn n raises SIGTERM */
	int starts, turns, drains, stops;
	int stop_seen_in_drain;
};

static int fake_start(void *role, struct role_server *rs)
{
	struct fake *f = role;

	(void)rs;
	f->starts++;
	return f->start_code;
}

static int fake_turn(void *role, struct role_server *rs)
{
	struct fake *f = role;

	(void)rs;
	f->turns++;
	if (f->turns == f->hup_turn)
		raise(SIGHUP);
	if (f->turns == f->term_turn)
		raise(SIGTERM);
	if (f->turns == f->fatal_turn)
		return EXIT_CONFIG;
	return 0;
}

static void fake_drain(void *role, struct role_server *rs)
{
	struct fake *f = role;

	f->drains++;
	f->stop_seen_in_drain = rs->stop;
}

static void fake_stop(void *role)
{
	((struct fake *)role)->stops++;
}

static const struct role_ops fake_ops = {
	.start = fake_start,
	.turn = fake_turn,
	.drain = fake_drain,
	.stop = fake_stop,
};

static void test_stop_request_drains_once(void **state)
{
	struct fake f = { .term_turn = 3 };

	(void)state;
	assert_int_equal(role_server_run("fake", &fake_ops, &f), EXIT_DRAINED);
	assert_int_equal(f.turns, 3);
	assert_int_equal(f.drains, 1);
	assert_int_equal(f.stop_seen_in_drain, 1);
	assert_int_equal(f.stops, 1);
}

static void test_hup_does_not_stop(void **state)
{
	struct fake f = { .hup_turn = 1, .term_turn = 4 };

	(void)state;
	assert_int_equal(role_server_run("fake", &fake_ops, &f), EXIT_DRAINED);
	assert_int_equal(f.turns, 4);
	assert_int_equal(f.drains, 1);
}

static void test_failed_start_releases_without_turning(void **state)
{
	struct fake f = { .start_code = EXIT_CONFIG };

	(void)state;
	assert_int_equal(role_server_run("fake", &fake_ops, &f), EXIT_CONFIG);
	assert_int_equal(f.turns, 0);
	assert_int_equal(f.drains, 0);
	assert_int_equal(f.stops, 1);
}

static void test_fatal_turn_ends_without_draining(void **state)
{
	struct fake f = { .fatal_turn = 2 };

	(void)state;
	assert_int_equal(role_server_run("fake", &fake_ops, &f), EXIT_CONFIG);
	assert_int_equal(f.turns, 2);
	assert_int_equal(f.drains, 0);
	assert_int_equal(f.stops, 1);
}

/* A role sleeping between reconnects must still stop at once: the nap of a
 * minute ends with the stop request already pending (else ctest's timeout). */
static int nap_turn(void *role, struct role_server *rs)
{
	struct fake *f = role;
	time_t t0 = time(NULL);

	f->turns++;
	raise(SIGTERM);
	role_server_nap(rs, 60000);
	assert_true(rs->stop);
	assert_true(time(NULL) - t0 < 30);
	return 0;
}

static void test_nap_ends_on_stop(void **state)
{
	struct role_ops ops = fake_ops;
	struct fake f = { 0 };

	(void)state;
	ops.turn = nap_turn;
	assert_int_equal(role_server_run("fake", &ops, &f), EXIT_DRAINED);
	assert_int_equal(f.turns, 1);
	assert_int_equal(f.drains, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stop_request_drains_once),
		cmocka_unit_test(test_hup_does_not_stop),
		cmocka_unit_test(test_failed_start_releases_without_turning),
		cmocka_unit_test(test_fatal_turn_ends_without_draining),
		cmocka_unit_test(test_nap_ends_on_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
