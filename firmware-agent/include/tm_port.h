/*
 * tm_port.h — what a board port gives the portable agent core.
 *
 * A port owns the hardware: the byte link (a UART, USB CDC or a pty), a free-running
 * counter, the storage of the two model slots, the sensors and the reset. It fills one
 * tm_port_t and runs the main loop; the core (tm_agent.h) never touches hardware.
 *
 * Threading: every function here is called from the thread that calls tm_agent_feed()
 * and tm_agent_poll(); none from an interrupt.
 *
 * Usage (a bare-metal port):
 *     static tm_agent_t agent;                        // all agent state: no heap
 *     tm_agent_init(&agent, &port);
 *     for (;;) {
 *         size_t n = uart_read_available(buf, sizeof buf);
 *         tm_agent_feed(&agent, buf, n);
 *         tm_agent_poll(&agent);                      // streams
 *         sleep_until_input_or(tm_agent_next_deadline(&agent));
 *     }
 */
#ifndef TM_PORT_H
#define TM_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "tm_protocol.h"
#include "tm_sensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Number of model slots (A/B). */
#define TM_MODEL_SLOTS 2u
/** Value of tm_slot_table_t.active when no slot holds a committed model. */
#define TM_SLOT_NONE 0xFFu
/** Most sensors a port may register. */
#define TM_MAX_SENSORS 4u
/** Longest MLPerf Tiny benchmark id a slot keeps ("kws01"), without the terminator. */
#define TM_BENCHMARK_ID_MAX 8u

/** Which slot is active and what each holds. Persisted by the port after each commit. */
typedef struct {
    uint8_t active;               /**< 0, 1 or TM_SLOT_NONE */
    struct {
        uint8_t valid;            /**< nonzero: a complete package with this size and CRC */
        uint32_t size;
        uint32_t crc;
        /** MLPerf Tiny benchmark id given at MODEL_COMMIT, NUL-terminated; "" when none */
        char benchmark_id[TM_BENCHMARK_ID_MAX + 1];
    } slot[TM_MODEL_SLOTS];
    /** Anti-rollback counter: the lowest signed package version a provisioned board
     *  commits (the version of the last signed package committed; 0 until one is). Persisted
     *  with the table, so it changes together with the active slot. */
    uint32_t min_version;
    /** MODEL_REVERT (appended): tm_trial_state_t of the active slot. TM_TRIAL_ON: it was
     *  committed since the last MODEL_CONFIRM and the other slot holds the package that was
     *  active before that commit, which MODEL_REVERT makes active again. */
    uint8_t trial;
    /** The anti-rollback counter before the commit on trial: min_version after a revert. */
    uint32_t trial_min_version;
} tm_slot_table_t;

/** Why the active slot is, or is not, on trial (tm_slot_table_t.trial). Append-only: the
 *  file-backed ports persist it (tm_flash_image.h). */
typedef enum {
    TM_TRIAL_NONE = 0,        /**< no trial recorded (committed by an agent without revert) */
    TM_TRIAL_ON = 1,          /**< on trial: MODEL_REVERT may return to the other slot */
    TM_TRIAL_CONFIRMED = 2,   /**< MODEL_CONFIRM ended it */
    TM_TRIAL_REVERTED = 3,    /**< the active slot is the one a MODEL_REVERT returned to */
    TM_TRIAL_OVERWRITTEN = 4, /**< MODEL_BEGIN began overwriting the other slot */
    TM_TRIAL_FIRST = 5        /**< no model was active before the commit */
} tm_trial_state_t;

/** Board constants reported by INFO. */
typedef struct {
    const char *board_id;         /**< resources/boards/<id>.json */
    const char *cpu;              /**< e.g. "cortex-m4f" */
    uint32_t clock_hz;
    uint32_t ram_bytes;
    uint32_t flash_bytes;
    uint32_t ram_free;            /**< bytes available for the tensor arena */
    uint8_t counter_kind;         /**< tm_counter_kind_t */
    uint32_t counter_resolution;  /**< counter_kind units per tick of now() */
    uint32_t counter_hz;          /**< ticks of now() per second (for stream pacing) */
    uint32_t capabilities;        /**< port-dependent tm_capability_t bits (PERSISTENT_SLOTS) */
} tm_board_info_t;

