/* failwrite.so: an LD_PRELOAD shim that makes writes fail at the n-th call,
 * for tests/fault_injection_test.sh (issue 18: every write of a small run,
 * failed in turn, must end in a clean error and leave no partial state).
 *
 * Environment:
 *   MC_FAULT_DIR=DIR    only files under DIR count: descriptors opened there
 *                       (open, open64, openat, creat, fopen, fdopen); stdout,
 *                       stderr and files elsewhere never fail
 *   MC_FAULT_AT=N       the N-th counted call fails, and every later one
 *                       ("the disk stays full")
 *   MC_FAULT_ONCE=1     ... only the N-th (a transient error)
 *   MC_FAULT_ERRNO=E    ENOSPC (default), EIO, EFBIG or EDQUOT
 *   MC_FAULT_COUNT=FILE at exit, "CALLS FAILED\n" into FILE: the counted
 *                       calls, and how many of them failed (made to, or
 *                       failing by themselves: a file-size limit); without
 *                       MC_FAULT_AT nothing is made to fail
 *   MC_FAULT_LOG=FILE   one line per counted call: number, call, bytes,
 *                       file, and "FAILED" when it was made to fail
 *   MC_FAULT_SKIP=LIST  calls not counted, comma-separated (close,ftruncate)
 *   MC_FAULT_NOSYNC=1   counted fsync and fdatasync calls that do not fail
 *                       return 0 without syncing (a test's thousand runs
 *                       need not wait for the disk)
 *
 * Counted calls: write, pwrite, pwrite64, writev, pwritev, pwritev64,
 * ftruncate, ftruncate64 and close on a descriptor opened for writing under
 * DIR; fsync and fdatasync on any descriptor of a file under DIR (magclust
 * syncs a closed HDF5 temporary through a read-only descriptor). A close
 * made to fail still closes the descriptor, as close(2) does on Linux.
 * dup, dup2 and dup3 give the new descriptor the old one's standing (an
 * aborted HDF5 output, its descriptor swapped for a memory file by dup2,
 * no longer counts).
 *
 * glibc's stdio writes through its internal __write, which no preloaded
 * library can interpose; so a FILE opened for writing under DIR (fopen,
 * fopen64, fdopen of a counted descriptor) is a fopencookie() stream whose
 * writes and close go through the counted calls above; fileno() of such a
 * stream gives the descriptor underneath (magclust fsyncs it).
 *
 * Under AddressSanitizer the ASan runtime must come first in LD_PRELOAD
 * (the test script puts it there); this library is built without
 * sanitizers. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* glibc's _FORTIFY_SOURCE entry points for open without a mode */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

/* ---- the real functions ---------------------------------------------------- */

static struct {
    int (*open)(const char *, int, ...);
    int (*open64)(const char *, int, ...);
    int (*openat)(int, const char *, int, ...);
    int (*openat64)(int, const char *, int, ...);
    int (*close)(int);
    int (*dup)(int);
    int (*dup2)(int, int);
    int (*dup3)(int, int, int);
    ssize_t (*write)(int, const void *, size_t);
    ssize_t (*pwrite)(int, const void *, size_t, off_t);
    ssize_t (*pwrite64)(int, const void *, size_t, off64_t);
    ssize_t (*writev)(int, const struct iovec *, int);
    ssize_t (*pwritev)(int, const struct iovec *, int, off_t);
    ssize_t (*pwritev64)(int, const struct iovec *, int, off64_t);
    int (*fsync)(int);
    int (*fdatasync)(int);
    int (*ftruncate)(int, off_t);
    int (*ftruncate64)(int, off64_t);
    FILE *(*fopen)(const char *, const char *);
    FILE *(*fopen64)(const char *, const char *);
    FILE *(*fdopen)(int, const char *);
    int (*fileno)(FILE *);
    int (*fileno_unlocked)(FILE *);
} real;

