/* conclient.c: test helper: connects to cloak's --console socket=PATH and sends a file as console input. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* usage: conclient SOCKET FILE. cloak creates the socket as it starts, so the connect is retried for 30 s. */
int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[4096];
	int fd, in, tries;
	ssize_t n;

	if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: conclient SOCKET FILE\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	in = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		fprintf(stderr, "conclient: cannot open %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	for (tries = 0;; tries++) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			fprintf(stderr, "conclient: socket: %s\n", strerror(errno));
			return 1;
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		close(fd);
		if (tries == 300) {
			fprintf(stderr, "conclient: cannot connect to %s: %s\n", argv[1], strerror(errno));
			return 1;
		}
		nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		const char *p = buf;

		while (n > 0) {
			ssize_t w = write(fd, p, (size_t)n);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				fprintf(stderr, "conclient: write: %s\n", strerror(errno));
				return 1;
			}
			p += w;
			n -= w;
		}
	}
	close(fd);
	return n < 0 ? 1 : 0;
}
