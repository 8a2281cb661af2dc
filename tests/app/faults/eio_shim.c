/* LD_PRELOAD shim for the fault suite: while the file named by $FAULT_EIO_FLAG exists,
 * write/pwrite/writev/fsync/fdatasync on files under $FAULT_EIO_PREFIX fail with EIO,
 * as a failing disk would. Everything else passes through. Compiled by the test. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static int failing(int fd) {
    const char *prefix = getenv("FAULT_EIO_PREFIX");
    const char *flag = getenv("FAULT_EIO_FLAG");
    if (prefix == NULL || flag == NULL || access(flag, F_OK) != 0) return 0;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 0) return 0;
    path[n] = '\0';
    return strncmp(path, prefix, strlen(prefix)) == 0;
}

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef int (*sync_fn)(int);

#define REAL(name, type) static type real_##name; if (!real_##name) real_##name = (type)dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void *buf, size_t count) {
    REAL(write, write_fn);
    if (failing(fd)) { errno = EIO; return -1; }
    return real_write(fd, buf, count);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) {
    REAL(pwrite, pwrite_fn);
    if (failing(fd)) { errno = EIO; return -1; }
    return real_pwrite(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off_t offset) {
    REAL(pwrite64, pwrite_fn);
    if (failing(fd)) { errno = EIO; return -1; }
    return real_pwrite64(fd, buf, count, offset);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt) {
    REAL(writev, writev_fn);
    if (failing(fd)) { errno = EIO; return -1; }
    return real_writev(fd, iov, iovcnt);
}

int fsync(int fd) {
    REAL(fsync, sync_fn);
    if (failing(fd)) { errno = EIO; return -1; }
    return real_fsync(fd);
}

int fdatasync(int fd) {
    REAL(fdatasync, sync_fn);
    if (failing(fd)) { errno = EIO; return -1; }
    return real_fdatasync(fd);
}
