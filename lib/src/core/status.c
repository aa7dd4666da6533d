/* Status strings, the per-thread error detail, and small shared helpers. */
#define _GNU_SOURCE /* renameat2 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util_impl.h"

/* Room for two paths of PATH_MAX and the words around them: a detail that
 * names a long path must not lose its reason at the end. */
static _Thread_local char tls_detail[10240];
static _Thread_local mc_error_reason tls_reason;

const char *mc_strerror(mc_status st)
{
    switch (st) {
    case MC_OK: return "success";
    case MC_ERR_NOMEM: return "out of memory";
    case MC_ERR_INVALID_ARG: return "invalid argument";
    case MC_ERR_IO: return "I/O error";
    case MC_ERR_HDF5: return "HDF5 error";
    case MC_ERR_FAISS: return "FAISS error";
    case MC_ERR_DIM_MISMATCH: return "dimension mismatch";
    case MC_ERR_BAD_DATA: return "bad data";
    case MC_ERR_CANCELLED: return "cancelled";
    }
    return "unknown error";
}

const char *mc_last_error_detail(void) { return tls_detail; }

mc_error_reason mc_last_error_reason(void) { return tls_reason; }

const char *mc_version(void) { return MC_VERSION_STRING; }

void mc_clear_error(void)
{
    tls_detail[0] = '\0';
    tls_reason = MC_REASON_NONE;
}

static mc_status vfail(mc_error_reason reason, mc_status st, const char *fmt, va_list ap)
{
    vsnprintf(tls_detail, sizeof tls_detail, fmt, ap);
    tls_reason = reason;
    return st;
}

mc_status mc_fail(mc_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    st = vfail(MC_REASON_NONE, st, fmt, ap);
    va_end(ap);
    return st;
}

mc_status mc_fail_reason(mc_error_reason reason, mc_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    st = vfail(reason, st, fmt, ap);
    va_end(ap);
    return st;
}

int mc_progress_stop(mc_progress_fn fn, void *data, const char *phase, uint64_t done,
                     uint64_t total)
{
    return fn && fn(data, phase, done, total) != 0;
}

mc_status mc_cancelled(const char *phase)
{
    return mc_fail(MC_ERR_CANCELLED, "cancelled by the progress callback during %s", phase);
}

/* ---- memory limit ------------------------------------------------------ */

/* Per thread, like the error detail: a program that runs readers in several
 * threads sets each one's cap, and no thread can change another's. */
static _Thread_local uint64_t memory_limit; /* 0 = what is available */

void mc_set_memory_limit(uint64_t bytes) { memory_limit = bytes; }

/* MemAvailable from /proc/meminfo (kB), else physical pages; 0 if unknown. */
static uint64_t memory_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        unsigned long long kb = 0;
        int found = 0;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
                found = 1;
                break;
            }
        fclose(f);
        if (found && kb > 0 && kb < UINT64_MAX / 1024) return (uint64_t)kb * 1024;
    }
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    if (pages > 0 && psize > 0) return (uint64_t)pages * (uint64_t)psize;
#endif
    return 0;
}

uint64_t mc_memory_limit(void)
{
    if (memory_limit) return memory_limit;
    uint64_t a = memory_available();
    return a ? a : UINT64_MAX;
}

static void format_bytes(char *buf, size_t cap, uint64_t b)
{
    static const char *const unit[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = (double)b;
    int u = 0;
    while (v >= 1024.0 && u < 6) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, cap, "%llu bytes", (unsigned long long)b);
    else
        snprintf(buf, cap, "%.1f %s", v, unit[u]);
}

