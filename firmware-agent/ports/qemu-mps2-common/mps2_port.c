/* The agent on the MPS2 virtual boards: UART0 byte I/O (interrupt-driven receive into a
 * ring, polled transmit with TXFULL back-pressure), a 64-bit counter from TIMER0 on the
 * 25 MHz clock, TIMER1 as the wake-up alarm for WFI, model slots in code SSRAM persisted
 * through Arm semihosting to tinyml-flash.bin in QEMU's working directory, and sensor replay
 * files (SENSOR_REPLAY) read through semihosting from the same folder: the UART moves about
 * 26 KB/s, less than a 16 kHz int16 stream needs. */
#include <stdint.h>
#include <string.h>

#include "mps2.h"
#include "tm_agent.h"
#include "tm_flash_image.h"
#include "tm_sha512.h"

#define SLOT_SIZE (1024u * 1024u)
#define RX_RING 4096u                 /* power of two */
#define FLASH_FILE "tinyml-flash.bin"

/* linker symbols */
extern uint8_t __slots_start[];
extern uint8_t __arena_start[], __arena_end[];
extern uint8_t __data_start[], __data_end[], __data_load[];

static tm_agent_t agent;
static tm_port_t port;
static tm_sim_sensor_t accel, mic, vib;

/* ---- UART ------------------------------------------------------------------------- */

static uint8_t rx_ring[RX_RING];
static volatile uint32_t rx_head, rx_tail; /* head: written by the ISR */

static void irq_disable(void) { __asm__ volatile("cpsid i" ::: "memory"); }
static void irq_enable(void) { __asm__ volatile("cpsie i" ::: "memory"); }

/* Move bytes from the UART into the ring while there is room. With the ring full the byte
 * stays in the UART, which then takes no more from QEMU's chardev: nothing is lost. */
static void uart_drain(void)
{
    while (MPS2_UART0->STATE & UART_STATE_RXFULL) {
        uint32_t h = rx_head;
        if (h - rx_tail >= RX_RING) {
            MPS2_UART0->CTRL &= ~UART_CTRL_RXINTEN;
            return;
        }
        rx_ring[h & (RX_RING - 1u)] = (uint8_t)MPS2_UART0->DATA;
        rx_head = h + 1u;
    }
}

void UART0RX_Handler(void)
{
    MPS2_UART0->INTSTATUS = UART_INT_RX; /* clear before reading: a later byte re-raises */
    uart_drain();
}

static size_t uart_read(uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (n < cap && rx_tail != rx_head) {
        out[n++] = rx_ring[rx_tail & (RX_RING - 1u)];
        rx_tail++;
    }
    if (!(MPS2_UART0->CTRL & UART_CTRL_RXINTEN)) {
        irq_disable();
        uart_drain();
        MPS2_UART0->CTRL |= UART_CTRL_RXINTEN;
        irq_enable();
    }
    return n;
}

static void uart_write(void *ctx, const uint8_t *d, size_t n)
{
    (void)ctx;
    for (size_t i = 0; i < n; ++i) {
        while (MPS2_UART0->STATE & UART_STATE_TXFULL) {
        }
        MPS2_UART0->DATA = d[i];
    }
}

/* ---- counter and alarm ------------------------------------------------------------ */

static uint32_t cnt_last;
static uint64_t cnt_total;

/* TIMER0 counts down from 0xFFFFFFFF at 25 MHz and wraps every 171 s; the main loop
 * reads it at least once a second, so the 32-bit difference is always exact. */
static uint64_t counter_now(void *ctx)
{
    (void)ctx;
    uint32_t up = 0xFFFFFFFFu - MPS2_TIMER0->VALUE;
    cnt_total += (uint32_t)(up - cnt_last);
    cnt_last = up;
    return cnt_total;
}

void TIMER1_Handler(void)
{
    MPS2_TIMER1->INTSTATUS = 1u;
    MPS2_TIMER1->CTRL = 0;
}

