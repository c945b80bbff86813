/* tinyml-agent-host: the firmware agent as a POSIX program serving a pty.
 *
 *   tinyml-agent-host [--board-id ID] [--flash FILE] [--realtime | --fast]
 *
 * Prints exactly one line "tinyml-agent-host: pty <path>" on stdout, then serves the
 * agent protocol on that pty until SIGTERM or SIGINT. The counter is the monotonic clock
 * in microseconds. With --flash the model slots persist in FILE across restarts. Sensor
 * replay files (SENSOR_REPLAY) are read relative to the working directory. */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "tm_agent.h"
#include "tm_flash_image.h"
#include "tm_sha512.h"

#define HOST_SLOT_SIZE (1024u * 1024u)
/* A reader that takes nothing for this long is gone: drop what it left unread. */
#define TX_STALL_MS 500

typedef struct {
    int master;
    int slave;                    /* kept open: the pty never hangs up and stays raw */
    const char *flash_path;
    struct timespec t0;
    uint8_t slots[TM_MODEL_SLOTS][HOST_SLOT_SIZE];
    /* the provisioning record without --flash: kept across RESET, like the slots */
    uint8_t record[TM_PROVISION_RECORD_BYTES];
    int has_record;
    /* the device identity record without --flash, likewise */
    uint8_t identity[TM_IDENTITY_RECORD_BYTES];
    int has_identity;
    unsigned long tx_dropped;
    int replay_fd;                /* SENSOR_REPLAY's open file, -1 without one */
} host_t;

static host_t host;
/* The tensor arena (RAM_FREE); the union keeps it 8-byte aligned. */
static union {
    uint8_t bytes[2u * 1024u * 1024u];
    uint64_t align[2];
} host_arena;
static tm_agent_t agent;
static tm_port_t port;
static tm_sim_sensor_t accel, mic, vib;
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static uint64_t host_now(void *ctx)
{
    host_t *h = ctx;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    int64_t us = (int64_t)(t.tv_sec - h->t0.tv_sec) * 1000000 + (t.tv_nsec - h->t0.tv_nsec) / 1000;
    return (uint64_t)us;
}

static void host_write(void *ctx, const uint8_t *data, size_t len)
{
    host_t *h = ctx;
    int stalled_ms = 0;
    while (len && !stop_requested) {
        ssize_t n = write(h->master, data, len);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
            stalled_ms = 0;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            break;
        if (stalled_ms >= TX_STALL_MS) {
            /* nobody reads the pty: discard the stale bytes queued for the reader, as a
             * UART with no cable would, so a host that opens the port later starts clean */
            tcflush(h->slave, TCIFLUSH);
            h->tx_dropped++;
            stalled_ms = 0;
            if (stop_requested)
                break;
            continue;
        }
        struct pollfd p = {h->master, POLLOUT, 0};
        poll(&p, 1, 10);
        stalled_ms += 10;
    }
}

static int host_tx_ready(void *ctx)
{
    host_t *h = ctx;
    struct pollfd p = {h->master, POLLOUT, 0};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT);
}

static void host_reset(void *ctx)
{
    /* the pty stays; tm_agent re-initialises itself and reloads the slots */
    (void)ctx;
}

static tm_error_t host_slot_write(void *ctx, uint8_t slot, uint32_t off, const uint8_t *d,
                                  uint32_t n)
{
    host_t *h = ctx;
    if (slot >= TM_MODEL_SLOTS || off > HOST_SLOT_SIZE || n > HOST_SLOT_SIZE - off)
        return TM_ERR_BAD_ARGUMENT;
    memcpy(h->slots[slot] + off, d, n);
    return TM_OK;
}

static const uint8_t *host_slot_data(void *ctx, uint8_t slot)
{
    host_t *h = ctx;
    return slot < TM_MODEL_SLOTS ? h->slots[slot] : NULL;
}

static int pwrite_all(int fd, const uint8_t *d, size_t n, off_t off)
{
    while (n) {
        ssize_t k = pwrite(fd, d, n, off);
        if (k <= 0) {
            if (k < 0 && errno == EINTR)
                continue;
            return -1;
        }
        d += k;
        n -= (size_t)k;
        off += k;
    }
    return 0;
}

