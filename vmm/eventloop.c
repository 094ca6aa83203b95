/* eventloop.c: an epoll thread for device events (queue kicks, tap frames, console input). */
#include "eventloop.h"

#include "sandbox.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define EV_MAX_WATCH 64

struct ev_watch {
	int fd;
	ev_fn fn;
	void *opaque;
};

struct eventloop {
	int epfd;
	int stopfd;
	pthread_t thread;
	bool running;
	/*
	 * Callbacks run with `lock` held, so eventloop_del (which takes it)
	 * returns only once the deleted fd's callback is finished.
	 */
	pthread_mutex_t lock;
	struct ev_watch watch[EV_MAX_WATCH];
};

int eventloop_create(struct eventloop **out, struct cloak_err *err)
{
	struct eventloop *el = calloc(1, sizeof(*el));
	struct epoll_event ev = { .events = EPOLLIN };
	unsigned i;

	pthread_mutexattr_t attr;

	if (!el)
		return err_set(err, "out of memory");
	/* Recursive: a callback may add or delete watches (a console socket accepting a client). */
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&el->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	for (i = 0; i < EV_MAX_WATCH; i++)
		el->watch[i].fd = -1;
	el->epfd = epoll_create1(EPOLL_CLOEXEC);
	el->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (el->epfd < 0 || el->stopfd < 0) {
		err_errno(err, "cannot create the device event loop (epoll_create1/eventfd)");
		goto fail;
	}
	ev.data.ptr = NULL;  /* NULL marks the stop eventfd */
	if (epoll_ctl(el->epfd, EPOLL_CTL_ADD, el->stopfd, &ev) < 0) {
		err_errno(err, "epoll_ctl");
		goto fail;
	}
	*out = el;
	return 0;
fail:
	if (el->epfd >= 0)
		close(el->epfd);
	if (el->stopfd >= 0)
		close(el->stopfd);
	free(el);
	return -1;
}

int eventloop_add(struct eventloop *el, int fd, uint32_t events, ev_fn fn, void *opaque, struct cloak_err *err)
{
	struct epoll_event ev = { .events = events };
	unsigned i;
	int rc = 0;

	pthread_mutex_lock(&el->lock);
	for (i = 0; i < EV_MAX_WATCH && el->watch[i].fd >= 0; i++)
		;
	if (i == EV_MAX_WATCH) {
		rc = err_set(err, "internal error: more than %d event sources", EV_MAX_WATCH);
	} else {
		el->watch[i] = (struct ev_watch){ fd, fn, opaque };
		ev.data.ptr = &el->watch[i];
		if (epoll_ctl(el->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			el->watch[i].fd = -1;
			rc = err_errno(err, "cannot watch a device file descriptor (epoll_ctl)");
		}
	}
	pthread_mutex_unlock(&el->lock);
	return rc;
}

void eventloop_del(struct eventloop *el, int fd)
{
	unsigned i;

	pthread_mutex_lock(&el->lock);
	for (i = 0; i < EV_MAX_WATCH; i++)
		if (el->watch[i].fd == fd) {
			(void)epoll_ctl(el->epfd, EPOLL_CTL_DEL, fd, NULL);
			el->watch[i].fd = -1;
		}
	pthread_mutex_unlock(&el->lock);
}

static void *eventloop_thread(void *opaque)
{
	struct eventloop *el = opaque;
	struct epoll_event evs[16];

	(void)sandbox_thread_enter(SANDBOX_DEVICE_IO);
	for (;;) {
		int n = epoll_wait(el->epfd, evs, 16, -1), i;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < n; i++) {
			struct ev_watch *w = evs[i].data.ptr;

			if (!w)
				return NULL;
			pthread_mutex_lock(&el->lock);
			/* A watch deleted after epoll_wait returned must not run. */
			if (w->fd >= 0)
				w->fn(w->opaque, evs[i].events);
			pthread_mutex_unlock(&el->lock);
		}
	}
	return NULL;
}

int eventloop_start(struct eventloop *el, struct cloak_err *err)
{
	int rc = pthread_create(&el->thread, NULL, eventloop_thread, el);

	if (rc) {
		errno = rc;
		return err_errno(err, "cannot start the device I/O thread (pthread_create)");
	}
	el->running = true;
	return 0;
}

void eventloop_destroy(struct eventloop *el)
{
	uint64_t one = 1;

	if (!el)
		return;
	if (el->running) {
		(void)!write(el->stopfd, &one, sizeof(one));
		pthread_join(el->thread, NULL);
	}
	close(el->epfd);
	close(el->stopfd);
	free(el);
}