/* ---- configuration ------------------------------------------------------------ */

static char fault_dir[PATH_MAX]; /* realpath of MC_FAULT_DIR; "" when unset */
static size_t fault_dir_len;
static long fault_at;            /* 0: count only */
static int fault_once;
static int fault_errno = ENOSPC;
static int no_sync;
static char count_path[PATH_MAX];
static int log_fd = -1;
static char skip[256]; /* ",close,ftruncate," */

static atomic_long n_calls;
static atomic_long n_failed;

/* Per descriptor: 0 not ours, 1 a file under the directory (read-only),
 * 2 opened for writing under it. */
#define MAX_FD 65536
static atomic_uchar fd_state[MAX_FD];

static pthread_once_t once = PTHREAD_ONCE_INIT;

#define RESOLVE(name) (*(void **)&real.name = dlsym(RTLD_NEXT, #name))

static void setup(void)
{
    RESOLVE(open);
    RESOLVE(open64);
    RESOLVE(openat);
    RESOLVE(openat64);
    RESOLVE(close);
    RESOLVE(dup);
    RESOLVE(dup2);
    RESOLVE(dup3);
    RESOLVE(write);
    RESOLVE(pwrite);
    RESOLVE(pwrite64);
    RESOLVE(writev);
    RESOLVE(pwritev);
    RESOLVE(pwritev64);
    RESOLVE(fsync);
    RESOLVE(fdatasync);
    RESOLVE(ftruncate);
    RESOLVE(ftruncate64);
    RESOLVE(fopen);
    RESOLVE(fopen64);
    RESOLVE(fdopen);
    RESOLVE(fileno);
    RESOLVE(fileno_unlocked);

    const char *dir = getenv("MC_FAULT_DIR");
    if (dir && dir[0] && realpath(dir, fault_dir)) fault_dir_len = strlen(fault_dir);
    else fault_dir[0] = '\0';
    const char *at = getenv("MC_FAULT_AT");
    if (at && at[0]) fault_at = strtol(at, NULL, 10);
    const char *o = getenv("MC_FAULT_ONCE");
    fault_once = o && strcmp(o, "1") == 0;
    const char *ns = getenv("MC_FAULT_NOSYNC");
    no_sync = ns && strcmp(ns, "1") == 0;
    const char *e = getenv("MC_FAULT_ERRNO");
    if (e && strcmp(e, "EIO") == 0) fault_errno = EIO;
    else if (e && strcmp(e, "EFBIG") == 0) fault_errno = EFBIG;
    else if (e && strcmp(e, "EDQUOT") == 0) fault_errno = EDQUOT;
    const char *c = getenv("MC_FAULT_COUNT");
    if (c && strlen(c) < sizeof count_path) strcpy(count_path, c);
    const char *sk = getenv("MC_FAULT_SKIP");
    if (sk && strlen(sk) + 3 < sizeof skip) snprintf(skip, sizeof skip, ",%s,", sk);
    const char *l = getenv("MC_FAULT_LOG");
    if (l && l[0]) log_fd = real.open(l, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

static void init(void) { pthread_once(&once, setup); }

__attribute__((destructor)) static void report_count(void)
{
    init();
    if (!count_path[0]) return;
    int fd = real.open(count_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%ld %ld\n", atomic_load(&n_calls), atomic_load(&n_failed));
    if (n > 0) {
        ssize_t w = real.write(fd, buf, (size_t)n);
        (void)w;
    }
    real.close(fd);
}

/* ---- which descriptors count ----------------------------------------------- */

static int state_of(int fd) { return fd >= 0 && fd < MAX_FD ? atomic_load(&fd_state[fd]) : 0; }

static void set_state(int fd, int s)
{
    if (fd >= 0 && fd < MAX_FD) atomic_store(&fd_state[fd], (unsigned char)s);
}

/* Whether PATH (relative to DIRFD) names a file under the fault directory:
 * its directory, resolved, starts with the fault directory. The file itself
 * may not exist yet (O_CREAT). */
static int under_fault_dir(int dirfd, const char *path)
{
    if (!fault_dir_len || !path) return 0;
    char full[2 * PATH_MAX];
    if (path[0] == '/') {
        snprintf(full, sizeof full, "%s", path);
    } else {
        char base[PATH_MAX];
        if (dirfd == AT_FDCWD) {
            if (!getcwd(base, sizeof base)) return 0;
        } else {
            char link[64];
            snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
            ssize_t n = readlink(link, base, sizeof base - 1);
            if (n < 0) return 0;
            base[n] = '\0';
        }
        snprintf(full, sizeof full, "%s/%s", base, path);
    }
    char *slash = strrchr(full, '/');
    if (!slash) return 0;
    *slash = '\0';
    char resolved[PATH_MAX];
    if (!realpath(full[0] ? full : "/", resolved)) return 0;
    return strncmp(resolved, fault_dir, fault_dir_len) == 0 &&
           (resolved[fault_dir_len] == '\0' || resolved[fault_dir_len] == '/');
}

static void track(int fd, int dirfd, const char *path, int flags)
{
    if (fd < 0) return;
    int s = 0;
    if (under_fault_dir(dirfd, path))
        s = (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC)) ? 2 : 1;
    set_state(fd, s);
}

static void log_call(long n, const char *call, int fd, size_t len, int failed)
{
    if (log_fd < 0) return;
    char link[64], target[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t t = readlink(link, target, sizeof target - 1);
    if (t < 0) t = 0;
    target[t] = '\0';
    char line[PATH_MAX + 128];
    int k = snprintf(line, sizeof line, "%ld %s %zu %s%s\n", n, call, len, t ? target : "?",
                     failed ? " FAILED" : "");
    if (k > 0) {
        ssize_t w = real.write(log_fd, line, (size_t)k < sizeof line ? (size_t)k : sizeof line - 1);
        (void)w;
    }
}

/* Counts one call on FD if it counts (at least state MIN); returns nonzero,
 * with errno set, when this call is to fail. */
static int fault(const char *call, int fd, size_t len, int min)
{
    init();
    if (state_of(fd) < min) return 0;
    if (skip[0]) {
        char key[32];
        snprintf(key, sizeof key, ",%s,", call);
        if (strstr(skip, key)) return 0;
    }
    long n = atomic_fetch_add(&n_calls, 1) + 1;
    int fail = fault_at > 0 && (fault_once ? n == fault_at : n >= fault_at);
    if (fail) atomic_fetch_add(&n_failed, 1);
    /* the log is written before close() so that the descriptor still names the file */
    log_call(n, call, fd, len, fail);
    if (fail) errno = fault_errno;
    return fail;
}

/* ---- opening --------------------------------------------------------------- */

static mode_t mode_arg(int flags, va_list ap)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
    init();
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    int fd = real.open(path, flags, mode);
    track(fd, AT_FDCWD, path, flags);
    return fd;
}

int open64(const char *path, int flags, ...)
{
    init();
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    int fd = real.open64(path, flags, mode);
    track(fd, AT_FDCWD, path, flags);
    return fd;
}

int openat(int dirfd, const char *path, int flags, ...)
{
    init();
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    int fd = real.openat(dirfd, path, flags, mode);
    track(fd, dirfd, path, flags);
    return fd;
}

int openat64(int dirfd, const char *path, int flags, ...)
{
    init();
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    int fd = real.openat64(dirfd, path, flags, mode);
    track(fd, dirfd, path, flags);
    return fd;
}

int __open_2(const char *path, int flags) { return open(path, flags); }
int __open64_2(const char *path, int flags) { return open64(path, flags); }
int __openat_2(int dirfd, const char *path, int flags) { return openat(dirfd, path, flags); }
int __openat64_2(int dirfd, const char *path, int flags) { return openat64(dirfd, path, flags); }

int creat(const char *path, mode_t mode) { return open(path, O_WRONLY | O_CREAT | O_TRUNC, mode); }
int creat64(const char *path, mode_t mode) { return open64(path, O_WRONLY | O_CREAT | O_TRUNC, mode); }

int dup(int fd)
{
    init();
    int r = real.dup(fd);
    if (r >= 0) set_state(r, state_of(fd));
    return r;
}

int dup2(int fd, int fd2)
{
    init();
    int r = real.dup2(fd, fd2);
    if (r >= 0 && fd != fd2) set_state(r, state_of(fd));
    return r;
}

int dup3(int fd, int fd2, int flags)
{
    init();
    int r = real.dup3(fd, fd2, flags);
    if (r >= 0) set_state(r, state_of(fd));
    return r;
}

int close(int fd)
{
    int fail = fault("close", fd, 0, 2);
    set_state(fd, 0);
    int r = real.close(fd);
    if (fail) {
        errno = fault_errno;
        return -1;
    }
    return r;
}

/* ---- writing ---------------------------------------------------------------- */

static size_t iov_len(const struct iovec *iov, int n)
{
    size_t s = 0;
    for (int i = 0; iov && i < n; i++) s += iov[i].iov_len;
    return s;
}

/* The result of a counted call that was let through: a failure of its own
 * (a file-size limit, a real full disk) is counted as failed too. */
static long passed(int fd, int min, long r)
{
    if (r < 0 && state_of(fd) >= min) {
        int err = errno;
        atomic_fetch_add(&n_failed, 1);
        errno = err;
    }
    return r;
}

ssize_t write(int fd, const void *buf, size_t n)
{
    return fault("write", fd, n, 2) ? -1 : passed(fd, 2, real.write(fd, buf, n));
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    return fault("pwrite", fd, n, 2) ? -1 : passed(fd, 2, real.pwrite(fd, buf, n, off));
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    return fault("pwrite64", fd, n, 2) ? -1 : passed(fd, 2, real.pwrite64(fd, buf, n, off));
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
    return fault("writev", fd, iov_len(iov, n), 2) ? -1 : passed(fd, 2, real.writev(fd, iov, n));
}

ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
    return fault("pwritev", fd, iov_len(iov, n), 2) ? -1
                                                     : passed(fd, 2, real.pwritev(fd, iov, n, off));
}

ssize_t pwritev64(int fd, const struct iovec *iov, int n, off64_t off)
{
    return fault("pwritev64", fd, iov_len(iov, n), 2) ? -1
                                                       : passed(fd, 2, real.pwritev64(fd, iov, n, off));
}

int fsync(int fd)
{
    if (fault("fsync", fd, 0, 1)) return -1;
    return no_sync && state_of(fd) ? 0 : (int)passed(fd, 1, real.fsync(fd));
}

int fdatasync(int fd)
{
    if (fault("fdatasync", fd, 0, 1)) return -1;
    return no_sync && state_of(fd) ? 0 : (int)passed(fd, 1, real.fdatasync(fd));
}

int ftruncate(int fd, off_t len)
{
    return fault("ftruncate", fd, (size_t)len, 2) ? -1 : (int)passed(fd, 2, real.ftruncate(fd, len));
}

int ftruncate64(int fd, off64_t len)
{
    return fault("ftruncate64", fd, (size_t)len, 2) ? -1
                                                     : (int)passed(fd, 2, real.ftruncate64(fd, len));
}

/* ---- stdio streams over counted descriptors --------------------------------- */

typedef struct {
    int fd;
    FILE *fp;
} cookie;

/* The streams made here, for fileno(). */
#define MAX_STREAMS 256
static cookie *streams[MAX_STREAMS];
static pthread_mutex_t streams_lock = PTHREAD_MUTEX_INITIALIZER;

static ssize_t cookie_read(void *c, char *buf, size_t n) { return read(((cookie *)c)->fd, buf, n); }

static ssize_t cookie_write(void *c, const char *buf, size_t n)
{
    /* stdio wants all of it, or 0 (with errno) for an error */
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(((cookie *)c)->fd, buf + done, n - done);
        if (w < 0) {
            if (errno == EINTR) continue;
            return 0;
        }
        done += (size_t)w;
    }
    return (ssize_t)n;
}