/* One record of the --flash file written at its offset (tm_flash_image.h), synced. secret:
 * the record is a secret, so the file becomes owner-only (it may have been created 0644). */
static tm_error_t flash_record_write(const host_t *h, uint32_t offset, const uint8_t *bytes,
                                     size_t len, int secret)
{
    int fd = open(h->flash_path, O_RDWR | O_CREAT, secret ? 0600 : 0644);
    if (fd < 0)
        return TM_ERR_INTERNAL;
    int bad = secret ? fchmod(fd, 0600) : 0;
    bad |= pwrite_all(fd, bytes, len, (off_t)offset);
    bad |= fsync(fd);
    close(fd);
    return bad ? TM_ERR_INTERNAL : TM_OK;
}

/* Reads len bytes at offset of the --flash file; 0 when it is missing or shorter. */
static int flash_record_read(const host_t *h, uint32_t offset, uint8_t *bytes, size_t len)
{
    int fd = open(h->flash_path, O_RDONLY);
    if (fd < 0)
        return 0;
    int ok = pread(fd, bytes, len, (off_t)offset) == (ssize_t)len;
    close(fd);
    return ok;
}

/* The slot's data (none for TM_SLOT_NONE), the trial record, then the header: the header
 * written last makes the change count (tm_flash_image.h). */
static tm_error_t host_slot_persist(void *ctx, const tm_slot_table_t *t, uint8_t slot)
{
    host_t *h = ctx;
    if (!h->flash_path)
        return TM_OK;
    uint8_t hd[TM_FLASH_HEADER_BYTES];
    uint8_t tr[TM_FLASH_TRIAL_RECORD_BYTES];
    tm_flash_header_encode(t, HOST_SLOT_SIZE, hd);
    tm_flash_trial_encode(t, hd, tr);
    tm_error_t e = TM_OK;
    if (slot < TM_MODEL_SLOTS)
        e = flash_record_write(h, tm_flash_slot_offset(slot, HOST_SLOT_SIZE), h->slots[slot],
                               t->slot[slot].size, 0);
    if (e == TM_OK)
        e = flash_record_write(h, tm_flash_trial_offset(HOST_SLOT_SIZE), tr, sizeof tr, 0);
    if (e == TM_OK)
        e = flash_record_write(h, 0, hd, sizeof hd, 0);
    return e;
}

static int host_slot_load(void *ctx, tm_slot_table_t *t)
{
    host_t *h = ctx;
    if (!h->flash_path)
        return 0;
    int fd = open(h->flash_path, O_RDONLY);
    if (fd < 0)
        return 0;
    uint8_t hd[TM_FLASH_HEADER_BYTES];
    int ok = pread(fd, hd, sizeof hd, 0) == (ssize_t)sizeof hd &&
             tm_flash_header_decode(hd, HOST_SLOT_SIZE, t) == TM_OK;
    for (unsigned s = 0; ok && s < TM_MODEL_SLOTS; ++s) {
        if (t->slot[s].valid &&
            pread(fd, h->slots[s], t->slot[s].size,
                  (off_t)tm_flash_slot_offset((uint8_t)s, HOST_SLOT_SIZE)) != (ssize_t)t->slot[s].size)
            t->slot[s].valid = 0;
    }
    close(fd);
    if (ok) {
        uint8_t tr[TM_FLASH_TRIAL_RECORD_BYTES];
        const int has = flash_record_read(h, tm_flash_trial_offset(HOST_SLOT_SIZE), tr, sizeof tr);
        tm_flash_trial_decode(has ? tr : NULL, hd, t);
    }
    return ok;
}

/* The provisioning record: after the two slots of the --flash file (tm_flash_image.h), or in
 * RAM without one (it then lasts as long as the process, as the slots do). */
static tm_error_t host_provision_persist(void *ctx, const uint8_t *record)
{
    host_t *h = ctx;
    if (!h->flash_path) {
        memcpy(h->record, record, TM_PROVISION_RECORD_BYTES);
        h->has_record = 1;
        return TM_OK;
    }
    return flash_record_write(h, tm_flash_provision_offset(HOST_SLOT_SIZE), record,
                              TM_PROVISION_RECORD_BYTES, 0);
}

