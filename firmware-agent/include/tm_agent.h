/*
 * tm_agent.h — the portable firmware agent: protocol dispatcher, sensor streaming, model
 * upload to A/B slots, model input/output buffers and the MLPerf Tiny (EEMBC) text
 * commands. The behaviour is specified by firmware-agent/PROTOCOL.md.
 *
 * The agent allocates nothing: the port owns one tm_agent_t (about 90 KB, most of it the
 * model input buffer), a tm_port_t (tm_port.h) and the tensor arena the port points to.
 * The active model slot's package is run in place by the interpreter of tm_model.h.
 *
 * Usage:
 *     static tm_agent_t agent;
 *     tm_agent_init(&agent, &port);
 *     loop:
 *         tm_agent_feed(&agent, rx, n);        // every byte received from the host
 *         tm_agent_poll(&agent);               // sends due stream frames
 *         wait for input, at most until tm_agent_next_deadline(&agent)
 */
#ifndef TM_AGENT_H
#define TM_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "tm_frame.h"
#include "tm_model.h"
#include "tm_port.h"
#include "tm_protocol.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TM_AGENT_VERSION "0.1.0"
#define TM_AGENT_NAME "tinyml-agent"

/** Model input buffer (SET_INPUT, `db load`), bytes. Fits a 96x96x3 int8 image. */
#ifndef TM_AGENT_INPUT_BYTES
#define TM_AGENT_INPUT_BYTES 65536u
#endif
/** Model output buffer (GET_OUTPUT, `results`), bytes. */
#ifndef TM_AGENT_OUTPUT_BYTES
#define TM_AGENT_OUTPUT_BYTES 4096u
#endif
/** Most runs one BENCHMARK request takes (the agent keeps every run's time for the median). */
#ifndef TM_AGENT_BENCH_MAX_RUNS
#define TM_AGENT_BENCH_MAX_RUNS 256u
#endif
/** Model package format version (deploy/MODEL_PACKAGE.md) the interpreter reads; INFO
 *  MODEL_FORMAT reports it with the op codes the interpreter runs. */
#define TM_AGENT_MODEL_FORMAT_VERSION 1u
/** Longest MLPerf text command, `%` excluded. */
#define TM_AGENT_TEXT_MAX 1024u
/** Largest STREAM_DATA payload the agent picks by itself (bytes). */
#define TM_STREAM_TARGET_PAYLOAD 505u
/** Lowest STREAM_DATA frame rate the agent picks by itself (frames per second). */
#define TM_STREAM_MIN_FRAME_RATE 20u
/** STREAM_DATA header: u8 sensor, u32 first index, u16 n. */
#define TM_STREAM_HEADER 7u

/** All agent state. Fields are internal; tests may read them. */
typedef struct {
    const tm_port_t *port;
    tm_frame_decoder_t dec;
    uint8_t rx_buf[TM_MAX_ENCODED_FRAME];
    uint8_t tx_buf[TM_MAX_ENCODED_FRAME];
    uint8_t reply[TM_MAX_PAYLOAD];
    uint8_t dev_seq;              /**< seq of the device's unsolicited frames */
    uint8_t need_delimiter;       /**< text was sent: put 0x00 before the next frame */
    uint8_t restart;              /**< RESET returned: re-initialise after this request */
    char err_msg[96];             /**< formatted ERROR message of the current request */

    /* unsolicited ERROR on dropped frames, rate-limited */
    uint64_t last_drop_report;
    uint8_t drop_reported;
    uint32_t drops_suppressed;

    /* MLPerf text accumulator: bytes since the last 0x00 or '%' */
    char text[TM_AGENT_TEXT_MAX];
    uint16_t text_len;
    uint8_t text_binary;          /**< a non-text byte arrived since the last 0x00 */
    uint8_t text_overlong;

    struct {
        uint8_t active;
        uint8_t sensor;
        uint16_t spf;             /**< samples per frame */
        uint32_t rate_hz;
        uint32_t n_total;         /**< 0 = until STREAM_STOP */
        uint32_t sent;
        uint64_t t0;              /**< counter at STREAM_START */
    } stream;

    struct {
        uint8_t active;
        uint8_t slot;
        uint32_t size;
        uint32_t crc;
        uint32_t received;
    } upload;

    tm_slot_table_t slots;
    /** The active slot's package as loaded by tm_model_load() at boot and at each commit;
     *  runs in port->arena. model_status: TM_MODEL_OK when it can run, else why not
     *  (TM_MODEL_ERR_NOT_LOADED without a model, TM_MODEL_ERR_ARENA when it does not fit the
     *  port's arena or the input buffer). */
    tm_model_t model;
    uint8_t model_status;
    uint32_t bench[TM_AGENT_BENCH_MAX_RUNS]; /**< BENCHMARK run times (counter ticks) */
    int16_t samples[TM_MAX_PAYLOAD / 2]; /**< one STREAM_DATA frame of raw samples */

    uint32_t db_expected;         /**< `db load N`: N */
    uint32_t db_received;
    uint8_t input[TM_AGENT_INPUT_BYTES];
    uint8_t output[TM_AGENT_OUTPUT_BYTES];
} tm_agent_t;

/** Initialise the agent for a port: loads and verifies the persisted model slots. */
tm_error_t tm_agent_init(tm_agent_t *agent, const tm_port_t *port);

/** Feed bytes received from the host; handles every complete request and text command. */
void tm_agent_feed(tm_agent_t *agent, const uint8_t *data, size_t len);

/** Do due background work: send stream frames, end streams. Call after every feed and
 *  whenever tm_agent_next_deadline() has passed. */
void tm_agent_poll(tm_agent_t *agent);

/** Counter value (port ticks) by which tm_agent_poll() must run again; UINT64_MAX when
 *  only input can create work. A value <= now means "poll again immediately". */
uint64_t tm_agent_next_deadline(const tm_agent_t *agent);

/** Build the INFO TLVs into out (cap bytes). Returns the length, 0 if cap is too small. */
size_t tm_agent_build_info(const tm_agent_t *agent, uint8_t *out, size_t cap);

/** Samples per frame the agent picks for a sensor at a rate (STREAM_START with 0). */
uint16_t tm_agent_pick_samples_per_frame(const tm_sensor_desc_t *desc, uint32_t rate_hz);

#ifdef __cplusplus
}
#endif

#endif /* TM_AGENT_H */
