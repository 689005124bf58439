/* orderflowctl: placeholder until tools/ctl_*.c land. */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "orderflowctl: not built yet\n");
	return 1;
}