static int host_provision_load(void *ctx, uint8_t *record)
{
    host_t *h = ctx;
    if (!h->flash_path) {
        if (h->has_record)
            memcpy(record, h->record, TM_PROVISION_RECORD_BYTES);
        return h->has_record;
    }
    return flash_record_read(h, tm_flash_provision_offset(HOST_SLOT_SIZE), record,
                             TM_PROVISION_RECORD_BYTES);
}

/* The device identity record: after the provisioning record in the --flash file, or in RAM
 * without one (the identity then lasts as long as the process). */
static tm_error_t host_identity_persist(void *ctx, const uint8_t *record)
{
    host_t *h = ctx;
    if (!h->flash_path) {
        memcpy(h->identity, record, TM_IDENTITY_RECORD_BYTES);
        h->has_identity = 1;
        return TM_OK;
    }
    return flash_record_write(h, tm_flash_identity_offset(HOST_SLOT_SIZE), record,
                              TM_IDENTITY_RECORD_BYTES, 1);
}

static int host_identity_load(void *ctx, uint8_t *record)
{
    host_t *h = ctx;
    if (!h->flash_path) {
        if (h->has_identity)
            memcpy(record, h->identity, TM_IDENTITY_RECORD_BYTES);
        return h->has_identity;
    }
    return flash_record_read(h, tm_flash_identity_offset(HOST_SLOT_SIZE), record,
                             TM_IDENTITY_RECORD_BYTES);
}

/* The firmware hash of the host agent: SHA-512 of its own executable file. */
static int host_firmware_hash(void *ctx, uint8_t *out)
{
    (void)ctx;
    int fd = open("/proc/self/exe", O_RDONLY);
    if (fd < 0)
        return 0;
    tm_sha512_ctx_t h;
    tm_sha512_init(&h);
    uint8_t buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        tm_sha512_update(&h, buf, (size_t)n);
    close(fd);
    if (n < 0)
        return 0;
    tm_sha512_final(&h, out);
    return 1;
}

/* ---- sensor replay files --------------------------------------------------------- */

static void host_replay_close(void *ctx)
{
    host_t *h = ctx;
    if (h->replay_fd >= 0)
        close(h->replay_fd);
    h->replay_fd = -1;
}

static int host_replay_open(void *ctx, const char *path, size_t len, uint32_t *bytes)
{
    host_t *h = ctx;
    char name[PATH_MAX];
    host_replay_close(h);
    if (len == 0 || len >= sizeof name || memchr(path, '\0', len) != NULL)
        return -1;
    memcpy(name, path, len);
    name[len] = '\0';
    int fd = open(name, O_RDONLY);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)UINT32_MAX) {
        close(fd);
        return -1;
    }
    h->replay_fd = fd;
    *bytes = (uint32_t)st.st_size;
    return 0;
}

static int host_replay_read(void *ctx, uint32_t offset, uint8_t *out, uint32_t n)
{
    host_t *h = ctx;
    off_t off = (off_t)offset;
    while (n) {
        ssize_t k = pread(h->replay_fd, out, n, off);
        if (k <= 0) {
            if (k < 0 && errno == EINTR)
                continue;
            return -1;
        }
        out += k;
        off += k;
        n -= (uint32_t)k;
    }
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: tinyml-agent-host [--board-id ID] [--flash FILE] "
                    "[--realtime | --fast]\n");
}

static int open_pty(host_t *h, char *name, size_t cap)
{
    h->master = posix_openpt(O_RDWR | O_NOCTTY);
    if (h->master < 0 || grantpt(h->master) != 0 || unlockpt(h->master) != 0)
        return -1;
    const char *sn = ptsname(h->master);
    if (!sn || strlen(sn) >= cap)
        return -1;
    strcpy(name, sn);
    h->slave = open(name, O_RDWR | O_NOCTTY);
    if (h->slave < 0)
        return -1;
    struct termios tio;
    if (tcgetattr(h->slave, &tio) != 0)
        return -1;
    cfmakeraw(&tio);
    if (tcsetattr(h->slave, TCSANOW, &tio) != 0)
        return -1;
    int fl = fcntl(h->master, F_GETFL);
    return fcntl(h->master, F_SETFL, fl | O_NONBLOCK);
}

