/* Feeds arbitrary bytes to the whole agent core (frame decoder, dispatcher, model upload,
 * streaming, MLPerf text commands) on an in-memory port. The first input byte picks the
 * port's behaviour; the rest is the byte stream, cut into reads at 0xA5 bytes, with the
 * clock advancing between reads so that streams and rate limits run. Every byte the agent
 * writes must stay inside the frame size limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tm_agent.h"
#include "tm_flash_image.h"

#define SLOT_SIZE 4096u

static tm_agent_t agent;
static tm_port_t port;
static tm_sim_sensor_t accel, mic;
static uint8_t slots[TM_MODEL_SLOTS][SLOT_SIZE] __attribute__((aligned(16))); /* packages run in place */
static uint32_t arena[64u * 1024u / 4u]; /* tensor arena: uploaded packages can run */
static tm_slot_table_t persisted;
static int has_persisted;
static uint64_t now_us;
static int tx_ready_flag;
static size_t out_bytes;

static void fake_write(void *ctx, const uint8_t *d, size_t n)
{
    (void)ctx;
    (void)d;
    if (n > TM_MAX_ENCODED_FRAME + 256u) /* one frame, or LINK_TEST garbage */
        abort();
    out_bytes += n;
}
static int fake_tx_ready(void *ctx) { (void)ctx; return tx_ready_flag; }
static uint64_t fake_now(void *ctx) { (void)ctx; return now_us; }
static void fake_reset(void *ctx) { (void)ctx; }
static tm_error_t fake_slot_write(void *ctx, uint8_t s, uint32_t off, const uint8_t *d, uint32_t n)
{
    (void)ctx;
    if (s >= TM_MODEL_SLOTS || off > SLOT_SIZE || n > SLOT_SIZE - off)
        abort(); /* the agent must have bounded the write */
    memcpy(slots[s] + off, d, n);
    return TM_OK;
}
static const uint8_t *fake_slot_data(void *ctx, uint8_t s)
{
    (void)ctx;
    if (s >= TM_MODEL_SLOTS)
        abort();
    return slots[s];
}
static tm_error_t fake_persist(void *ctx, const tm_slot_table_t *t, uint8_t s)
{
    (void)ctx;
    (void)s;
    persisted = *t;
    has_persisted = 1;
    return TM_OK;
}
static int fake_load(void *ctx, tm_slot_table_t *t)
{
    (void)ctx;
    if (!has_persisted)
        return 0;
    *t = persisted;
    return 1;
}

/* mode bit 4: the port keeps a provisioning record, so PROVISION and the signed-package
 * checks of MODEL_COMMIT run too (a record that survives the agent's RESET) */
static uint8_t record[TM_PROVISION_RECORD_BYTES];
static int has_record;
static tm_error_t fake_provision_persist(void *ctx, const uint8_t *r)
{
    (void)ctx;
    memcpy(record, r, sizeof record);
    has_record = 1;
    return TM_OK;
}
static int fake_provision_load(void *ctx, uint8_t *r)
{
    (void)ctx;
    if (has_record)
        memcpy(r, record, sizeof record);
    return has_record;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t mode = data[0];
    ++data;
    --size;

    memset(&port, 0, sizeof port);
    tm_sim_accel_init(&accel, 0);
    tm_sim_mic_init(&mic, 1);
    port.board.board_id = "fuzz";
    port.board.cpu = "fuzz";
    port.board.counter_kind = TM_COUNTER_MICROSECONDS;
    port.board.counter_resolution = 1;
    port.board.counter_hz = 1000000u;
    port.write = fake_write;
    port.tx_ready = (mode & 1) ? fake_tx_ready : NULL;
    port.now = fake_now;
    port.paced = (mode & 2) ? 0 : 1;
    port.reset = fake_reset;
    port.slot_size = SLOT_SIZE;
    port.slot_write = fake_slot_write;
    port.slot_data = fake_slot_data;
    port.slot_persist = fake_persist;
    port.slot_load = fake_load;
    port.sensors[0] = &accel.base;
    port.sensors[1] = &mic.base;
    port.sensor_count = 2;
    port.arena = (uint8_t *)arena;
    port.arena_size = (uint32_t)sizeof arena;
    has_persisted = (mode & 4) != 0; /* sometimes start from a persisted (garbage) table */
    if (has_persisted)
        memset(&persisted, mode, sizeof persisted);
    tx_ready_flag = (mode & 8) ? 0 : 1;
    has_record = 0;
    if (mode & 16) {
        port.provision_persist = fake_provision_persist;
        port.provision_load = fake_provision_load;
    }
    now_us = 0;
    out_bytes = 0;
    if (tm_agent_init(&agent, &port) != TM_OK)
        abort();

    size_t start = 0;
    for (size_t i = 0; i <= size; ++i) {
        if (i < size && data[i] != 0xA5u)
            continue;
        tm_agent_feed(&agent, data + start, i - start);
        now_us += 1000u * (uint64_t)(i - start + 1u);
        for (int k = 0; k < 4; ++k)
            tm_agent_poll(&agent);
        start = i + 1;
        if (agent.slots.active != TM_SLOT_NONE && agent.slots.active >= TM_MODEL_SLOTS)
            abort();
    }
    return 0;
}
