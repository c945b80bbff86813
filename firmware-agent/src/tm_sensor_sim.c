/* Simulated accelerometer and microphone behind the tm_sensor_t interface.
 *
 * Each scenario differs in dominant frequency, amplitude and axis so that captured data
 * has learnable structure; each recording draws a "subject" (amplitude, frequency, tilt
 * jitter) from the seed so that recordings of one scenario are alike but not identical. */
#include <math.h>
#include <string.h>

#include "tm_sensor.h"

#define TM_TWO_PI 6.28318530718f
#define TM_GRAVITY 9.80665f
#define TM_ACCEL_SCALE 0.002f
#define TM_MIC_SCALE (1.0f / 32768.0f)

enum { ACC_IDLE, ACC_SHAKE, ACC_CIRCLE, ACC_UPDOWN, ACC_WALK, ACC_COUNT };
enum { MIC_SILENCE, MIC_NOISE, MIC_TONE, MIC_CHIRP, MIC_TWOTONE, MIC_COUNT };

static const char *const accel_scenarios[ACC_COUNT] = {"idle", "shake", "circle", "updown",
                                                       "walk"};
static const char *const accel_channels[3] = {"x", "y", "z"};
static const char *const accel_units[3] = {"m/s\xC2\xB2", "m/s\xC2\xB2", "m/s\xC2\xB2"};

static const char *const mic_scenarios[MIC_COUNT] = {"silence", "noise", "tone", "chirp",
                                                     "twotone"};
static const char *const mic_channels[1] = {"mic"};
static const char *const mic_units[1] = {"FS"};

static const tm_sensor_desc_t accel_desc = {
    TM_SENSOR_ACCELEROMETER, TM_DTYPE_INT16, 3, TM_ACCEL_SCALE, 1u, 4000u, 100u,
    "accel", accel_channels, accel_units, accel_scenarios, ACC_COUNT, 1};

static const tm_sensor_desc_t mic_desc = {
    TM_SENSOR_MICROPHONE, TM_DTYPE_INT16, 1, TM_MIC_SCALE, 4000u, 16000u, 16000u,
    "mic", mic_channels, mic_units, mic_scenarios, MIC_COUNT, 1};

/* ---- helpers ---------------------------------------------------------------------- */

static uint32_t mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x ? x : 0x9E3779B9u;
}

/** Uniform in [0, 1). */
static float uniform(uint32_t *rng)
{
    return (float)(tm_xorshift32(rng) >> 8) * (1.0f / 16777216.0f);
}

/** Approximately normal, unit variance (sum of four uniforms). */
static float gauss(uint32_t *rng)
{
    float s = uniform(rng) + uniform(rng) + uniform(rng) + uniform(rng);
    return (s - 2.0f) * 1.7320508f; /* var of the sum is 4/12 */
}

static void advance(float *phase, float turns)
{
    *phase += turns;
    if (*phase >= 1.0f)
        *phase -= floorf(*phase);
}

static int16_t quantize(float v, float scale)
{
    float r = v / scale;
    if (r > 32767.0f)
        return 32767;
    if (r < -32768.0f)
        return -32768;
    return (int16_t)(r >= 0.0f ? r + 0.5f : r - 0.5f);
}

static tm_error_t sim_set_scenario(tm_sensor_t *s, const char *name, size_t len)
{
    tm_sim_sensor_t *sim = (tm_sim_sensor_t *)s;
    for (uint8_t i = 0; i < s->desc->scenario_count; ++i) {
        const char *cand = s->desc->scenarios[i];
        if (strlen(cand) == len && memcmp(cand, name, len) == 0) {
            sim->scenario = i;
            return TM_OK;
        }
    }
    return TM_ERR_NO_SCENARIO;
}

static void sim_set_seed(tm_sensor_t *s, uint32_t seed)
{
    tm_sim_sensor_t *sim = (tm_sim_sensor_t *)s;
    sim->seed = seed;
    sim->recording = 0;
}

static tm_error_t sim_start(tm_sensor_t *s, uint32_t rate_hz)
{
    tm_sim_sensor_t *sim = (tm_sim_sensor_t *)s;
    if (rate_hz == 0)
        return TM_ERR_RATE_UNSUPPORTED;
    sim->rate_hz = rate_hz;
    sim->rng = mix32(sim->seed ^ mix32(sim->recording * 0x9E3779B9u + s->id + 1u));
    sim->recording++;
    sim->amp_jitter = 0.8f + 0.4f * uniform(&sim->rng);
    sim->freq_jitter = 0.9f + 0.2f * uniform(&sim->rng);
    sim->tilt_x = 0.2f * (uniform(&sim->rng) - 0.5f);
    sim->tilt_y = 0.2f * (uniform(&sim->rng) - 0.5f);
    for (int i = 0; i < 3; ++i)
        sim->phase[i] = uniform(&sim->rng);
    sim->t = 0;
    return TM_OK;
}

/* ---- accelerometer ---------------------------------------------------------------- */