typedef struct tm_port {
    void *ctx;                    /**< passed to every function below */
    tm_board_info_t board;

    /** Send len bytes; returns when all are queued (may block while the link is busy). */
    void (*write)(void *ctx, const uint8_t *data, size_t len);
    /** Nonzero when a frame can be written now without waiting long. NULL: always. */
    int (*tx_ready)(void *ctx);
    /** Free-running counter, board.counter_hz ticks per second, never wraps. */
    uint64_t (*now)(void *ctx);
    /** 0: streams run as fast as the link takes them instead of at their sample rate. */
    int paced;
    /** Reset the device. May return (host port): the core then restarts itself. */
    void (*reset)(void *ctx);

    /** Capacity of one model slot in bytes. */
    uint32_t slot_size;
    /** Write into a slot (the inactive one, during an upload). */
    tm_error_t (*slot_write)(void *ctx, uint8_t slot, uint32_t offset, const uint8_t *data,
                             uint32_t len);
    /** Read-only view of a slot's slot_size bytes (RAM or memory-mapped flash). */
    const uint8_t *(*slot_data)(void *ctx, uint8_t slot);
    /** Persist the table after a commit of `slot` (data, then table). slot TM_SLOT_NONE:
     *  the table only (MODEL_REVERT, MODEL_CONFIRM, a MODEL_BEGIN ending a trial). NULL:
     *  RAM only. */
    tm_error_t (*slot_persist)(void *ctx, const tm_slot_table_t *table, uint8_t slot);
    /** Load the persisted table at start-up; return nonzero if one was found. NULL: none. */
    int (*slot_load)(void *ctx, tm_slot_table_t *table);

    /** Sensors, indexed by their protocol id (sensors[i]->id == i). */
    tm_sensor_t *sensors[TM_MAX_SENSORS];
    uint8_t sensor_count;

    /** RAM for the model's tensor arena (4-byte aligned, 16 recommended) and its size;
     *  NULL / 0: the agent cannot run models (INVOKE answers MODEL_TOO_LARGE). */
    uint8_t *arena;
    uint32_t arena_size;

    /* Sensor replay files (SENSOR_REPLAY). All NULL: the port cannot read files and the
     * agent answers NOT_SUPPORTED. The agent keeps at most one file open. */
    /** Open the file named by path (len bytes, no terminator, relative to the port's working
     *  directory) for reading, closing any file opened before; *bytes receives its size.
     *  Returns 0 on success, nonzero when it cannot be opened or sized. */
    int (*replay_open)(void *ctx, const char *path, size_t len, uint32_t *bytes);
    /** Read n bytes at offset of the open file into out. Returns 0 when all n were read. */
    int (*replay_read)(void *ctx, uint32_t offset, uint8_t *out, uint32_t n);
    /** Close the open file (no-op without one). */
    void (*replay_close)(void *ctx);

    /** Continuous classification on an emulator whose CPU runs faster, in the counter's time,
     *  than board.clock_hz says: each window's computation then keeps the CPU busy for
     *  compute_stretch times the ticks it measured, so the sensor (paced by the counter) meets
     *  the speed of the board the reports name, and its overruns are that board's. 0 or 1: no
     *  stretch (real boards, the host port). The QEMU images: one instruction per virtual
     *  nanosecond (-icount shift=0) against a 25 MHz board clock, so 40. */
    uint32_t compute_stretch;

    /* The provisioned public key (PROVISION, signed packages): a TM_PROVISION_RECORD_BYTES
     * record (tm_flash_image.h) the agent encodes and checks; the port only stores it, where
     * it survives a reset (the file-backed ports: after the two slots of the flash image).
     * Both NULL: the board cannot be provisioned (PROVISION answers NOT_SUPPORTED). */
    /** Store the record; TM_OK only when it will be there after a reset. */
    tm_error_t (*provision_persist)(void *ctx, const uint8_t *record);
    /** Read the stored record into record; nonzero when there is one (checked by the agent). */
    int (*provision_load)(void *ctx, uint8_t *record);

    /* The device identity (ATTEST): a TM_IDENTITY_RECORD_BYTES record (tm_flash_image.h)
     * holding the identity's secret seed, written once by PROVISION. Like the key record the
     * agent encodes and checks it and the port only stores it (file-backed ports: right after
     * the provisioning record); a real port keeps it in read-protected storage. Both NULL:
     * no identity, ATTEST answers NOT_SUPPORTED. */
    tm_error_t (*identity_persist)(void *ctx, const uint8_t *record);
    int (*identity_load)(void *ctx, uint8_t *record);
    /** SHA-512 of the image the board runs into out (64 bytes), measured by the port (what
     *  memory range or file: the port's comment); nonzero when it did. NULL: unknown, ATTEST
     *  reports zeros and says so in its flags. Called once per boot (the agent keeps it). */
    int (*firmware_hash)(void *ctx, uint8_t *out);
} tm_port_t;

#ifdef __cplusplus
}
#endif

#endif /* TM_PORT_H */
