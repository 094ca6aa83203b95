/* eventloop.h: the device I/O thread: one epoll loop that runs callbacks off the vCPU threads. */
#ifndef CLOAK_EVENTLOOP_H
#define CLOAK_EVENTLOOP_H

#include "cloak.h"

#include <stdint.h>

/* Called on the loop thread with the epoll events that fired. */
typedef void (*ev_fn)(void *opaque, uint32_t events);

struct eventloop;

int eventloop_create(struct eventloop **out, struct cloak_err *err);
/* Watches fd for `events` (EPOLLIN, ...); the callback runs on the loop thread. */
int eventloop_add(struct eventloop *el, int fd, uint32_t events, ev_fn fn, void *opaque, struct cloak_err *err);
/* Stops watching fd; when it returns, the fd's callback is not running and will not run again. */
void eventloop_del(struct eventloop *el, int fd);
int eventloop_start(struct eventloop *el, struct cloak_err *err);
/* Stops the thread (waiting for the callback under way) and frees the loop. */
void eventloop_destroy(struct eventloop *el);

#endif
