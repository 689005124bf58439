/*
 * webhook_sink: the bench's webhook receiver (libmicrohttpd). Answers every
 * POST with 200 and counts it; nothing else. The Python receiver of the
 * tests logs every request to a file and costs far more CPU than the
 * webhook worker it serves, which would make the bench measure Python.
 *
 *   webhook_sink --port-file FILE [--port N] [--threads N]
 *
 * Listens on 127.0.0.1 (port N, or one the kernel picks), writes the port to
 * FILE once it listens. GET /count answers the number of POSTs so far.
 * Exits 0 on SIGTERM or SIGINT, printing "posts N" on stdout.
 */
#include <microhttpd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

static atomic_long posts;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								  MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* MHD calls this once with the headers, then once per chunk of body, then
 * once more with no data: the answer goes out on the last call. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_size, void **state)
{
	static int seen;
	(void)cls;
	(void)version;
	(void)data;
	if (strcmp(method, "GET") == 0 && strcmp(url, "/count") == 0) {
		char buf[64];
		snprintf(buf, sizeof buf, "{\"posts\": %ld}", atomic_load(&posts));
		return reply(c, 200, buf);
	}
	if (strcmp(method, "POST") != 0)
		return reply(c, 405, "{\"error\": \"POST only\"}");
	if (*state == NULL) {
		*state = &seen;
		return MHD_YES;
	}
	if (*data_size) {
		*data_size = 0;
		return MHD_YES;
	}
	atomic_fetch_add(&posts, 1);
	return reply(c, 200, "{\"status\": 200}");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = { { "port-file", 1, 0, 'f' }, { "port", 1, 0, 'p' },
					    { "threads", 1, 0, 't' }, { "help", 0, 0, 'h' },
					    { 0, 0, 0, 0 } };
	const char *port_file = NULL;
	int port = 0, threads = 2, c;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'f': port_file = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 't': threads = atoi(optarg); break;
		case 'h':
			printf("usage: webhook_sink --port-file FILE [--port N] [--threads N]\n");
			return 0;
		default: return 2;
		}
	}
	if (!port_file || port < 0 || port > 65535 || threads < 1) {
		fprintf(stderr, "usage: webhook_sink --port-file FILE [--port N] [--threads N]\n");
		return 2;
	}
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, on_request, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE,
		(unsigned int)threads, MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "webhook_sink: cannot listen on 127.0.0.1:%d\n", port);
		return 1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
	FILE *f = fopen(tmp, "w");
	if (!f || !info || fprintf(f, "%u\n", (unsigned)info->port) < 0 || fclose(f) != 0 ||
	    rename(tmp, port_file) != 0) {
		fprintf(stderr, "webhook_sink: cannot write the port to %s\n", port_file);
		MHD_stop_daemon(d);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	while (!stop)
		pause();
	MHD_stop_daemon(d);
	printf("posts %ld\n", atomic_load(&posts));
	return 0;
}
