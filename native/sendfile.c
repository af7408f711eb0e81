/*
 * sendfile(2) for Node: the one system call a WSGI server needs that Node does not
 * expose. It moves a file's bytes to a socket inside the kernel, with no copy into
 * JavaScript and no JavaScript work per block (PEP 3333's wsgi.file_wrapper, and
 * what gunicorn does with os.sendfile).
 *
 * Each call is one bounded step on libuv's thread pool: it sends until it has sent
 * `max` bytes, the file ends, the socket has not become writable for WAIT_MS, or
 * STEP_MS have passed. Bounding the step hands the pool thread back often, and lets
 * JavaScript notice a client that went away between steps. The descriptors are the
 * caller's own duplicates (dup() here), so Node closing the socket mid-step can
 * never make a reused descriptor number receive the bytes.
 *
 * Built by scripts/build-native.js with the C compiler and Node's own headers; when
 * it cannot be built the server reads the file in 1 MiB blocks instead.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <time.h>
#include <unistd.h>

/* Linux sends at most 0x7ffff000 bytes a call; 16 MiB keeps each call short. */
#define CALL_MAX ((size_t)16 << 20)
/* How long one step may wait for a full socket to take more. */
#define WAIT_MS 50
/* How long one step may run before it hands its pool thread back. */
#define STEP_MS 100

typedef struct {
  napi_async_work work;
  napi_ref callback;
  int out_fd;
  int in_fd;
  int64_t max;
  int64_t sent;
  int error;
  int eof;
} Step;

static int64_t elapsed_ms(const struct timespec *since) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)(now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

static void execute(napi_env env, void *data) {
  (void)env;
  Step *step = data;
  struct timespec started;
  clock_gettime(CLOCK_MONOTONIC, &started);
  while (step->sent < step->max) {
    size_t want = (size_t)(step->max - step->sent);
    if (want > CALL_MAX) want = CALL_MAX;
    /* A NULL offset reads from the file's current position and advances it, as
       read() does: the file wrapper's position stays true for whoever reads next. */
    ssize_t n = sendfile(step->out_fd, step->in_fd, NULL, want);
    if (n > 0) {
      step->sent += n;
      if (elapsed_ms(&started) >= STEP_MS) return;
      continue;
    }
    if (n == 0) {
      step->eof = 1;
      return;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      step->error = errno;
      return;
    }
    /* The socket (non-blocking, as libuv keeps it) is full: wait for room. */
    struct pollfd pfd = {.fd = step->out_fd, .events = POLLOUT, .revents = 0};
    int ready = poll(&pfd, 1, WAIT_MS);
    if (ready < 0 && errno != EINTR) {
      step->error = errno;
      return;
    }
    /* POLLERR or POLLHUP: the next sendfile() reports the socket's error. */
    if (ready == 0 || elapsed_ms(&started) >= STEP_MS) return;
  }
}

static void complete(napi_env env, napi_status status, void *data) {
  Step *step = data;
  napi_value callback, global, argv[3];
  napi_get_reference_value(env, step->callback, &callback);
  napi_get_global(env, &global);
  /* A cancelled work item never ran: report it as ECANCELED. */
  napi_create_int32(env, status == napi_cancelled ? ECANCELED : step->error, &argv[0]);
  napi_create_double(env, (double)step->sent, &argv[1]);
  napi_get_boolean(env, step->eof, &argv[2]);
  napi_delete_reference(env, step->callback);
  napi_delete_async_work(env, step->work);
  free(step);
  napi_call_function(env, global, callback, 3, argv, NULL);
}

static napi_value throw_type_error(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

/* step(outFd, inFd, max, callback(errno, sent, eof)) */
static napi_value step(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4) return throw_type_error(env, "step(outFd, inFd, max, callback)");
  int32_t out_fd, in_fd;
  double max;
  napi_valuetype type;
  if (napi_get_value_int32(env, argv[0], &out_fd) != napi_ok ||
      napi_get_value_int32(env, argv[1], &in_fd) != napi_ok ||
      napi_get_value_double(env, argv[2], &max) != napi_ok || max < 1)
    return throw_type_error(env, "step: the descriptors and max must be numbers, max >= 1");
  napi_typeof(env, argv[3], &type);
  if (type != napi_function) return throw_type_error(env, "step: callback must be a function");
  Step *work = calloc(1, sizeof(Step));
  if (work == NULL) {
    napi_throw_error(env, "ENOMEM", "step: out of memory");
    return NULL;
  }
  work->out_fd = out_fd;
  work->in_fd = in_fd;
  /* 2^53 is past any file; the double is exact below it. */
  work->max = max > 9007199254740992.0 ? INT64_C(9007199254740992) : (int64_t)max;
  napi_value name;
  napi_create_string_utf8(env, "wsgiref.sendfile", NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, argv[3], 1, &work->callback);
  napi_create_async_work(env, NULL, name, execute, complete, work, &work->work);
  napi_queue_async_work(env, work->work);
  return NULL;
}

/* dup(fd): a close-on-exec duplicate, or throws with the errno. */
static napi_value duplicate(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  int32_t fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok)
    return throw_type_error(env, "dup(fd): fd must be a number");
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  napi_create_int32(env, copy < 0 ? -errno : copy, &result);
  return result;
}

/* seek(fd, offset): lseek(2) to offset from the start; 0, or -errno. Node has no
 * lseek, and sendfile(2) sends from the file's position: a byte range starts here. */
static napi_value seek(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  int32_t fd;
  int64_t offset;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_int64(env, argv[1], &offset) != napi_ok || offset < 0)
    return throw_type_error(env, "seek(fd, offset): fd and offset must be numbers, offset >= 0");
  off_t position = lseek(fd, (off_t)offset, SEEK_SET);
  napi_create_int32(env, position < 0 ? -errno : 0, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"step", NULL, step, NULL, NULL, NULL, napi_enumerable, NULL},
      {"dup", NULL, duplicate, NULL, NULL, NULL, napi_enumerable, NULL},
      {"seek", NULL, seek, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, 3, properties);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
