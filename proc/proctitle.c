/*
 * proctitle: setting the title `ps` shows ("orderflowd: inventory worker")
 * by reusing the memory of argv and environ (see proctitle.h).
 */
#include "proc/proctitle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

extern char **environ;

static char *title_start;
static char *env_block;   /* the moved environment's strings */
static char **env_array;  /* and its array, as first made */
static size_t title_len;

void proctitle_init(int argc, char **argv)
{
	char *end;
	int n = 0;

	if (argc < 1 || argv[0] == NULL)
		return;
	end = argv[0] + strlen(argv[0]) + 1;
	for (int i = 1; i < argc && argv[i] == end; i++)
		end = argv[i] + strlen(argv[i]) + 1;
	while (environ[n] != NULL)
		n++;
	/* Copy the environment elsewhere only when it lies right after argv,
	 * which is the layout the kernel gives us. The strings go into one
	 * block that stays referenced here, so an unsetenv() that drops one of
	 * them from environ loses nothing. */
	if (n > 0 && environ[0] == end) {
		size_t size = 0;
		char **copy = calloc((size_t)n + 1, sizeof(char *));
		char *at;

		for (int i = 0; i < n; i++)
			size += strlen(environ[i]) + 1;
		env_block = malloc(size);
		if (copy == NULL || env_block == NULL) {
			free(copy);
			free(env_block);
			env_block = NULL;
			goto done; /* keep the old env; the title is just shorter */
		}
		at = env_block;
		for (int i = 0; i < n; i++) {
			size_t len = strlen(environ[i]) + 1;

			if (environ[i] == end)
				end = environ[i] + len;
			memcpy(at, environ[i], len);
			copy[i] = at;
			at += len;
		}
		env_array = copy;
		environ = copy;
	}
done:
	title_start = argv[0];
	title_len = (size_t)(end - argv[0]);
	for (int i = 1; i < argc; i++)
		argv[i] = NULL; /* the strings are about to be overwritten */
}

void proctitle_set(const char *title)
{
	char comm[16];

	if (title_start != NULL && title_len > 1) {
		memset(title_start, 0, title_len);
		snprintf(title_start, title_len, "%s", title);
	}
	/* comm (ps -o comm, top) keeps the program name: pgrep without -f
	 * still finds "orderflowd". */
	snprintf(comm, sizeof(comm), "orderflowd");
	prctl(PR_SET_NAME, comm, 0, 0, 0);
}
