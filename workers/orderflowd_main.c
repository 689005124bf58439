/* orderflowd: the supervisor (placeholder until workers/supervisor.c lands). */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "orderflowd: not built yet\n");
	return 1;
}
