/* virtio_console.c: virtio-console (hvc0) on cloak's stdout, a file, or a Unix socket cloak listens on. */
#include "virtio_console.h"

#include "devices.h"
#include "virtio_pci.h"
#include "virtio_queues.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_console.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CONS_RX 0  /* host to guest */
#define CONS_TX 1  /* guest to host */

struct vconsole {
	struct virtio_dev vd;
	bool attached;
	int out_fd;       /* where guest output goes; -1: nowhere right now */
	int listen_fd;    /* socket=: the listening socket */
	int client_fd;    /* socket=: the connected client (input and output) */
	bool input_watched;
	const char *sock_path;
	struct virtq_req *req;
};

static struct vconsole cons = { .out_fd = -1, .listen_fd = -1, .client_fd = -1 };

static void cons_write(struct vconsole *c, const uint8_t *p, size_t len)
{
	while (len && c->out_fd >= 0) {
		ssize_t n = c->client_fd >= 0 && c->out_fd == c->client_fd ?
				    send(c->out_fd, p, len, MSG_NOSIGNAL) : write(c->out_fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;  /* a reader that went away loses the output; the guest never waits on it */
		p += n;
		len -= (size_t)n;
	}
}

static void cons_config(struct virtio_dev *vd, uint32_t off, bool is_write, uint8_t *data, unsigned size)
{
	struct virtio_console_config cfg = { .cols = 80, .rows = 25, .max_nr_ports = 1 };

	if (is_write) {
		/* emerg_wr: one character, written at once, for a guest that has no queues yet. */
		if (off == offsetof(struct virtio_console_config, emerg_wr) && size == 4)
			cons_write(vd->priv, data, 1);
		return;
	}
	memcpy(data, (uint8_t *)&cfg + off, size);
}

/* Guest output: every readable buffer of the request, in order. */
static void cons_send(struct virtio_dev *vd, const struct virtq_req *req)
{
	unsigned i;

	for (i = 0; i < req->nseg; i++)
		if (!req->seg[i].writable)
			cons_write(vd->priv, req->seg[i].host, req->seg[i].len);
}

static void cons_input_ready(void *opaque, uint32_t events);

static void cons_watch_input(struct vconsole *c, bool on)
{
	struct cloak_err err;

	if (c->client_fd < 0 || c->input_watched == on)
		return;
	if (on) {
		if (devhost_watch(c->vd.host, c->client_fd, EPOLLIN, cons_input_ready, c, &err) == 0)
			c->input_watched = true;
	} else {
		devhost_unwatch(c->vd.host, c->client_fd);
		c->input_watched = false;
	}
}

static void cons_drop_client(struct vconsole *c)
{
	if (c->client_fd < 0)
		return;
	cons_watch_input(c, false);
	close(c->client_fd);
	c->client_fd = -1;
	c->out_fd = -1;
}

/* Client input goes straight into the guest's receive buffers; with none posted, input waits in the socket. */
static void cons_input_ready(void *opaque, uint32_t events)
{
	struct vconsole *c = opaque;
	struct virtio_dev *vd = &c->vd;
	bool more = true;
	ssize_t n;

	(void)events;
	pthread_mutex_lock(&vd->lock);
	while (more && c->client_fd >= 0) {
		if (!virtio_pop(vd, CONS_RX, c->req)) {
			/*
			 * Nothing to read into: stop watching until the driver posts buffers (its
			 * kick). Under EVENT_IDX it kicks only when its index passes avail_event, so
			 * set that first, as virtio-net's receive path does (or a driver that posts
			 * buffers one at a time never kicks again), then look once more.
			 */
			if (virtio_queue_live(vd, CONS_RX) && virtq_arm_notify(&vd->vq[CONS_RX]))
				continue;
			cons_watch_input(c, false);
			break;
		}
		{
			/* Fill the writable buffers of this one request from the socket, as much as is there. */
			unsigned i;
			uint32_t got = 0;

			for (i = 0; i < c->req->nseg; i++) {
				const struct virtq_seg *s = &c->req->seg[i];

				if (!s->writable || !s->len)
					continue;
				n = recv(c->client_fd, s->host, s->len, MSG_DONTWAIT);
				if (n <= 0) {
					if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
						cons_drop_client(c);
						more = false;
					}
					if (n < 0)
						more = false;
					break;
				}
				got += (uint32_t)n;
				if ((uint32_t)n < s->len) {
					more = false;
					break;
				}
			}
			virtio_push(vd, CONS_RX, c->req->head, got);
		}
	}
	virtio_interrupt(vd, CONS_RX);
	pthread_mutex_unlock(&vd->lock);
}