static int cookie_seek(void *c, off64_t *off, int whence)
{
    off64_t r = lseek64(((cookie *)c)->fd, *off, whence);
    if (r < 0) return -1;
    *off = r;
    return 0;
}

static int cookie_close(void *c)
{
    cookie *k = c;
    pthread_mutex_lock(&streams_lock);
    for (int i = 0; i < MAX_STREAMS; i++)
        if (streams[i] == k) streams[i] = NULL;
    pthread_mutex_unlock(&streams_lock);
    int r = close(k->fd);
    free(k);
    return r;
}

/* A counted stream over FD (a descriptor of state 2), or NULL with errno. */
static FILE *wrap(int fd, const char *mode)
{
    cookie *k = malloc(sizeof *k);
    if (!k) return NULL;
    k->fd = fd;
    cookie_io_functions_t io = {cookie_read, cookie_write, cookie_seek, cookie_close};
    k->fp = fopencookie(k, mode, io);
    if (!k->fp) {
        free(k);
        return NULL;
    }
    pthread_mutex_lock(&streams_lock);
    for (int i = 0; i < MAX_STREAMS; i++)
        if (!streams[i]) {
            streams[i] = k;
            break;
        }
    pthread_mutex_unlock(&streams_lock);
    return k->fp;
}

static int writes_to(const char *mode) { return strpbrk(mode, "wa+") != NULL; }