static void alarm_arm(uint32_t ticks)
{
    MPS2_TIMER1->CTRL = 0;
    MPS2_TIMER1->INTSTATUS = 1u;
    MPS2_TIMER1->RELOAD = ticks;
    MPS2_TIMER1->VALUE = ticks;
    MPS2_TIMER1->CTRL = TIMER_CTRL_EN | TIMER_CTRL_IRQEN;
}

/* ---- semihosting ------------------------------------------------------------------ */

enum {
    SYS_OPEN = 0x01,
    SYS_CLOSE = 0x02,
    SYS_WRITE = 0x05,
    SYS_READ = 0x06,
    SYS_SEEK = 0x0A,
    SYS_FLEN = 0x0C
};
enum { MODE_RB = 1, MODE_RPLUSB = 3, MODE_WPLUSB = 7 };

static int semihost(int op, void *arg)
{
    if (tm_mps2_no_semihosting)
        return -1;
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static int sh_open(const char *name, int mode)
{
    uint32_t a[3] = {(uint32_t)(uintptr_t)name, (uint32_t)mode, (uint32_t)strlen(name)};
    return semihost(SYS_OPEN, a);
}
static void sh_close(int fd)
{
    uint32_t a[1] = {(uint32_t)fd};
    semihost(SYS_CLOSE, a);
}
static int sh_seek(int fd, uint32_t pos)
{
    uint32_t a[2] = {(uint32_t)fd, pos};
    return semihost(SYS_SEEK, a);
}
/* SYS_READ / SYS_WRITE return the number of bytes NOT transferred */
static int sh_read(int fd, void *buf, uint32_t n)
{
    uint32_t a[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, n};
    return semihost(SYS_READ, a) == 0 ? 0 : -1;
}
static int sh_write(int fd, const void *buf, uint32_t n)
{
    uint32_t a[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, n};
    return semihost(SYS_WRITE, a) == 0 ? 0 : -1;
}
/* the file's length in bytes, -1 on error */
static int sh_flen(int fd)
{
    uint32_t a[1] = {(uint32_t)fd};
    return semihost(SYS_FLEN, a);
}

/* ---- sensor replay files ---------------------------------------------------------- */

#define REPLAY_NAME_MAX 255u
#define REPLAY_CHUNK 4096u            /* bytes per SYS_READ */

static int replay_fd = -1;

static void replay_close(void *ctx)
{
    (void)ctx;
    if (replay_fd >= 0)
        sh_close(replay_fd);
    replay_fd = -1;
}

static int replay_open(void *ctx, const char *path, size_t len, uint32_t *bytes)
{
    char name[REPLAY_NAME_MAX + 1u];
    replay_close(ctx);
    if (len == 0 || len > REPLAY_NAME_MAX || memchr(path, '\0', len) != NULL)
        return -1;
    memcpy(name, path, len);
    name[len] = '\0';
    int fd = sh_open(name, MODE_RB);
    if (fd < 0)
        return -1;
    int n = sh_flen(fd);
    if (n < 0) {
        sh_close(fd);
        return -1;
    }
    replay_fd = fd;
    *bytes = (uint32_t)n;
    return 0;
}

static int replay_read(void *ctx, uint32_t offset, uint8_t *out, uint32_t n)
{
    (void)ctx;
    if (replay_fd < 0 || sh_seek(replay_fd, offset) != 0)
        return -1;
    while (n) {
        uint32_t k = n < REPLAY_CHUNK ? n : REPLAY_CHUNK;
        if (sh_read(replay_fd, out, k) != 0)
            return -1;
        out += k;
        n -= k;
    }
    return 0;
}

/* ---- model slots ------------------------------------------------------------------ */

static tm_error_t slot_write(void *ctx, uint8_t slot, uint32_t off, const uint8_t *d, uint32_t n)
{
    (void)ctx;
    if (slot >= TM_MODEL_SLOTS || off > SLOT_SIZE || n > SLOT_SIZE - off)
        return TM_ERR_BAD_ARGUMENT;
    memcpy(__slots_start + (uint32_t)slot * SLOT_SIZE + off, d, n);
    return TM_OK;
}

static const uint8_t *slot_data(void *ctx, uint8_t slot)
{
    (void)ctx;
    return slot < TM_MODEL_SLOTS ? __slots_start + (uint32_t)slot * SLOT_SIZE : NULL;
}

/* One record of tinyml-flash.bin written or read at its offset (tm_flash_image.h). Writing
 * past the end of the file is fine: the host fills the gap with zeros, which no record's
 * magic matches. */
static int flash_record_write(int fd, uint32_t offset, const void *bytes, uint32_t len)
{
    return sh_seek(fd, offset) != 0 || sh_write(fd, bytes, len) != 0 ? -1 : 0;
}

/* Opens the file for writing (creating it), writes one record and closes it. */
static tm_error_t flash_record_store(uint32_t offset, const void *bytes, uint32_t len)
{
    int fd = sh_open(FLASH_FILE, MODE_RPLUSB);
    if (fd < 0)
        fd = sh_open(FLASH_FILE, MODE_WPLUSB);
    if (fd < 0)
        return TM_ERR_INTERNAL;
    int bad = flash_record_write(fd, offset, bytes, len);
    sh_close(fd);
    return bad ? TM_ERR_INTERNAL : TM_OK;
}

/* Reads len bytes at offset of an open file; 0 when the file is shorter or the read fails. */
static int flash_record_read(int fd, uint32_t offset, void *bytes, uint32_t len)
{
    const int32_t flen = sh_flen(fd);
    return flen >= 0 && (uint32_t)flen >= offset + len && sh_seek(fd, offset) == 0 &&
           sh_read(fd, bytes, len) == 0;
}

/* Opens the file, reads one record and closes it. */
static int flash_record_load(uint32_t offset, void *bytes, uint32_t len)
{
    int fd = sh_open(FLASH_FILE, MODE_RB);
    if (fd < 0)
        return 0;
    int ok = flash_record_read(fd, offset, bytes, len);
    sh_close(fd);
    return ok;
}

/* The slot's data (none for TM_SLOT_NONE), the trial record, then the header: the header
 * written last makes the change count (tm_flash_image.h). */
static tm_error_t slot_persist(void *ctx, const tm_slot_table_t *t, uint8_t slot)
{
    (void)ctx;
    if (tm_mps2_no_semihosting)
        return TM_OK; /* RAM slots only: INFO does not claim persistence */
    int fd = sh_open(FLASH_FILE, MODE_RPLUSB);
    if (fd < 0)
        fd = sh_open(FLASH_FILE, MODE_WPLUSB);
    if (fd < 0)
        return TM_ERR_INTERNAL;
    uint8_t hd[TM_FLASH_HEADER_BYTES];
    uint8_t tr[TM_FLASH_TRIAL_RECORD_BYTES];
    tm_flash_header_encode(t, SLOT_SIZE, hd);
    tm_flash_trial_encode(t, hd, tr);
    int bad = slot < TM_MODEL_SLOTS &&
              flash_record_write(fd, tm_flash_slot_offset(slot, SLOT_SIZE), slot_data(ctx, slot),
                                 t->slot[slot].size) != 0;
    bad = bad || flash_record_write(fd, tm_flash_trial_offset(SLOT_SIZE), tr, sizeof tr) != 0 ||
          flash_record_write(fd, 0, hd, sizeof hd) != 0;
    sh_close(fd);
    return bad ? TM_ERR_INTERNAL : TM_OK;
}

static int slot_load(void *ctx, tm_slot_table_t *t)
{
    (void)ctx;
    int fd = sh_open(FLASH_FILE, MODE_RB);
    if (fd < 0)
        return 0;
    uint8_t hd[TM_FLASH_HEADER_BYTES];
    int ok = sh_read(fd, hd, sizeof hd) == 0 &&
             tm_flash_header_decode(hd, SLOT_SIZE, t) == TM_OK;
    for (uint8_t s = 0; ok && s < TM_MODEL_SLOTS; ++s) {
        if (t->slot[s].valid &&
            (sh_seek(fd, tm_flash_slot_offset(s, SLOT_SIZE)) != 0 ||
             sh_read(fd, __slots_start + (uint32_t)s * SLOT_SIZE, t->slot[s].size) != 0))
            t->slot[s].valid = 0;
    }
    if (ok) {
        uint8_t tr[TM_FLASH_TRIAL_RECORD_BYTES];
        const int has = flash_record_read(fd, tm_flash_trial_offset(SLOT_SIZE), tr, sizeof tr);
        tm_flash_trial_decode(has ? tr : NULL, hd, t);
    }
    sh_close(fd);
    return ok;
}

/* The provisioning record, after the two slots of tinyml-flash.bin (tm_flash_image.h).
 * Installed only with semihosting: a board that forgets its key at reset is no lock. */
static tm_error_t provision_persist(void *ctx, const uint8_t *record)
{
    (void)ctx;
    return flash_record_store(tm_flash_provision_offset(SLOT_SIZE), record, TM_PROVISION_RECORD_BYTES);
}

static int provision_load(void *ctx, uint8_t *record)
{
    (void)ctx;
    return flash_record_load(tm_flash_provision_offset(SLOT_SIZE), record, TM_PROVISION_RECORD_BYTES);
}

/* The device identity record, after the provisioning record of tinyml-flash.bin. Only with
 * semihosting, like the key. */
static tm_error_t identity_persist(void *ctx, const uint8_t *record)
{
    (void)ctx;
    return flash_record_store(tm_flash_identity_offset(SLOT_SIZE), record, TM_IDENTITY_RECORD_BYTES);
}

static int identity_load(void *ctx, uint8_t *record)
{
    (void)ctx;
    return flash_record_load(tm_flash_identity_offset(SLOT_SIZE), record, TM_IDENTITY_RECORD_BYTES);
}

/* The image as loaded: code SSRAM from address 0 (vectors, code, read-only data, exception
 * tables) to the end of .data's load image, i.e. (image at 0) the bytes of `objcopy -O binary` of the ELF.
 * .data's load image is read where the linker put it, never from RAM (which the agent
 * changes). */
static int firmware_hash(void *ctx, uint8_t *out)
{
    (void)ctx;
    /* the image starts at the vector table, which VTOR locates (0 on these boards); read as
     * a number, so the compiler never sees a constant null pointer */
    const uintptr_t start = *(volatile const uint32_t *)0xE000ED08u;
    const uintptr_t end = (uintptr_t)__data_load + (uintptr_t)(__data_end - __data_start);
    if (end <= start)
        return 0;
    tm_sha512((const void *)start, (size_t)(end - start), out);
    return 1;
}

/* ---- reset and main loop ---------------------------------------------------------- */

static void board_reset(void *ctx)
{
    (void)ctx;
    /* let the reply's last byte leave the UART */
    while (MPS2_UART0->STATE & UART_STATE_TXFULL) {
    }
    __asm__ volatile("dsb" ::: "memory");
    SCB_AIRCR = 0x05FA0004u; /* VECTKEY | SYSRESETREQ */
    __asm__ volatile("dsb" ::: "memory");
    for (;;) {
    }
}

/* Probe semihosting once at boot with a harmless call (SYS_OPEN of a file that is not
 * there would also do; ":tt" always exists). */
static void semihosting_probe(void)
{
    int fd = sh_open(":tt", MODE_RB);
    if (fd >= 0)
        sh_close(fd);
}

int main(void)
{
    MPS2_UART0->BAUDDIV = 16u;
    MPS2_UART0->CTRL = UART_CTRL_TXEN | UART_CTRL_RXEN | UART_CTRL_RXINTEN;
    MPS2_TIMER0->CTRL = 0;
    MPS2_TIMER0->RELOAD = 0xFFFFFFFFu;
    MPS2_TIMER0->VALUE = 0xFFFFFFFFu;
    MPS2_TIMER0->CTRL = TIMER_CTRL_EN;
    NVIC_ISER0 = (1u << MPS2_IRQ_UART0_RX) | (1u << MPS2_IRQ_TIMER1);
    semihosting_probe();

    tm_sim_accel_init(&accel, 0);
    tm_sim_mic_init(&mic, 1);
    tm_sim_vibration_init(&vib, 2);
    port.ctx = NULL;
    port.board.board_id = tm_mps2_board.board_id;
    port.board.cpu = tm_mps2_board.cpu;
    port.board.clock_hz = MPS2_SYSCLK_HZ;
    port.board.ram_bytes = 4u * 1024u * 1024u;
    port.board.flash_bytes = 4u * 1024u * 1024u;
    port.board.ram_free = (uint32_t)(__arena_end - __arena_start);
    port.arena = __arena_start; /* 16-aligned by mps2.ld */
    port.arena_size = port.board.ram_free;
    /* under -icount shift=0 one instruction is 1 ns: one 25 MHz tick is 40 instructions */
    port.board.counter_kind = TM_COUNTER_INSTRUCTIONS;
    port.board.counter_resolution = 1000000000u / MPS2_SYSCLK_HZ;
    port.board.counter_hz = MPS2_SYSCLK_HZ;
    /* QEMU executes 40 instructions in the time a 25 MHz core executes one: a classification
     * window holds the CPU 40 times its instruction count, so the sensor sees a 25 MHz board */
    port.compute_stretch = 1000000000u / MPS2_SYSCLK_HZ;
    port.board.capabilities = tm_mps2_no_semihosting ? 0u : TM_CAP_PERSISTENT_SLOTS;
    port.write = uart_write;
    port.tx_ready = NULL;
    port.now = counter_now;
    port.paced = 1;
    port.reset = board_reset;
    port.slot_size = SLOT_SIZE;
    port.slot_write = slot_write;
    port.slot_data = slot_data;
    port.slot_persist = slot_persist;
    port.slot_load = slot_load;
    port.firmware_hash = firmware_hash;
    port.sensors[0] = &accel.base;
    port.sensors[1] = &mic.base;
    port.sensors[2] = &vib.base;
    port.sensor_count = 3;
    if (!tm_mps2_no_semihosting) {
        port.replay_open = replay_open;
        port.replay_read = replay_read;
        port.replay_close = replay_close;
        port.provision_persist = provision_persist;
        port.provision_load = provision_load;
        port.identity_persist = identity_persist;
        port.identity_load = identity_load;
    }
    tm_agent_init(&agent, &port);
    irq_enable();

    uint8_t buf[64];
    for (;;) {
        size_t n;
        while ((n = uart_read(buf, sizeof buf)) > 0) {
            tm_agent_feed(&agent, buf, n);
            tm_agent_poll(&agent);
        }
        tm_agent_poll(&agent);

        /* sleep until input or the next stream deadline, at most a second (keeps the
         * counter extension fed); check for input with interrupts masked so a byte that
         * arrives now still wakes the WFI below */
        irq_disable();
        if (rx_tail == rx_head) {
            uint64_t now = counter_now(NULL);
            uint64_t deadline = tm_agent_next_deadline(&agent);
            if (deadline > now) {
                uint64_t ticks = deadline - now;
                if (ticks > MPS2_SYSCLK_HZ)
                    ticks = MPS2_SYSCLK_HZ;
                /* Measured on QEMU 7.2 (mps2-an386): TIMER1's alarm fires after twice the
                 * ticks it was armed with, counted on TIMER0. Arming half wakes on time there,
                 * and on a timer that fires on time it only wakes early: the loop then sleeps
                 * again for the rest, so the deadline is met either way. */
                ticks = (ticks + 1u) / 2u;
                alarm_arm((uint32_t)ticks);
                __asm__ volatile("wfi");
            }
        }
        irq_enable();
    }
}
