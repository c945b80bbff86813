/*
 * tm_agent.h — the portable firmware agent: protocol dispatcher, sensor streaming, model
 * upload to A/B slots, model input/output buffers, continuous classification (the package's
 * impulse on the own sensor), sensor replay and scenario scripts, and the MLPerf Tiny (EEMBC)
 * text commands. The behaviour is specified by firmware-agent/PROTOCOL.md.
 *
 * The agent allocates nothing: the port owns one tm_agent_t (about 330 KB with the default
 * sizes: the sample ring, the impulse work buffer and the model input buffer), a tm_port_t
 * (tm_port.h) and the tensor arena the port points to. The active model slot's package is
 * run in place by the interpreter of tm_model.h, its impulse by tm_impulse.h.
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
#include "tm_impulse.h"
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
/** Model package format version (deploy/MODEL_PACKAGE.md) the interpreter reads (and every
 *  older one); INFO MODEL_FORMAT reports it with the op codes the interpreter runs. */
#define TM_AGENT_MODEL_FORMAT_VERSION 2u
/** Sample ring of continuous classification, int16 values (frames x channels): 2.5 s of
 *  16 kHz mono, or over 100 s of 3-axis 100 Hz. A window plus a stride must fit
 *  (INFO IMPULSE reports it). Ports with little RAM define a smaller value. */
#ifndef TM_AGENT_RING_VALUES
#define TM_AGENT_RING_VALUES 40000u
#endif
/** Impulse work buffer (tm_impulse_work_bytes), bytes, a multiple of 4: fits an MFCC over
 *  1 s at 16 kHz with frames of up to 1024 samples (82 KB with 40 filters and 13
 *  coefficients, 100 KB with 64 and 40). INFO IMPULSE reports it. */
