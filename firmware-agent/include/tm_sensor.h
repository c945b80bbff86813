/*
 * tm_sensor.h — the sensor interface of the agent, and the simulated sensors.
 *
 * A sensor is a tm_sensor_t: a constant descriptor (what INFO reports) plus four
 * operations. A real driver (an I2C accelerometer, a PDM microphone) and the simulator
 * implement the same interface, so the protocol code never knows which one it talks to.
 * Samples are produced in order: start() begins a recording at a rate, each read() returns
 * the next n samples, sample-major (x0 y0 z0 x1 y1 z1 ...), as int16 raw values
 * (physical value = raw x desc->scale).
 *
 * Usage:
 *     static tm_sim_sensor_t accel;
 *     tm_sim_accel_init(&accel, 0);                 // sensor id 0
 *     tm_sensor_t *s = &accel.base;
 *     s->set_scenario(s, "shake", 5);
 *     s->start(s, 100);                             // 100 Hz recording
 *     int16_t xyz[3 * 50];
 *     s->read(s, xyz, 50);                          // the first 0.5 s
 *
 * The simulator is deterministic: the same seed (SET_SENSOR_SEED) and the same sequence
 * of recordings give the same samples on every build (host or device, bit for bit only
 * where the libm sinf agrees; statistics always agree).
 */
#ifndef TM_SENSOR_H
#define TM_SENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "tm_protocol.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Most channels any sensor has (INFO record must fit in 255 bytes). */
#define TM_SENSOR_MAX_CHANNELS 3u
/** Most scenarios a sensor lists. */
#define TM_SENSOR_MAX_SCENARIOS 8u

/** What INFO's SENSOR and SCENARIOS records say about one sensor. Constant data. */
typedef struct {
    uint8_t kind;                 /**< tm_sensor_kind_t */
    uint8_t dtype;                /**< tm_sample_dtype_t; only TM_DTYPE_INT16 is produced */
    uint8_t channels;             /**< 1 .. TM_SENSOR_MAX_CHANNELS */
    float scale;                  /**< physical = raw * scale */
    uint32_t min_rate_hz;
    uint32_t max_rate_hz;
    uint32_t default_rate_hz;
    const char *name;
    const char *const *channel_names; /**< channels entries */
    const char *const *channel_units; /**< channels entries, UTF-8 */
    const char *const *scenarios;     /**< scenario_count entries; NULL when none */
    uint8_t scenario_count;
    uint8_t simulated;            /**< nonzero: INFO carries the SIMULATOR tag */
} tm_sensor_desc_t;

typedef struct tm_sensor tm_sensor_t;

/** One sensor. Embed it as the first member of an implementation's state. */
struct tm_sensor {
    const tm_sensor_desc_t *desc;
    uint8_t id;                   /**< the protocol's sensor id */
    /** Select a scenario by name (len bytes, no terminator). TM_ERR_NO_SCENARIO if unknown.
     *  May be called during a recording: the signal changes from the next read(). */
    tm_error_t (*set_scenario)(tm_sensor_t *s, const char *name, size_t len);
    /** Seed the subject-to-subject variation; the next recordings follow from it. */
    void (*set_seed)(tm_sensor_t *s, uint32_t seed);
    /** Begin a recording at rate_hz (already range-checked by the caller). */
    tm_error_t (*start)(tm_sensor_t *s, uint32_t rate_hz);
    /** The next n samples of the recording: n x channels values, sample-major. */
    void (*read)(tm_sensor_t *s, int16_t *out, uint32_t n);
};

/* ---- simulator ----------------------------------------------------------------------- */

/** Deterministic xorshift32 PRNG; state must never be 0. */
static inline uint32_t tm_xorshift32(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

/** State of one simulated sensor. Treat as opaque; base must stay first. */
typedef struct {
    tm_sensor_t base;
    uint8_t scenario;             /**< index into desc->scenarios */
    uint32_t seed;                /**< set by set_seed() */
    uint32_t recording;           /**< recordings started since the seed was set */
    uint32_t rng;                 /**< noise generator, reseeded per recording */
    uint32_t rate_hz;
    /* per-recording "subject" variation, drawn at start() */
    float amp_jitter;             /**< amplitude factor, around 1 */
    float freq_jitter;            /**< frequency factor, around 1 */
    float tilt_x, tilt_y;         /**< gravity direction offsets (radians) */
    float phase[3];               /**< oscillator phases in turns, [0, 1) */
    uint32_t t;                   /**< samples produced since start() */
} tm_sim_sensor_t;

/** Accelerometer: 3 channels (x, y, z) in m/s^2, int16 at 0.002 m/s^2 per LSB,
 *  1 .. 4000 Hz (default 100). Scenarios: idle, shake, circle, updown, walk. */
void tm_sim_accel_init(tm_sim_sensor_t *sim, uint8_t id);

/** Microphone: 1 channel, int16 full scale (scale 1/32768), 4000 .. 16000 Hz (default
 *  16000). Scenarios: silence, noise, tone (440 Hz), chirp (200 Hz .. 4 kHz in 1 s),
 *  twotone (697 Hz + 1209 Hz). */
void tm_sim_mic_init(tm_sim_sensor_t *sim, uint8_t id);

#ifdef __cplusplus
}
#endif

#endif /* TM_SENSOR_H */
