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
tm_error_t tm_model_handle(tm_request_t *r);
tm_error_t tm_io_handle(tm_request_t *r);

/* tm_mlperf.c */
void tm_mlperf_byte(tm_agent_t *a, uint8_t byte);

#endif /* TM_AGENT_INTERNAL_H */