static void accel_read(tm_sensor_t *s, int16_t *out, uint32_t n)
{
    tm_sim_sensor_t *sim = (tm_sim_sensor_t *)s;
    const float inv_rate = 1.0f / (float)sim->rate_hz;
    const float a = sim->amp_jitter;
    const float fj = sim->freq_jitter;
    /* gravity as seen by a slightly tilted board */
    const float gx = TM_GRAVITY * sinf(sim->tilt_x);
    const float gy = TM_GRAVITY * sinf(sim->tilt_y);
    const float gz = TM_GRAVITY * cosf(sim->tilt_x) * cosf(sim->tilt_y);

    for (uint32_t i = 0; i < n; ++i) {
        float x = gx, y = gy, z = gz, noise = 0.03f;
        const float p0 = TM_TWO_PI * sim->phase[0];
        const float p1 = TM_TWO_PI * sim->phase[1];
        float f0 = 0.0f, f1 = 0.0f;
        switch (sim->scenario) {
        case ACC_IDLE: /* a resting hand: faint physiological tremor near 9 Hz */
            f0 = 9.0f;
            x += 0.02f * a * sinf(p0);
            y += 0.02f * a * cosf(p0);
            break;
        case ACC_SHAKE: /* vigorous side-to-side shake along x, 5 Hz, with a harmonic */
            f0 = 5.0f;
            x += 10.0f * a * (sinf(p0) + 0.25f * sinf(3.0f * p0));
            y += 1.5f * a * sinf(p0 + 0.5f);
            noise = 0.3f;
            break;
        case ACC_CIRCLE: /* circles in the x-y plane at 1.2 Hz */
            f0 = 1.2f;
            x += 4.0f * a * cosf(p0);
            y += 4.0f * a * sinf(p0);
            noise = 0.15f;
            break;
        case ACC_UPDOWN: /* vertical motion along z at 2 Hz */
            f0 = 2.0f;
            z += 6.0f * a * sinf(p0);
            noise = 0.15f;
            break;
        case ACC_WALK: { /* heel strikes at 1.8 Hz on z, body sway at half that on x */
            f0 = 1.8f;
            f1 = 0.9f;
            float h = fabsf(sinf(0.5f * p0));
            z += 5.0f * a * (h * h * h * h - 0.375f);
            x += 1.0f * a * sinf(p1);
            noise = 0.2f;
            break;
        }
        default:
            break;
        }
        advance(&sim->phase[0], f0 * fj * inv_rate);
        advance(&sim->phase[1], f1 * fj * inv_rate);
        out[3 * i + 0] = quantize(x + noise * gauss(&sim->rng), TM_ACCEL_SCALE);
        out[3 * i + 1] = quantize(y + noise * gauss(&sim->rng), TM_ACCEL_SCALE);
        out[3 * i + 2] = quantize(z + noise * gauss(&sim->rng), TM_ACCEL_SCALE);
    }
    sim->t += n;
}

/* ---- microphone ------------------------------------------------------------------- */

static void mic_read(tm_sensor_t *s, int16_t *out, uint32_t n)
{
    tm_sim_sensor_t *sim = (tm_sim_sensor_t *)s;
    const float inv_rate = 1.0f / (float)sim->rate_hz;
    const float a = sim->amp_jitter;
    /* voices and instruments are not all tuned alike, but only by a few percent */
    const float fj = 1.0f + 0.2f * (sim->freq_jitter - 1.0f);

    for (uint32_t i = 0; i < n; ++i) {
        float v = 0.0f;
        float noise = 0.0005f;
        switch (sim->scenario) {
        case MIC_SILENCE:
            break;
        case MIC_NOISE:
            noise = 0.1f * a;
            break;
        case MIC_TONE:
            v = 0.3f * a * sinf(TM_TWO_PI * sim->phase[0]);
            advance(&sim->phase[0], 440.0f * fj * inv_rate);
            noise = 0.002f;
            break;
        case MIC_CHIRP: { /* linear sweep 200 Hz -> 4 kHz, repeating every second */
            float tau = (float)(sim->t % sim->rate_hz) * inv_rate;
            v = 0.3f * a * sinf(TM_TWO_PI * sim->phase[0]);
            advance(&sim->phase[0], (200.0f + 3800.0f * tau) * inv_rate);
            noise = 0.002f;
            break;
        }
        case MIC_TWOTONE: /* DTMF "1" */
            v = 0.2f * a * (sinf(TM_TWO_PI * sim->phase[0]) + sinf(TM_TWO_PI * sim->phase[1]));
            advance(&sim->phase[0], 697.0f * fj * inv_rate);
            advance(&sim->phase[1], 1209.0f * fj * inv_rate);
            noise = 0.002f;
            break;
        default:
            break;
        }
        out[i] = quantize(v + noise * gauss(&sim->rng), TM_MIC_SCALE);
        sim->t++;
    }
}

/* ---- construction ----------------------------------------------------------------- */

static void sim_init(tm_sim_sensor_t *sim, uint8_t id, const tm_sensor_desc_t *desc,
                     void (*read)(tm_sensor_t *, int16_t *, uint32_t))
{
    memset(sim, 0, sizeof *sim);
    sim->base.desc = desc;
    sim->base.id = id;
    sim->base.set_scenario = sim_set_scenario;
    sim->base.set_seed = sim_set_seed;
    sim->base.start = sim_start;
    sim->base.read = read;
    sim->seed = 0x5EED0000u + id;
    sim_start(&sim->base, desc->default_rate_hz);
    sim->recording = 0;
}

void tm_sim_accel_init(tm_sim_sensor_t *sim, uint8_t id)
{
    sim_init(sim, id, &accel_desc, accel_read);
}

void tm_sim_mic_init(tm_sim_sensor_t *sim, uint8_t id)
{
    sim_init(sim, id, &mic_desc, mic_read);
}