static int flags_of(const char *mode)
{
    int f = strchr(mode, '+') ? O_RDWR : mode[0] == 'r' ? O_RDONLY : O_WRONLY;
    if (mode[0] == 'w') f |= O_CREAT | O_TRUNC;
    if (mode[0] == 'a') f |= O_CREAT | O_APPEND;
    if (strchr(mode, 'x')) f |= O_EXCL;
    if (strchr(mode, 'e')) f |= O_CLOEXEC;
    return f;
}

static FILE *open_stream(const char *path, const char *mode, FILE *(*fallback)(const char *, const char *))
{
    init();
    if (!writes_to(mode) || !under_fault_dir(AT_FDCWD, path)) return fallback(path, mode);
    int fd = open(path, flags_of(mode), 0666);
    if (fd < 0) return NULL;
    FILE *fp = wrap(fd, mode);
    if (!fp) {
        int err = errno;
        set_state(fd, 0);
        real.close(fd);
        errno = err;
    }
    return fp;
}

FILE *fopen(const char *path, const char *mode)
{
    init();
    return open_stream(path, mode, real.fopen);
}

FILE *fopen64(const char *path, const char *mode)
{
    init();
    return open_stream(path, mode, real.fopen64);
}

FILE *fdopen(int fd, const char *mode)
{
    init();
    if (state_of(fd) == 2) return wrap(fd, mode);
    return real.fdopen(fd, mode);
}

static int stream_fd(FILE *fp)
{
    int fd = -1;
    pthread_mutex_lock(&streams_lock);
    for (int i = 0; i < MAX_STREAMS; i++)
        if (streams[i] && streams[i]->fp == fp) fd = streams[i]->fd;
    pthread_mutex_unlock(&streams_lock);
    return fd;
}

int fileno(FILE *fp)
{
    init();
    int fd = stream_fd(fp);
    return fd >= 0 ? fd : real.fileno(fp);
}

int fileno_unlocked(FILE *fp)
{
    init();
    int fd = stream_fd(fp);
    return fd >= 0 ? fd : real.fileno_unlocked(fp);
}
