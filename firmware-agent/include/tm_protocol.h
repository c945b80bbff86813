/*
 * tm_protocol.h — constants of the TinyML agent wire protocol, version 1.
 *
 * The single source of truth is firmware-agent/PROTOCOL.md; this header mirrors it and is
 * included by the agent (C99) and by the host (C++). Every enum here is append-only:
 * never renumber, keep removed values as comments.
 *
 * A frame on the wire is COBS-encoded and ends with one 0x00 byte. Decoded, it is
 *
 *     [seq u8][op u8][payload 0..TM_MAX_PAYLOAD bytes][crc32 u32 little-endian]
 *
 * where the CRC-32 (IEEE 802.3: reflected polynomial 0xEDB88320, init and final xor
 * 0xFFFFFFFF) covers seq, op and payload. Multi-byte integers are little-endian,
 * floats are IEEE-754 binary32 little-endian.
 */
#ifndef TM_PROTOCOL_H
#define TM_PROTOCOL_H

#include <stdint.h>

#define TM_PROTOCOL_VERSION 1u

#define TM_MAX_PAYLOAD 2048u
#define TM_FRAME_OVERHEAD 6u /* seq + op + crc32 */
#define TM_MAX_DECODED_FRAME (TM_MAX_PAYLOAD + TM_FRAME_OVERHEAD)
/* COBS adds one byte per 254 plus one, then the 0x00 delimiter. */
#define TM_MAX_ENCODED_FRAME (TM_MAX_DECODED_FRAME + TM_MAX_DECODED_FRAME / 254u + 2u)

/* A reply carries the request's seq and op | TM_OP_REPLY. */
#define TM_OP_REPLY 0x80u

/* LAYER_PROFILE: most layers one reply carries ((TM_MAX_PAYLOAD - 6) / 8). */
#define TM_LAYER_PROFILE_MAX_LAYERS 255u