mc_status mc_check_memory(const char *file, const char *what, uint64_t n, uint64_t k,
                          uint64_t elem)
{
    const char *sep = file && file[0] ? ": " : "";
    if (!file) file = "";
    if ((k && n > UINT64_MAX / k) || (elem && n * k > UINT64_MAX / elem) ||
        (n * k) * elem > (uint64_t)SIZE_MAX)
        return mc_fail(MC_ERR_BAD_DATA, "%s%s%s of %llu x %llu is too large to address", file,
                       sep, what, (unsigned long long)n, (unsigned long long)k);
    uint64_t need = n * k * elem, lim = mc_memory_limit();
    if (need <= lim) return MC_OK;
    char a[32], b[32], shape[64];
    format_bytes(a, sizeof a, need);
    format_bytes(b, sizeof b, lim);
    if (k == 1)
        snprintf(shape, sizeof shape, "%llu values", (unsigned long long)n);
    else
        snprintf(shape, sizeof shape, "%llu x %llu", (unsigned long long)n, (unsigned long long)k);
    return mc_fail_reason(MC_REASON_MEMORY_LIMIT, MC_ERR_NOMEM,
                          "%s%s%s (%s) would take %s, more than the memory limit of %s (%s)",
                   file, sep, what, shape, a, b,
                   memory_limit ? "set by the caller" : "the memory available");
}

void *mc_malloc_array(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size) return NULL;
    return malloc(n * size != 0 ? n * size : 1);
}

void *mc_calloc_array(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size) return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

int mc_grow_array(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 16;
    while (nc < need) {
        if (nc > SIZE_MAX / 2) return -1;
        nc *= 2;
    }
    if (size && nc > SIZE_MAX / size) return -1;
    void *q = realloc(*p, nc * size);
    if (!q) return -1;
    *p = q;
    *cap = nc;
    return 0;
}

int mc_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int mc_cmp_i64_pair(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

/* Every temporary name handed out, for mc_remove_temporaries(). Append-only:
 * a name whose file was renamed into place or removed no longer exists, and
 * unlink() of it fails harmlessly. The count is published after the pointer,
 * so a signal handler never reads a half-written slot. */
#define MAX_TEMPORARIES 1024
static char *temporaries[MAX_TEMPORARIES];
static volatile sig_atomic_t n_temporaries;
static pthread_mutex_t temporaries_lock = PTHREAD_MUTEX_INITIALIZER;

void mc_register_temporary(const char *path)
{
    if (!path) return;
    pthread_mutex_lock(&temporaries_lock);
    sig_atomic_t k = n_temporaries;
    if (k < MAX_TEMPORARIES && (temporaries[k] = strdup(path)) != NULL) {
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        n_temporaries = k + 1;
    }
    pthread_mutex_unlock(&temporaries_lock);
}

void mc_remove_temporaries(void)
{
    sig_atomic_t k = n_temporaries;
    for (sig_atomic_t i = 0; i < k; i++)
        if (temporaries[i]) unlink(temporaries[i]);
}

/* Temporaries of this destination left by runs that were killed outright
 * (SIGKILL, a power cut: nothing could remove them): ".NAME.tmpPID.K" whose
 * PID is no process here any more and that nobody has written for ten
 * minutes (a writer on another machine sharing the directory, whose PID
 * means nothing here, is still writing its file). */
static void sweep_stale(const char *path, size_t dirlen)
{
    char dir[4096];
    if (dirlen >= sizeof dir) return;
    if (dirlen) memcpy(dir, path, dirlen);
    dir[dirlen] = '\0';
    char prefix[1024];
    int pl = snprintf(prefix, sizeof prefix, ".%s.tmp", path + dirlen);
    if (pl < 0 || (size_t)pl >= sizeof prefix) return;
    DIR *d = opendir(dirlen ? dir : ".");
    if (!d) return;
    time_t now = time(NULL);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, prefix, (size_t)pl) != 0) continue;
        char *end = NULL;
        long pid = strtol(de->d_name + pl, &end, 10);
        if (pid <= 0 || !end || *end != '.' || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        char full[4096 + 1024];
        struct stat st;
        if (snprintf(full, sizeof full, "%s%s", dir, de->d_name) >= (int)sizeof full) continue;
        if (lstat(full, &st) == 0 && S_ISREG(st.st_mode) && now - st.st_mtime > 600) unlink(full);
    }
    closedir(d);
}

