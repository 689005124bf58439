/*
 * shm: anonymous MAP_SHARED mappings, made before fork so that every child
 * of the pool writes to the same pages.
 */
#include "proc/shm.h"

#include <string.h>
#include <sys/mman.h>

void *shm_create(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, len);
	return p;
}

void shm_destroy(void *p, size_t len)
{
	if (p != NULL)
		munmap(p, len);
}
