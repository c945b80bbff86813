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
 *
 * Every simulated sensor is a simulation: no physical sensor is read, and INFO says so.
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
    float severity;               /**< fault severity in [0, 1] (vibration sensor only) */
    /** The simulated machine behind the vibration sensor (unused by the others). */
    struct {
        float f_set;              /**< shaft speed set-point of this recording, Hz */
        float residual;           /**< the healthy machine's 1x, m/s^2 (0.1 .. 0.4) */
        float load, load_target;  /**< 0 .. 1; the load steps, the speed follows through slip */
        uint32_t next_load_step;  /**< sample index of the next load step */
        float load_alpha;         /**< first-order lag per sample (time constant 0.4 s) */
        float shaft;              /**< shaft angle in turns, [0, 2): two turns carry the 1/2x */
        float race;               /**< outer-race defect phase in turns; an impact at each 1 */
        uint32_t proc_rng;        /**< load steps and impact jitter, apart from the noise */
        float res_a1, res_a2;     /**< structural mode: y = a1 y1 + a2 y2 + input */
        float res_y1, res_y2;
        float res_noise_gain;     /**< white input giving the mode's normal RMS */
        float res_impulse_gain;   /**< impact input giving a unit ringing envelope */
        uint8_t res_on;           /**< 0 when the mode lies above the anti-alias cut-off */
    } vib;
} tm_sim_sensor_t;

/** Accelerometer: 3 channels (x, y, z) in m/s^2, int16 at 0.002 m/s^2 per LSB,
 *  1 .. 4000 Hz (default 100). Scenarios: idle, shake, circle, updown, walk. */
void tm_sim_accel_init(tm_sim_sensor_t *sim, uint8_t id);

/** Microphone: 1 channel, int16 full scale (scale 1/32768), 4000 .. 16000 Hz (default
 *  16000). Scenarios: silence, noise, tone (440 Hz), chirp (200 Hz .. 4 kHz in 1 s),
 *  twotone (697 Hz + 1209 Hz). */
void tm_sim_mic_init(tm_sim_sensor_t *sim, uint8_t id);

/** Vibration sensor on a simulated rotating machine (kind TM_SENSOR_VIBRATION, name "vib"):
 *  3 channels x, y (radial: horizontal, vertical) and z (axial) in m/s^2, AC-coupled like a
 *  piezoelectric sensor (no gravity), int16 at 0.002 m/s^2 per LSB (+-65 m/s^2),
 *  400 .. 12800 Hz (default 6400: the structural mode near 2.2 kHz needs more than 5.2 kHz).
 *
 *  The machine: a motor whose shaft turns at f_r = f_set (1 + 0.04 (0.5 - load)), f_set =
 *  25 Hz +-7.5 % per recording, the load (0 .. 1) stepping every 0.5 .. 2.5 s and the speed
 *  following it with a 0.4 s lag (so f_r stays within 25 Hz +-10 %). Normal vibration: a small 1x (0.1 .. 0.4
 *  m/s^2, drawn per recording: no machine is perfectly balanced) and 2x,
 *  broadband noise and one lightly damped structural mode (2.2 kHz +-3 % per recording,
 *  damping ratio 0.03) excited by noise. Above 0.42 x rate the mode is not produced: the
 *  sensor's anti-alias filter removes it, as on a real sensor sampled too slowly.
 *
 *  Scenarios: normal, imbalance (1x, radial x and y in quadrature), misalignment (2x and 1x,
 *  strongest axial z), looseness (harmonics 1x .. 10x and 1/2x, 3/2x, 5/2x: an impacting
 *  waveform, mostly vertical y), bearing (outer-race defect of a 6205 bearing: impacts at
 *  BPFO = 3.585 f_r ringing the structural mode, constant amplitude).
 *
 *  set_scenario accepts "NAME" or "NAME:SEVERITY" with SEVERITY low (0.25), medium (0.5),
 *  high (1) or a decimal number in [0, 1] ("bearing:0.4"); a bare fault name means medium
 *  (SENSOR_SCRIPT steps name bare scenarios). "normal" takes no severity. Unknown name:
 *  TM_ERR_NO_SCENARIO; a bad or out-of-range severity: TM_ERR_BAD_ARGUMENT. The fault's
 *  amplitude is proportional to the severity; noise and speed do not depend on the
 *  scenario, so the same seed gives the same machine with and without the fault. */
void tm_sim_vibration_init(tm_sim_sensor_t *sim, uint8_t id);

#ifdef __cplusplus
}
#endif

#endif /* TM_SENSOR_H */
