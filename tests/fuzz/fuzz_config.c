/*
 * fuzz_config: config_load() on any file (core/config.h).
 *
 * config_load() takes a path, so each input is written to one file in a
 * private temporary folder made once per process (libconfig 1.5 has no
 * config_read_string() that would keep the "FILE:LINE:" errors and the
 * relative paths of the real thing). The folder also holds the files the
 * seeds point at (db.password, tokens, ca.pem, empty.password, a folder), so
 * password_file, tokens_file and ca_file are read for real.
 *
 * Kept hermetic, because a config names files the loader reads by design:
 *   - while config_load() runs, fopen() (wrapped with the linker's --wrap)
 *     opens nothing outside that folder: "/dev/zero" as a tokens_file would
 *     otherwise eat all memory, which is the operator's choice, not a bug;
 *   - an input holding "@include" is skipped: libconfig opens the included
 *     file itself, where the wrapper cannot see it.
 *
 * Checked beyond "no crash, no leak, no sanitizer report": a refused file
 * comes with error lines naming the file; a loaded one is complete (the
 * required keys, the lists with at least one item) and its http.listen is
 * one the HTTP process can bind (http_listen_parse()), so that
 * `orderflowd -t` never accepts what the daemon then refuses.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "http/http_parse.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
FILE *__real_fopen(const char *path, const char *mode);
FILE *__wrap_fopen(const char *path, const char *mode);

static char dir[64];       /* the private folder */
static char conf[96];      /* dir/fuzz.conf */
static int in_load;        /* fopen() is confined to dir while set */

/* The files of tests/configs/ that the seeds name, relative to the config. */
static const struct {
	const char *name;
	const char *text;
} side_files[] = {
	{ "db.password", "s3cret\n" },
	{ "empty.password", "" },
	{ "tokens", "tok-a\n\n  tok-b  \n" },
	{ "ca.pem", "-----BEGIN CERTIFICATE-----\nnot a real one\n-----END CERTIFICATE-----\n" },
};

FILE *__wrap_fopen(const char *path, const char *mode)
{
	size_t n = strlen(dir);

	if (in_load && (strncmp(path, dir, n) != 0 || path[n] != '/' || strstr(path, "/../"))) {
		errno = ENOENT;
		return NULL;
	}
	return __real_fopen(path, mode);
}

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_config: %s: %s\n", what, detail);
	abort();
}

static void write_file(const char *path, const void *data, size_t size)
{
	/* 0600: config_load() warns about a readable file holding a password. */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		fail(path, strerror(errno));
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		fail(path, "short write");
	if (close(fd) != 0)
		fail(path, strerror(errno));
}

static void remove_dir(void)
{
	char path[160];

	for (size_t i = 0; i < sizeof(side_files) / sizeof(side_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, side_files[i].name);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/subdir", dir);
	rmdir(path);
	unlink(conf);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	char path[160];

	(void)argc, (void)argv;
	/* tmpfs when there is one: a file is written per input, and on a disk
	 * that halves the runs per second. */
	if (access("/dev/shm", W_OK | X_OK) == 0)
		tmp = "/dev/shm";
	else if (tmp == NULL || strlen(tmp) >= 40)
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/fuzz_config.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL)
		fail("mkdtemp", strerror(errno));
	snprintf(conf, sizeof(conf), "%s/fuzz.conf", dir);
	for (size_t i = 0; i < sizeof(side_files) / sizeof(side_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, side_files[i].name);
		write_file(path, side_files[i].text, strlen(side_files[i].text));
	}
	snprintf(path, sizeof(path), "%s/subdir", dir);
	if (mkdir(path, 0700) != 0)
		fail(path, strerror(errno));
	atexit(remove_dir);
	/* config_load() may log_warn; millions of lines would only slow the run. */
	log_set_level(LOG_LVL_ERROR);
	return 0;
}

static void check_loaded(const struct config *cfg)
{
	char host[256], port[8];

	if (cfg->broker.urls.count < 1 || cfg->database.user == NULL ||
	    cfg->retry.delay_count < 1 || cfg->retry.delays_ms == NULL ||
	    cfg->domains[DOM_WEBHOOK].events.count < 1)
		fail("loaded config", "a required key or a list is missing");
	if (http_listen_parse(cfg->http.listen, host, sizeof(host), port, sizeof(port)) != 0)
		fail("http.listen accepted by config_load but refused by http_listen_parse",
		     cfg->http.listen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	char *errors = NULL;
	int rc;

	if (memmem(data, size, "@include", 8) != NULL)
		return -1; /* not kept in the corpus either */
	write_file(conf, data, size);
	in_load = 1;
	rc = config_load(conf, &cfg, &errors);
	in_load = 0;
	if (rc == 0) {
		if (cfg == NULL || errors != NULL)
			fail("config_load", "returned 0 without a config, or with errors");
		check_loaded(cfg);
		config_free(cfg);
		return 0;
	}
	if (cfg != NULL)
		fail("config_load", "failed but left a config");
	if (errors == NULL || strncmp(errors, dir, strlen(dir)) != 0 ||
	    errors[strlen(errors) - 1] != '\n')
		fail("config_load errors", errors != NULL ? errors : "(none)");
	free(errors);
	return 0;
}