static void cons_accept(void *opaque, uint32_t events)
{
	struct vconsole *c = opaque;
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	(void)events;
	if (fd < 0)
		return;
	pthread_mutex_lock(&c->vd.lock);
	if (c->client_fd >= 0) {
		/* One client at a time: a second one is turned away. */
		pthread_mutex_unlock(&c->vd.lock);
		close(fd);
		return;
	}
	c->client_fd = c->out_fd = fd;
	cons_watch_input(c, true);
	pthread_mutex_unlock(&c->vd.lock);
}

static void cons_kick(struct virtio_dev *vd, unsigned q)
{
	struct vconsole *c = vd->priv;

	if (q == CONS_TX) {
		virtio_drain(vd, CONS_TX, c->req, cons_send);
		return;
	}
	/* New receive buffers: input may flow again. */
	pthread_mutex_lock(&vd->lock);
	cons_watch_input(c, true);
	pthread_mutex_unlock(&vd->lock);
}

static void cons_driver_ok(struct virtio_dev *vd)
{
	/* Output posted before DRIVER_OK is handled on the I/O thread, like any kick. */
	virtio_kick(vd, CONS_TX);
}

static const struct virtio_dev_ops cons_ops = {
	.kind = "virtio-console",
	.type = 3,
	.pci_class = 0x078000,  /* communication controller, other */
	.nqueues = 2,
	.queue_max = CONSOLE_QUEUE_SIZE,
	.features = 1ull << VIRTIO_CONSOLE_F_EMERG_WRITE,
	.config_size = sizeof(struct virtio_console_config),
	.config_access = cons_config,
	.queue_kick = cons_kick,
	.driver_ok = cons_driver_ok,
};

static int cons_listen(struct vconsole *c, const char *path, struct cloak_err *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;

	if (lstat(path, &st) == 0) {
		/* A socket left by an earlier run is replaced; anything else is the user's and stays. */
		if (!S_ISSOCK(st.st_mode))
			return err_set(err, "--console: %s exists and is not a socket; give another path", path);
		unlink(path);
	}
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->listen_fd < 0)
		return err_errno(err, "--console: cannot create a Unix socket");
	if (bind(c->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(c->listen_fd, 1) < 0)
		return err_errno(err, "--console: cannot listen on %s", path);
	c->sock_path = path;
	return 0;
}

