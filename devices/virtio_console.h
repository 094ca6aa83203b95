/* virtio_console.h: the options of virtio-console, exposed for the unit tests. */
#ifndef CLOAK_VIRTIO_CONSOLE_H
#define CLOAK_VIRTIO_CONSOLE_H

#include "cloak.h"

enum console_kind { CONSOLE_STDIO, CONSOLE_FILE, CONSOLE_SOCKET };

/* --console stdio|file=PATH|socket=PATH. */
struct virtio_console_options {
	enum console_kind kind;
	const char *path;  /* file= and socket=: points into the value */
};

/* One --console value; the message names --console and the remedy. */
int virtio_console_parse_options(const char *value, struct virtio_console_options *out, struct cloak_err *err);

#endif