#ifndef TM_AGENT_IMPULSE_WORK_BYTES
#define TM_AGENT_IMPULSE_WORK_BYTES (112u * 1024u)
#endif
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
    char err_msg[160];            /**< formatted ERROR message of the current request */

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

    /** Where the recording's samples come from (SENSOR_REPLAY, SENSOR_SCRIPT): one replay or
     *  script at a time, on source.sensor; otherwise the sensor itself. */
    struct {
        uint8_t mode;             /**< 0 none, 1 replay file, 2 scenario script */
        uint8_t sensor;
        uint16_t steps;           /**< script steps */
        uint32_t file_frames;     /**< replay: frames in the file */
        uint8_t step_scenario[TM_SCRIPT_MAX_STEPS];
        uint32_t step_ms[TM_SCRIPT_MAX_STEPS];
    } source;
    /** The running recording (a stream or a classification) as sensor_read() sees it. */
    struct {
        uint8_t sensor;
        uint8_t mode;             /**< source.mode when the recording began (0 for others) */
        uint16_t step;            /**< script: current step */
        uint32_t rate_hz;
        uint32_t pos;             /**< frames read since the start */
        uint32_t limit;           /**< frames the source holds; UINT32_MAX: unlimited */
        uint32_t step_end;        /**< script: first frame after the current step */
    } rec;

    /** Continuous classification (CLASSIFY_START). Frames are numbered from 0 at the start;
     *  frame f lives in ring[(f % ring_frames) * channels ...]. */
    struct {
        uint8_t active;
        uint8_t sensor;
        uint8_t flags;            /**< TM_CLASSIFY_RAW */
        uint8_t channels;
        uint16_t spf;             /**< STREAM_DATA samples per frame (raw flag) */
        uint32_t rate_hz;
        uint32_t window, stride;
        uint32_t ring_frames;
        uint32_t max_windows;     /**< 0: until stopped or the source ends */
        uint32_t read;            /**< frames read into the ring */
        uint32_t next_end;        /**< window_end of the next window */
        uint32_t index;           /**< windows due so far (computed + overruns) */
        uint32_t sent;            /**< CLASSIFY_RESULT frames sent */
        uint32_t overruns;
        uint32_t frames_lost;
        uint32_t seen_end;        /**< end of the last computed window */
        uint32_t raw_sent;        /**< frames [0, raw_sent) went out as STREAM_DATA */
        uint64_t t0;              /**< counter at CLASSIFY_START */
        uint64_t busy_until;      /**< port compute_stretch: no window before this counter */
        tm_impulse_post_params_t post_params;
        tm_impulse_post_state_t post;
    } cls;

    struct {
        uint8_t active;
        uint8_t slot;
        uint32_t size;
        uint32_t crc;
        uint32_t received;
    } upload;

    /** Drift telemetry (TELEMETRY, tm_agent_telemetry.c): one summary per source, [0] the
     *  CLASSIFY windows, [1] INVOKE (held-out checks). Zeroed when the active package
     *  changes. 2 x 1,232 bytes, no allocation. */
    struct tm_telemetry_summary {
        uint32_t windows;
        uint32_t uncertain;       /**< windows whose decision was TM_IMPULSE_UNCERTAIN */
        int64_t top_sum;          /**< sum of (q_top - out_zp) of the top class */
        uint32_t class_hist[TM_TELEMETRY_MAX_CLASSES];
        int64_t feature_sum[TM_TELEMETRY_MAX_FEATURES];    /**< of the int8 model input */
        uint64_t feature_sumsq[TM_TELEMETRY_MAX_FEATURES];
        uint32_t anomaly_hist[TM_TELEMETRY_ANOMALY_BINS]; /**< bin (q + 128) / 16 */
    } telemetry[2];

    tm_slot_table_t slots;
    /** The provisioned key (PROVISION; loaded from the port at init). A provisioned board
     *  commits only packages signed with it, of a version >= slots.min_version. */
    struct {
        uint8_t provisioned;
        uint8_t public_key[32];   /**< Ed25519 */
        uint8_t key_id[8];        /**< tm_signed_key_id() of public_key */
        uint32_t check_ticks;     /**< counter ticks of the last signature check; 0: none */
        /** The device identity (PROVISION with a seed; loaded from the port at init): signs
         *  ATTEST statements. */
        uint8_t has_identity;
        uint8_t identity_seed[32];
        uint8_t identity_public_key[32];
        uint8_t identity_id[8];   /**< tm_signed_key_id() of identity_public_key */
        uint8_t firmware_hash_state; /**< 0 not measured yet, 1 measured, 2 port cannot */
        uint8_t firmware_hash[64];
    } security;
    uint32_t error_replies;       /**< ERROR replies sent since boot (ATTEST reports it) */
    /** The active slot's package as loaded by tm_model_load() at boot and at each commit;
     *  runs in port->arena. model_status: TM_MODEL_OK when it can run, else why not
     *  (TM_MODEL_ERR_NOT_LOADED without a model, TM_MODEL_ERR_ARENA when it does not fit the
     *  port's arena or the input buffer). */
    tm_model_t model;
    uint8_t model_status;
    /** The loaded package's impulse (tm_impulse_load after every model load); impulse_status
     *  TM_IMPULSE_OK when it can run, TM_IMPULSE_ERR_NO_IMPULSE for a version-1 package. */
    tm_impulse_t impulse;
    uint8_t impulse_status;
    uint32_t bench[TM_AGENT_BENCH_MAX_RUNS]; /**< BENCHMARK run times (counter ticks) */
    int16_t samples[TM_MAX_PAYLOAD / 2]; /**< one STREAM_DATA frame of raw samples */

    uint32_t db_expected;         /**< `db load N`: N */
    uint32_t db_received;
    uint8_t input[TM_AGENT_INPUT_BYTES];
    uint8_t output[TM_AGENT_OUTPUT_BYTES];
    int16_t ring[TM_AGENT_RING_VALUES];      /**< classification: the sensor's recent frames */
    uint32_t work[TM_AGENT_IMPULSE_WORK_BYTES / 4u]; /**< impulse work buffer (aligned) */
} tm_agent_t;

/** Initialise the agent for a port: loads and verifies the persisted model slots. */
tm_error_t tm_agent_init(tm_agent_t *agent, const tm_port_t *port);

/** Feed bytes received from the host; handles every complete request and text command. */
void tm_agent_feed(tm_agent_t *agent, const uint8_t *data, size_t len);

/** Do due background work: send stream frames, classify due windows, end streams and
 *  classifications. Call after every feed and
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
