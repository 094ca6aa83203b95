/* sev_files.c: the small files of the SEV launch: certificates, sessions, keys, measurements, secrets. */
#include "sev/sev.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *file_kind(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

int sev_file_open_regular(const char *path, const char *what, struct stat *st, struct cloak_err *err)
{
	int fd;

	/*
	 * O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer
	 * forever, before fstat could refuse it. It changes nothing for regular files.
	 */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return err_set(err, "%s %s does not exist; check the path", what, path);
		return err_errno(err, "cannot open %s %s", what, path);
	}
	if (fstat(fd, st) < 0) {
		err_errno(err, "cannot stat %s %s", what, path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return err_set(err, "%s %s is %s, not a regular file; give the file itself", what, path,
			       file_kind(st->st_mode));
	}
	return fd;
}

int sev_file_read(const char *path, const char *what, size_t max, uint8_t **out, size_t *len,
		  struct cloak_err *err)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd;

	fd = sev_file_open_regular(path, what, &st, err);
	if (fd < 0)
		return -1;
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return err_set(err, "%s %s is %llu bytes; at most %zu are expected, so it is not the right file", what,
			       path, (unsigned long long)st.st_size, max);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return err_set(err, "out of memory");
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			close(fd);
			return err_errno(err, "cannot read %s %s", what, path);
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = 0;
	*out = buf;
	*len = got;
	return 0;
}

int sev_file_read_b64(const char *path, const char *what, size_t max, uint8_t **out, size_t *len,
		      struct cloak_err *err)
{
	uint8_t *text;
	size_t n;
	int rc;

	if (sev_file_read(path, what, max * 2 + 64, &text, &n, err) < 0)
		return -1;
	rc = sev_b64_decode((const char *)text, n, out, len);
	free(text);
	if (rc < 0)
		return err_set(err, "%s %s is not base64 (the format sevctl and cloak-owner write)", what, path);
	if (*len > max) {
		free(*out);
		return err_set(err, "%s %s decodes to %zu bytes; at most %zu are expected", what, path, *len, max);
	}
	return 0;
}

int sev_file_write(const char *path, const char *what, const void *data, size_t len, unsigned mode,
		   struct cloak_err *err)
{
	size_t plen = strlen(path), done = 0;
	char *tmp = malloc(plen + 16);
	int fd;

	if (!tmp)
		return err_set(err, "out of memory");
	snprintf(tmp, plen + 16, "%s.tmpXXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err_errno(err, "cannot create %s %s (beside it: %s)", what, path, tmp);
		free(tmp);
		return -1;
	}
	if (fchmod(fd, mode) < 0)
		goto fail;
	while (done < len) {
		ssize_t n = write(fd, (const uint8_t *)data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	free(tmp);
	return 0;
fail:
	err_errno(err, "cannot write %s %s", what, path);
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

EVP_PKEY *sev_key_load_pem(const char *path, const char *what, struct cloak_err *err)
{
	struct stat st;
	EVP_PKEY *k;
	FILE *f;
	int fd;

	fd = sev_file_open_regular(path, what, &st, err);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "r");
	if (!f) {
		err_errno(err, "cannot read %s %s", what, path);
		close(fd);
		return NULL;
	}
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_EC) {
		EVP_PKEY_free(k);
		err_set(err, "%s %s is not a PEM EC private key; give the file `cloak sev-export --sev-sim-key` made",
			what, path);
		return NULL;
	}
	return k;
}

int sev_key_save_pem(EVP_PKEY *key, const char *path, struct cloak_err *err)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data = NULL;
	long n;
	int rc = -1;

	if (!b || PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) != 1) {
		err_set(err, "cannot encode the key as PEM (OpenSSL)");
		goto out;
	}
	n = BIO_get_mem_data(b, &data);
	rc = sev_file_write(path, "key file", data, (size_t)n, 0600, err);
out:
	BIO_free(b);
	return rc;
}
