/* Internal interfaces between the agent's translation units. Not for ports. */
#ifndef TM_AGENT_INTERNAL_H
#define TM_AGENT_INTERNAL_H

#include "tm_agent.h"

/** Precondition: return err from the handler when cond fails (emlearn style). */
#define TM_REQUIRE(cond, err)                                                                \
    do {                                                                                     \
        if (!(cond))                                                                         \
            return (err);                                                                    \
    } while (0)

/** One request being handled: the handler fills reply/reply_len or returns an error and
 *  may point msg at a specific message (static storage or agent->err_msg). */
typedef struct {
    tm_agent_t *agent;
    const tm_frame_t *req;
    size_t reply_len;
    const char *msg;
} tm_request_t;

/* tm_agent.c */
void tm_agent_send_frame(tm_agent_t *a, uint8_t seq, uint8_t op, const uint8_t *payload,
                         size_t len);
void tm_agent_send_log(tm_agent_t *a, const char *text);
void tm_agent_write_text(tm_agent_t *a, const char *text);
size_t tm_agent_format_u32(char *out, uint32_t v);
/** STREAM_DATA frames of n frames starting at frame `first` (split by spf). */
void tm_agent_send_samples(tm_agent_t *a, uint8_t sensor, uint32_t first, const int16_t *v,
                           uint32_t n, uint32_t channels, uint16_t spf);
/** The sensor with protocol id `id`, or TM_ERR_NO_SENSOR. */
tm_error_t tm_agent_sensor_of(tm_request_t *r, uint8_t id, tm_sensor_t **out);

/* tm_agent_model.c */
void tm_model_init(tm_agent_t *a);
int tm_model_loaded(const tm_agent_t *a);
/** The active slot holds a package the interpreter loaded and the arena fits. */
int tm_model_ready(const tm_agent_t *a);
/** TM_OK when a model can run; otherwise the error for INVOKE/BENCHMARK and *msg. */
tm_error_t tm_model_check_ready(tm_agent_t *a, const char **msg);
/** Message naming why the active slot cannot run (in agent->err_msg or static). */
const char *tm_model_unready_message(tm_agent_t *a);
/** Copy the staged input into the arena and run once; *ticks: counter delta. */
tm_error_t tm_model_run(tm_agent_t *a, uint64_t *ticks);
void tm_model_abort_upload(tm_agent_t *a);
/** Nonzero while an upload runs. */
int tm_model_uploading(const tm_agent_t *a);
/** MODEL_BEGIN, MODEL_CHUNK, MODEL_COMMIT, MODEL_INFO, PROVISION, ATTEST, MODEL_REVERT and
 *  MODEL_CONFIRM. */
tm_error_t tm_model_handle(tm_request_t *r);
/** INFO SECURITY's value (TM_INFO_SECURITY_BYTES bytes) into out. */
#define TM_INFO_SECURITY_BYTES 21u
void tm_model_security_info(const tm_agent_t *a, uint8_t out[TM_INFO_SECURITY_BYTES]);
tm_error_t tm_io_handle(tm_request_t *r);

/* tm_agent_source.c: where a recording's samples come from (the sensor, a replay file, a
 * scenario script). Streams and classifications both read through it. */
/** Forget any replay or script (closes the replay file). */
void tm_source_reset(tm_agent_t *a);
/** Begin a recording of sensor at rate_hz: starts the sensor (or rewinds the replay, selects
 *  the script's first scenario). a->rec.limit then holds the frames it can give. */
tm_error_t tm_source_begin(tm_agent_t *a, uint8_t sensor, uint32_t rate_hz);
/** The recording's next n frames (n x channels values, sample-major) into out; splits reads at
 *  script step boundaries. Returns the frames given: fewer than n only at the source's end
 *  or when a replay read fails (the recording then ends with REPLAY_END). */
uint32_t tm_source_read(tm_agent_t *a, int16_t *out, uint32_t n);
/** SENSOR_REPLAY and SENSOR_SCRIPT. */
tm_error_t tm_source_handle(tm_request_t *r);

/* tm_agent_classify.c: continuous classification */
/** Load the impulse of the model just loaded (or record why not). */
void tm_classify_load_impulse(tm_agent_t *a);
/** CLASSIFY_START and CLASSIFY_STOP (the stop's CLASSIFY_END goes out after its reply). */
tm_error_t tm_classify_handle(tm_request_t *r, int *end_after_reply);
/** Send CLASSIFY_END and stop. */
void tm_classify_end(tm_agent_t *a, uint8_t reason);
void tm_classify_poll(tm_agent_t *a);
uint64_t tm_classify_deadline(const tm_agent_t *a);

/* tm_agent_telemetry.c: drift summaries */
#define TM_TELEMETRY_CLASSIFY 0u
#define TM_TELEMETRY_INVOKE 1u
/** Zero both summaries (a new package is active). */
void tm_telemetry_reset(tm_agent_t *a);
/** Add one window to summary `source`. input_at(ctx, k) gives element k of the int8 model
 *  input; scores the int8 output (out_count values); top_class and uncertain as decided. */
void tm_telemetry_add(tm_agent_t *a, unsigned source, int8_t (*input_at)(const void *, uint32_t),
                      const void *ctx, uint32_t input_count, const int8_t *scores,
                      uint32_t out_count, uint32_t top_class, int uncertain);
/** TELEMETRY. */
tm_error_t tm_telemetry_handle(tm_request_t *r);

/* tm_mlperf.c */
void tm_mlperf_byte(tm_agent_t *a, uint8_t byte);

#endif /* TM_AGENT_INTERNAL_H */