char *mc_temp_path_for(const char *path)
{
    /* Same directory as the destination so that rename() is atomic; the
     * leading dot and the pid keep it out of the way of globbing users. */
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    size_t len = strlen(path) + 64;
    char *tmp = malloc(len);
    if (!tmp) return NULL;
    sweep_stale(path, dirlen);
    /* ".NAME.tmpPID.K" adds up to 30 bytes to NAME: a name near the file
     * system's limit (NAME_MAX, 255) gets a short temporary instead */
    int short_name = strlen(path + dirlen) + 30 > 255;
    for (unsigned attempt = 0; attempt < 1000; attempt++) {
        if (short_name)
            snprintf(tmp, len, "%.*s.magclust.tmp%ld.%u", (int)dirlen, path, (long)getpid(), attempt);
        else
            snprintf(tmp, len, "%.*s.%s.tmp%ld.%u", (int)dirlen, path, path + dirlen, (long)getpid(),
                     attempt);
        if (access(tmp, F_OK) != 0) {
            mc_register_temporary(tmp);
            return tmp;
        }
    }
    free(tmp);
    return NULL;
}

mc_status mc_atomic_open(mc_atomic_file *af, const char *path)
{
    af->fp = NULL;
    af->final_path = NULL;
    af->tmp_path = mc_temp_path_for(path);
    if (!af->tmp_path) return mc_fail(MC_ERR_NOMEM, "%s: cannot make a temporary name", path);
    af->final_path = strdup(path);
    if (!af->final_path) {
        free(af->tmp_path);
        af->tmp_path = NULL;
        return mc_fail(MC_ERR_NOMEM, "out of memory");
    }
    int fd = open(af->tmp_path, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd >= 0) af->fp = fdopen(fd, "w");
    if (!af->fp) {
        int err = errno;
        if (fd >= 0) {
            close(fd);
            unlink(af->tmp_path);
        }
        mc_status st = mc_fail(MC_ERR_IO, "%s: cannot create: %s", path, strerror(err));
        free(af->tmp_path);
        free(af->final_path);
        af->tmp_path = af->final_path = NULL;
        return st;
    }
    return MC_OK;
}

mc_status mc_check_destination(const char *path, int may_exist, int *out_mode)
{
    struct stat st;
    if (out_mode) *out_mode = -1;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
        /* a rename would replace the link itself (/dev/stdout made a regular
         * file for the whole system), a dangling one too */
        return mc_fail(MC_ERR_IO, "%s: is a symbolic link; not replaced (name the file it points to)", path);
    if (stat(path, &st) != 0) return MC_OK;
    if (!S_ISREG(st.st_mode))
        /* a rename would replace the device, pipe or directory itself */
        return mc_fail(MC_ERR_IO, "%s: not a regular file (a device, pipe or directory); not replaced", path);
    if (!may_exist)
        return mc_fail(MC_ERR_IO, "%s: exists now (written by another run meanwhile?); not replaced", path);
    if (out_mode) *out_mode = (int)(st.st_mode & 07777);
    return MC_OK;
}

mc_status mc_sync_file(const char *tmp, const char *path)
{
    /* A failed sync (EIO, or ENOSPC where the file system allocates late)
     * means the content may never reach the disk: the file is not put in
     * place, as a failed write is not. */
    int fd = open(tmp, O_RDONLY);
    if (fd < 0) return MC_OK; /* the rename says what is wrong */
    int bad = fsync(fd) != 0, err = errno;
    close(fd);
    return bad ? mc_fail(MC_ERR_IO, "%s: write failed: %s", path, strerror(err)) : MC_OK;
}

/* ---- outputs that must be new -------------------------------------------- */

#define MUST_BE_NEW_MAX 16
static _Thread_local char *must_be_new[MUST_BE_NEW_MAX];
static _Thread_local size_t n_must_be_new;

mc_status mc_output_require_new(const char *path)
{
    mc_clear_error();
    if (!path) {
        for (size_t i = 0; i < n_must_be_new; i++) free(must_be_new[i]);
        n_must_be_new = 0;
        return MC_OK;
    }
    if (n_must_be_new == MUST_BE_NEW_MAX || !(must_be_new[n_must_be_new] = strdup(path)))
        return mc_fail(MC_ERR_NOMEM, "%s: cannot record it as a new output", path);
    n_must_be_new++;
    return MC_OK;
}