/* Operation codes. Append-only. */
typedef enum {
    /* host -> device requests */
    TM_OP_HELLO = 0x01,          /* u16 host protocol version -> INFO TLVs */
    TM_OP_GET_INFO = 0x02,       /* -> INFO TLVs */
    TM_OP_PING = 0x03,           /* any bytes -> the same bytes */
    TM_OP_RESET = 0x04,          /* -> empty reply, then the device resets */
    TM_OP_SET_SCENARIO = 0x05,   /* u8 sensor id, scenario name bytes -> empty */
    TM_OP_STREAM_START = 0x06,   /* u8 sensor, u32 rate_hz, u32 n_samples (0 = until stop),
                                    u16 samples_per_frame (0 = agent picks)
                                    -> u8 sensor, u32 rate_hz, u16 samples_per_frame */
    TM_OP_STREAM_STOP = 0x07,    /* -> empty reply; a STREAM_END frame follows */
    TM_OP_MODEL_BEGIN = 0x08,    /* u32 total size, u32 crc32 of the package -> u8 slot */
    TM_OP_MODEL_CHUNK = 0x09,    /* u32 offset, bytes -> u32 bytes received so far */
    TM_OP_MODEL_COMMIT = 0x0A,   /* -> u8 active slot (after CRC check) */
    TM_OP_MODEL_INFO = 0x0B,     /* -> u8 active slot, u8 valid, u32 size, u32 crc32 */
    TM_OP_SET_INPUT = 0x0C,      /* u32 offset, bytes -> empty */
    TM_OP_INVOKE = 0x0D,         /* -> u64 counter (see TM_INFO_COUNTER) */
    TM_OP_GET_OUTPUT = 0x0E,     /* u32 offset, u16 length -> bytes */
    TM_OP_BENCHMARK = 0x0F,      /* u32 runs -> u32 runs, u64 min, u64 median, u64 max */
    TM_OP_SET_SENSOR_SEED = 0x10,/* u8 sensor, u32 seed -> empty (simulator subject variation) */
    TM_OP_LINK_TEST = 0x11,      /* u8 n -> sends n garbage bytes, one frame with a bad CRC,
                                    then the empty reply: tests the host's resynchronisation */
    TM_OP_LAYER_PROFILE = 0x12,  /* u32 runs, u16 first layer -> u16 layer count, u16 first,
                                    u16 n, then n x u64 counter ticks (min over the runs) */
    TM_OP_CLASSIFY_START = 0x13, /* u8 sensor (0xFF: the impulse's kind), u32 max_windows,
                                    u8 flags (TM_CLASSIFY_RAW) -> u8 sensor, u32 rate_hz,
                                    u32 window, u32 stride, u16 class_count, u32 ring_frames */
    TM_OP_CLASSIFY_STOP = 0x14,  /* -> empty reply; a CLASSIFY_END frame follows */
    TM_OP_SENSOR_REPLAY = 0x15,  /* u8 sensor, u8 mode (0 off, 1 file), file name
                                    -> u32 frames in the file */
    TM_OP_SENSOR_SCRIPT = 0x16,  /* u8 sensor, u16 steps, steps x (u8 scenario index,
                                    u32 duration_ms) -> u32 frames at the default rate */
    TM_OP_PROVISION = 0x17,      /* 32-byte Ed25519 public key -> u8[8] key id; locks the
                                    board to that key (signed packages only from then on);
                                    with a 32-byte device identity seed after the key (64
                                    bytes) also writes the device identity once and replies
                                    the key id then the 32-byte device public key */
    TM_OP_ATTEST = 0x18,         /* 32-byte nonce -> the signed attestation statement
                                    (crypto/include/tm_attest.h, 320 bytes) */
    TM_OP_MODEL_REVERT = 0x19,   /* -> u8 active slot: the slot active before the last
                                    commit runs again (only while that commit is on trial) */
    TM_OP_MODEL_CONFIRM = 0x1A,  /* -> empty: ends the trial; no revert from then on */
    TM_OP_TELEMETRY = 0x1B,      /* u8 flags (TM_TELEMETRY_*) -> the drift summary of one
                                    source, layout TM_TELEMETRY_LAYOUT (PROTOCOL.md) */

    /* device -> host, unsolicited */
    TM_OP_STREAM_DATA = 0x40,    /* u8 sensor, u32 first sample index, u16 n samples,
                                    then n * channels values of the sensor's dtype */
    TM_OP_STREAM_END = 0x41,     /* u8 sensor, u32 samples sent, u8 tm_stream_end_t */
    TM_OP_LOG = 0x42,            /* UTF-8 text */
    TM_OP_CLASSIFY_RESULT = 0x43,/* u32 window_end, u8 top_class, u8 decision, u8 flags,
                                    u8 class_count, f32 score, u32 dsp_ticks,
                                    u32 model_ticks, u32 post_ticks, u32 overruns,
                                    class_count x i8 raw model output */
    TM_OP_CLASSIFY_END = 0x44,   /* u32 windows sent, u32 overruns, u32 frames lost,
                                    u8 tm_stream_end_t */

    /* device -> host reply to a failed request (carries the request's seq) */
    TM_OP_ERROR = 0x7F           /* u8 request op, u16 tm_error_t, UTF-8 message */
} tm_op_t;

