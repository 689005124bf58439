/*
 * proctitle: the process title `ps` and `pgrep -f` show, e.g.
 * "orderflowd: inventory worker" (DESIGN.md "Processes").
 *
 * Linux shows /proc/PID/cmdline, which is the memory of argv. Like nginx's
 * ngx_setproctitle, proctitle_init() moves the environment out of the way so
 * argv and environ's contiguous area can hold the title; call it first thing
 * in main(), before anything reads environ through saved pointers.
 */
#ifndef ORDERFLOW_PROCTITLE_H
#define ORDERFLOW_PROCTITLE_H

void proctitle_init(int argc, char **argv);
void proctitle_set(const char *title);

#endif