static int is_must_be_new(const char *path)
{
    for (size_t i = 0; i < n_must_be_new; i++)
        if (strcmp(must_be_new[i], path) == 0) return 1;
    return 0;
}

/* Rename tmp to path unless path exists, atomically: renameat2 with
 * RENAME_NOREPLACE, or, where the file system lacks it, link + unlink (a
 * link never replaces). 0, or -1 with errno (EEXIST: path exists). */
static int rename_noreplace(const char *tmp, const char *path)
{
#ifdef RENAME_NOREPLACE
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return -1;
#endif
    if (link(tmp, path) != 0) return -1;
    unlink(tmp);
    return 0;
}

mc_status mc_place_file_ex(const char *tmp, const char *path, int may_replace)
{
    int mode;
    mc_status st = mc_check_destination(path, may_replace, &mode);
    if (st != MC_OK) {
        unlink(tmp);
        return st;
    }
    /* a replaced file keeps its permissions (a 0600 result stays 0600); a
     * new one has what the umask gives */
    if (mode >= 0) chmod(tmp, (mode_t)mode);
    if ((may_replace ? rename(tmp, path) : rename_noreplace(tmp, path)) != 0) {
        int err = errno;
        unlink(tmp);
        /* a file that appeared meanwhile: say what it is */
        if (err == EEXIST && (st = mc_check_destination(path, 0, NULL)) != MC_OK) return st;
        return mc_fail(MC_ERR_IO, "%s: cannot rename into place: %s", path, strerror(err));
    }
    return MC_OK;
}

mc_status mc_place_file(const char *tmp, const char *path)
{
    return mc_place_file_ex(tmp, path, !is_must_be_new(path));
}

mc_status mc_rename_into_place(const char *tmp, const char *path)
{
    mc_status st = mc_sync_file(tmp, path);
    if (st != MC_OK) {
        unlink(tmp);
        return st;
    }
    return mc_place_file(tmp, path);
}

/* Flushes, fsyncs and closes the temporary, without renaming it. */
static mc_status atomic_close(mc_atomic_file *af)
{
    if (!af->fp) return mc_fail(MC_ERR_IO, "no open output");
    int bad = ferror(af->fp) || fflush(af->fp) != 0 || fsync(fileno(af->fp)) != 0;
    int err = errno;
    if (fclose(af->fp) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    af->fp = NULL;
    return bad ? mc_fail(MC_ERR_IO, "%s: write failed: %s", af->final_path, strerror(err)) : MC_OK;
}

/* Renames a closed temporary into place (mc_place_file removes it on
 * failure); either way the temporary is gone afterwards. No second sync:
 * atomic_close synced it, and a sync failing here, after the companion of
 * a pair was placed, would leave half the pair. */
static mc_status atomic_place(mc_atomic_file *af)
{
    mc_status st = mc_place_file(af->tmp_path, af->final_path);
    free(af->tmp_path);
    af->tmp_path = NULL;
    return st;
}

mc_status mc_atomic_commit_pair(mc_atomic_file *data, mc_atomic_file *companion)
{
    int with = companion && companion->fp;
    mc_status st = atomic_close(data);
    if (st == MC_OK && with) st = atomic_close(companion);
    int placed = 0;
    if (st == MC_OK && with) {
        st = atomic_place(companion);
        placed = st == MC_OK;
    }
    if (st == MC_OK) {
        st = atomic_place(data);
        if (st != MC_OK && placed) unlink(companion->final_path);
    }
    mc_atomic_abort(data);
    if (companion) mc_atomic_abort(companion);
    return st;
}

mc_status mc_atomic_commit(mc_atomic_file *af) { return mc_atomic_commit_pair(af, NULL); }

void mc_atomic_abort(mc_atomic_file *af)
{
    if (af->fp) fclose(af->fp);
    if (af->tmp_path) unlink(af->tmp_path);
    free(af->tmp_path);
    free(af->final_path);
    af->fp = NULL;
    af->tmp_path = af->final_path = NULL;
}