int main(int argc, char **argv)
{
    const char *board_id = "host";
    int paced = 1;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--board-id") == 0 && i + 1 < argc) {
            board_id = argv[++i];
        } else if (strcmp(argv[i], "--flash") == 0 && i + 1 < argc) {
            host.flash_path = argv[++i];
        } else if (strcmp(argv[i], "--realtime") == 0) {
            paced = 1;
        } else if (strcmp(argv[i], "--fast") == 0) {
            paced = 0;
        } else {
            usage();
            return 2;
        }
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    char pty[256];
    if (open_pty(&host, pty, sizeof pty) != 0) {
        perror("tinyml-agent-host: cannot open a pty");
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &host.t0);

    tm_sim_accel_init(&accel, 0);
    tm_sim_mic_init(&mic, 1);
    tm_sim_vibration_init(&vib, 2);
    port.ctx = &host;
    port.board.board_id = board_id;
#if defined(__x86_64__)
    port.board.cpu = "host-x86_64";
#elif defined(__aarch64__)
    port.board.cpu = "host-aarch64";
#else
    port.board.cpu = "host";
#endif
    port.board.clock_hz = 0;
    port.board.ram_bytes = 4u * 1024u * 1024u;
    port.board.flash_bytes = TM_MODEL_SLOTS * HOST_SLOT_SIZE;
    port.board.ram_free = (uint32_t)sizeof host_arena.bytes;
    port.arena = host_arena.bytes;
    port.arena_size = port.board.ram_free;
    port.board.counter_kind = TM_COUNTER_MICROSECONDS;
    port.board.counter_resolution = 1;
    port.board.counter_hz = 1000000u;
    port.board.capabilities = host.flash_path ? TM_CAP_PERSISTENT_SLOTS : 0u;
    port.write = host_write;
    port.tx_ready = host_tx_ready;
    port.now = host_now;
    port.paced = paced;
    port.reset = host_reset;
    port.slot_size = HOST_SLOT_SIZE;
    port.slot_write = host_slot_write;
    port.slot_data = host_slot_data;
    port.slot_persist = host_slot_persist;
    port.slot_load = host_slot_load;
    port.provision_persist = host_provision_persist;
    port.provision_load = host_provision_load;
    port.identity_persist = host_identity_persist;
    port.identity_load = host_identity_load;
    port.firmware_hash = host_firmware_hash;
    port.sensors[0] = &accel.base;
    port.sensors[1] = &mic.base;
    port.sensors[2] = &vib.base;
    port.sensor_count = 3;
    host.replay_fd = -1;
    port.replay_open = host_replay_open;
    port.replay_read = host_replay_read;
    port.replay_close = host_replay_close;
    tm_agent_init(&agent, &port);

    printf("tinyml-agent-host: pty %s\n", pty);
    fflush(stdout);

    uint8_t buf[4096];
    while (!stop_requested) {
        uint64_t now = host_now(&host);
        uint64_t deadline = tm_agent_next_deadline(&agent);
        int timeout_ms = 1000;
        short events = POLLIN;
        if (deadline <= now) {
            /* a fast stream: wake when input arrives or the link takes more */
            timeout_ms = 100;
            events |= POLLOUT;
        } else if (deadline != UINT64_MAX) {
            uint64_t ms = (deadline - now + 999u) / 1000u;
            timeout_ms = ms < 1000u ? (int)ms : 1000;
        }
        struct pollfd p = {host.master, events, 0};
        int r = poll(&p, 1, timeout_ms);
        if (r < 0 && errno != EINTR)
            break;
        if (r > 0 && (p.revents & POLLIN)) {
            ssize_t n = read(host.master, buf, sizeof buf);
            if (n > 0)
                tm_agent_feed(&agent, buf, (size_t)n);
        }
        if (r > 0 && (p.revents & (POLLHUP | POLLERR)) && !(p.revents & POLLIN)) {
            /* cannot happen while we hold the slave, but never spin if it does */
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        tm_agent_poll(&agent);
    }
    close(host.slave);
    close(host.master);
    return 0;
}