/* Error codes. Append-only. */
typedef enum {
    TM_OK = 0,
    TM_ERR_BAD_CRC = 1,
    TM_ERR_UNKNOWN_OP = 2,
    TM_ERR_BAD_LENGTH = 3,
    TM_ERR_BAD_ARGUMENT = 4,
    TM_ERR_BUSY = 5,
    TM_ERR_NO_SENSOR = 6,
    TM_ERR_RATE_UNSUPPORTED = 7,
    TM_ERR_NO_MODEL = 8,
    TM_ERR_MODEL_TOO_LARGE = 9,
    TM_ERR_MODEL_CRC = 10,
    TM_ERR_UPLOAD_SEQUENCE = 11,
    TM_ERR_NOT_SUPPORTED = 12,
    TM_ERR_INTERNAL = 13,
    TM_ERR_NO_SCENARIO = 14,
    /* MODEL_COMMIT on a provisioned board (the previous model stays active) and PROVISION */
    TM_ERR_UNSIGNED = 15,          /* no signature block after the package */
    TM_ERR_WRONG_KEY = 16,         /* the block names another key than the provisioned one */
    TM_ERR_BAD_SIGNATURE = 17,     /* the signature does not match the bytes */
    TM_ERR_SIGNED_MALFORMED = 18,  /* sizes, magic or fields of the signature block wrong */
    TM_ERR_ROLLBACK = 19,          /* package version below the anti-rollback counter */
    TM_ERR_ALREADY_PROVISIONED = 20, /* PROVISION with another key on a locked board */
    TM_ERR_NOT_PROVISIONED = 21,    /* ATTEST on a board without a device identity */
    TM_ERR_NO_PREVIOUS_MODEL = 22   /* MODEL_REVERT with nothing to revert to (message: why) */
} tm_error_t;

/* Why a stream ended. Append-only. */
typedef enum {
    TM_STREAM_END_COMPLETE = 0, /* n_samples reached */
    TM_STREAM_END_STOPPED = 1,  /* STREAM_STOP received */
    TM_STREAM_END_OVERRUN = 2,  /* the UART could not keep up; samples were lost */
    TM_STREAM_END_REPLAY_END = 3 /* the sensor's replay file or scenario script ended */
} tm_stream_end_t;

/* INFO reply: a sequence of [tag u8][length u8][value] records. Append-only tags;
 * unknown tags are skipped by length. Strings are UTF-8 without terminator. */
typedef enum {
    TM_INFO_PROTOCOL_VERSION = 1, /* u16 */
    TM_INFO_AGENT_VERSION = 2,    /* str, e.g. "0.1.0" */
    TM_INFO_BOARD_ID = 3,         /* str, matches resources/boards/<id>.json */
    TM_INFO_CPU = 4,              /* str, e.g. "cortex-m4f" */
    TM_INFO_CLOCK_HZ = 5,         /* u32 */
    TM_INFO_RAM_BYTES = 6,        /* u32 */
    TM_INFO_FLASH_BYTES = 7,      /* u32 */
    TM_INFO_RAM_FREE = 8,         /* u32: bytes available for the tensor arena */
    TM_INFO_FLASH_FREE = 9,       /* u32: capacity of one model slot */
    TM_INFO_COUNTER = 10,         /* u8 tm_counter_kind_t, u32 resolution (units per tick) */
    TM_INFO_CAPABILITIES = 11,    /* u32 tm_capability_t bits */
    TM_INFO_SENSOR = 12,          /* see tm_sensor layout in PROTOCOL.md; repeated */
    TM_INFO_SIMULATOR = 13,       /* str: present only when the sensors are simulated */
    TM_INFO_SCENARIOS = 14,       /* u8 sensor id, then [u8 len][name] repeated; repeated */
    TM_INFO_BUILD = 15,           /* str: compiler, date, build id */
    TM_INFO_MODEL_SLOTS = 16,     /* u8 slot count, u32 slot size */
    TM_INFO_MODEL_FORMAT = 17,    /* u16 model package version, then u8 op codes the
                                     interpreter runs (model::OpType values) */
    TM_INFO_IMPULSE = 18,         /* u16 impulse format version, u32 DSP block mask, u32
                                     post-processing feature mask, u32 ring capacity (int16
                                     values), u32 impulse work-buffer bytes */
    TM_INFO_SECURITY = 19         /* u8 provisioned (0/1), u8[8] key id (zeros when not),
                                     u32 anti-rollback counter, u32 active package version
                                     (0: none or unsigned), u32 counter ticks of the last
                                     signature check (0: none since boot) */
} tm_info_tag_t;

