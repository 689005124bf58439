#include "workers/proctitle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

extern char **environ;

static char *title_start;
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
	 * which is the layout the kernel gives us. */
	if (n > 0 && environ[0] == end) {
		char **copy = calloc((size_t)n + 1, sizeof(char *));

		if (copy == NULL)
			goto done;
		for (int i = 0; i < n; i++) {
			if (environ[i] == end)
				end = environ[i] + strlen(environ[i]) + 1;
			copy[i] = strdup(environ[i]);
			if (copy[i] == NULL)
				goto done; /* keep the old env; the title is just shorter */
		}
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
