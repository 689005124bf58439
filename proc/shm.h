/*
 * shm: zeroed anonymous shared memory that a forked child shares with the
 * supervisor (the pool's counters, the crash memory).
 */
#ifndef ORDERFLOW_SHM_H
#define ORDERFLOW_SHM_H

#include <stddef.h>

/* len zeroed bytes shared across fork(); NULL with errno on failure. */
void *shm_create(size_t len);
/* Releases what shm_create returned (NULL is fine). */
void shm_destroy(void *p, size_t len);

#endif