typedef enum {
    TM_COUNTER_CYCLES = 0,        /* DWT->CYCCNT on real Cortex-M */
    TM_COUNTER_INSTRUCTIONS = 1,  /* QEMU -icount shift=0: one instruction per ns */
    TM_COUNTER_MICROSECONDS = 2   /* host build: wall clock */
} tm_counter_kind_t;

typedef enum {
    TM_CAP_STREAMING = 1u << 0,
    TM_CAP_MODEL_UPLOAD = 1u << 1,
    TM_CAP_INFERENCE = 1u << 2,
    TM_CAP_MLPERF_TEXT = 1u << 3,
    TM_CAP_SCENARIOS = 1u << 4,
    TM_CAP_PERSISTENT_SLOTS = 1u << 5,
    TM_CAP_CLASSIFY = 1u << 6,    /* CLASSIFY_START / STOP: the impulse on the own sensor */
    TM_CAP_SENSOR_REPLAY = 1u << 7, /* SENSOR_REPLAY: the port can read replay files */
    TM_CAP_SIGNED_PACKAGES = 1u << 8, /* PROVISION and INFO SECURITY: the port keeps a key */
    TM_CAP_ATTESTATION = 1u << 9, /* ATTEST, and PROVISION takes a device identity seed */
    TM_CAP_MODEL_REVERT = 1u << 10, /* MODEL_REVERT / MODEL_CONFIRM, MODEL_INFO flag 0x02 */
    TM_CAP_TELEMETRY = 1u << 11   /* TELEMETRY: running drift summaries */
} tm_capability_t;

/* MODEL_INFO request flags. */
#define TM_MODEL_INFO_BENCHMARK_ID 0x01u /* append [u8 len] benchmark id */
#define TM_MODEL_INFO_TRIAL 0x02u        /* append u8 trial flag (agents with MODEL_REVERT) */

/* TELEMETRY request flags and reply constants. */
#define TM_TELEMETRY_RESET 0x01u          /* zero the summary after reading it */
#define TM_TELEMETRY_SOURCE_INVOKE 0x02u  /* the INVOKE summary (default: CLASSIFY windows) */
#define TM_TELEMETRY_LAYOUT 1u            /* reply layout version (first byte) */
#define TM_TELEMETRY_MAX_FEATURES 64u     /* model-input elements summarised at most */
#define TM_TELEMETRY_ANOMALY_BINS 16u     /* one-output models: bins of 16 int8 codes */
#define TM_TELEMETRY_MAX_CLASSES 32u      /* = TM_IMPULSE_MAX_CLASSES */
#define TM_TELEMETRY_HEADER_BYTES 40u     /* fixed part before the arrays */

/* CLASSIFY_START flags. */
#define TM_CLASSIFY_RAW 0x01u     /* also send the window's samples as STREAM_DATA */
/* CLASSIFY_START sensor id: the first sensor of the impulse's kind. */
#define TM_CLASSIFY_ANY_SENSOR 0xFFu
/* SENSOR_REPLAY modes. */
#define TM_REPLAY_OFF 0u
#define TM_REPLAY_FILE 1u
/* SENSOR_SCRIPT: most steps. */
#define TM_SCRIPT_MAX_STEPS 256u
/* CLASSIFY_RESULT flags: the decision's (TM_IMPULSE_DETECTION ... in tm_impulse.h). */

typedef enum {
    TM_SENSOR_ACCELEROMETER = 0,
    TM_SENSOR_MICROPHONE = 1,
    TM_SENSOR_VIBRATION = 2       /* a machine-vibration accelerometer, AC-coupled (no gravity) */
} tm_sensor_kind_t;

typedef enum {
    TM_DTYPE_INT16 = 0,           /* physical value = raw * scale */
    TM_DTYPE_FLOAT32 = 1
} tm_sample_dtype_t;

#endif /* TM_PROTOCOL_H */