int virtio_console_parse_options(const char *s, struct virtio_console_options *o, struct cloak_err *err)
{
	if (!strcmp(s, "stdio")) {
		*o = (struct virtio_console_options){ CONSOLE_STDIO, NULL };
	} else if (!strncmp(s, "file=", 5) && s[5]) {
		*o = (struct virtio_console_options){ CONSOLE_FILE, s + 5 };
	} else if (!strncmp(s, "socket=", 7) && s[7]) {
		if (strlen(s + 7) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return err_set(err, "--console: socket path '%s' is longer than a Unix socket address "
					    "allows (107 bytes); use a shorter path", s + 7);
		*o = (struct virtio_console_options){ CONSOLE_SOCKET, s + 7 };
	} else {
		return err_set(err, "--console: '%s' is not a console; give stdio, file=PATH or socket=PATH", s);
	}
	return 0;
}

static int cons_parse(const char *value, struct cloak_err *err)
{
	struct virtio_console_options o;

	return virtio_console_parse_options(value, &o, err);
}

/* The file or socket path is usable: init checks again, since the path may change in between. */
static int cons_probe(const char *value, struct cloak_err *err)
{
	struct virtio_console_options o;
	struct stat st;

	if (virtio_console_parse_options(value, &o, err) < 0)
		return -1;
	if (o.kind == CONSOLE_STDIO)
		return 0;
	if (lstat(o.path, &st) < 0)
		return config_check_parent_dir("--console", o.path, err);
	if (o.kind == CONSOLE_SOCKET) {
		if (!S_ISSOCK(st.st_mode))
			return err_set(err, "--console: %s exists and is not a socket; give another path", o.path);
		return 0;
	}
	if (S_ISLNK(st.st_mode))
		return err_set(err, "--console: %s is a symbolic link; cloak does not follow one, since whoever placed "
				    "it would choose the file cloak truncates; give the path of the file itself", o.path);
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
		return err_set(err, "--console: %s exists and is neither a regular file nor a character device; give "
				    "another path", o.path);
	return 0;
}

static void cons_help(FILE *out)
{
	fprintf(out, "  --console stdio|file=PATH|socket=PATH\n"
		     "                       a virtio-console (hvc0) on cloak's stdio, a file (output only; a\n"
		     "                       symbolic link is refused) or a Unix socket cloak listens on\n");
}

static void cons_fini(struct dev_host *host);

static int cons_init(struct dev_host *host, struct cloak_err *err)
{
	struct vconsole *c = &cons;
	const char *value = config_device_value(host->cfg, "console", 0);
	struct virtio_console_options o;

	*c = (struct vconsole){ .out_fd = -1, .listen_fd = -1, .client_fd = -1 };
	if (!value)
		return 0;
	if (virtio_console_parse_options(value, &o, err) < 0)
		return -1;
	c->req = malloc(sizeof(*c->req));
	if (!c->req) {
		err_set(err, "out of memory");
		goto fail;
	}
	switch (o.kind) {
	case CONSOLE_STDIO:
		/* Input from stdin stays with COM1, which reads it already. */
		c->out_fd = STDOUT_FILENO;
		break;
	case CONSOLE_FILE:
		/*
		 * cloak still runs as root here: a symbolic link at PATH would let
		 * whoever can write its directory choose the file truncated, so none
		 * is followed. O_NONBLOCK keeps a FIFO without a reader from hanging.
		 */
		c->out_fd = open(o.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
				 0644);
		if (c->out_fd < 0 && errno == ELOOP) {
			err_set(err, "--console: %s is a symbolic link; cloak does not follow one, since whoever "
				     "placed it would choose the file cloak truncates; give the path of the file itself",
				o.path);
			goto fail;
		}
		if (c->out_fd < 0) {
			err_errno(err, "--console: cannot create %s", o.path);
			goto fail;
		}
		/* Output then blocks as it should on a terminal; a reader that is slow just slows the guest's hvc0. */
		(void)fcntl(c->out_fd, F_SETFL, fcntl(c->out_fd, F_GETFL) & ~O_NONBLOCK);
		break;
	case CONSOLE_SOCKET:
		if (cons_listen(c, o.path, err) < 0)
			goto fail;
		break;
	}
	if (virtio_pci_init(&c->vd, host, &cons_ops, "virtio-console0", c, err) < 0)
		goto fail;
	c->attached = true;
	if (c->listen_fd >= 0 && devhost_watch(host, c->listen_fd, EPOLLIN, cons_accept, c, err) < 0)
		goto fail;
	return 0;
fail:
	/* Undo the PCI function here (fini undoes only an attached one); fini removes the socket file and may run again. */
	if (!c->attached && c->vd.host)
		virtio_pci_fini(&c->vd);
	cons_fini(host);
	return -1;
}

static void cons_fini(struct dev_host *host)
{
	struct vconsole *c = &cons;

	if (c->listen_fd >= 0)
		devhost_unwatch(host, c->listen_fd);
	if (c->client_fd >= 0)
		cons_drop_client(c);
	if (c->attached)
		virtio_pci_fini(&c->vd);
	if (c->listen_fd >= 0) {
		close(c->listen_fd);
		if (c->sock_path)
			unlink(c->sock_path);
	}
	if (c->out_fd >= 0 && c->out_fd != STDOUT_FILENO)
		close(c->out_fd);
	free(c->req);
	*c = (struct vconsole){ .out_fd = -1, .listen_fd = -1, .client_fd = -1 };
}

const struct device_ops virtio_console_device = {
	.name = "virtio-console",
	.option = "console",
	.parse = cons_parse,
	.probe = cons_probe,
	.help = cons_help,
	.init = cons_init,
	.fini = cons_fini,
};
