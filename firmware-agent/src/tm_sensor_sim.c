/* Simulated accelerometer, microphone and machine-vibration sensor behind the tm_sensor_t
 * interface.
 *
 * Each scenario differs in dominant frequency, amplitude and axis so that captured data
 * has learnable structure; each recording draws a "subject" (amplitude, frequency, tilt
 * jitter) from the seed so that recordings of one scenario are alike but not identical.
 * The vibration sensor simulates a rotating machine and its faults (tm_sensor.h). */
#include <math.h>
#include <string.h>

#include "tm_sensor.h"

#define TM_TWO_PI 6.28318530718f
#define TM_GRAVITY 9.80665f
#define TM_ACCEL_SCALE 0.002f
#define TM_MIC_SCALE (1.0f / 32768.0f)
#define TM_VIB_SCALE 0.002f

enum { ACC_IDLE, ACC_SHAKE, ACC_CIRCLE, ACC_UPDOWN, ACC_WALK, ACC_COUNT };
enum { MIC_SILENCE, MIC_NOISE, MIC_TONE, MIC_CHIRP, MIC_TWOTONE, MIC_COUNT };
enum { VIB_NORMAL, VIB_IMBALANCE, VIB_MISALIGNMENT, VIB_LOOSENESS, VIB_BEARING, VIB_COUNT };

static const char *const accel_scenarios[ACC_COUNT] = {"idle", "shake", "circle", "updown",
                                                       "walk"};
static const char *const accel_channels[3] = {"x", "y", "z"};
static const char *const accel_units[3] = {"m/s\xC2\xB2", "m/s\xC2\xB2", "m/s\xC2\xB2"};

static const char *const mic_scenarios[MIC_COUNT] = {"silence", "noise", "tone", "chirp",
                                                     "twotone"};
static const char *const mic_channels[1] = {"mic"};
static const char *const mic_units[1] = {"FS"};

static const char *const vib_scenarios[VIB_COUNT] = {"normal", "imbalance", "misalignment",
                                                     "looseness", "bearing"};
static const char *const vib_channels[3] = {"x", "y", "z"};

static const tm_sensor_desc_t accel_desc = {
    TM_SENSOR_ACCELEROMETER, TM_DTYPE_INT16, 3, TM_ACCEL_SCALE, 1u, 4000u, 100u,
    "accel", accel_channels, accel_units, accel_scenarios, ACC_COUNT, 1};

static const tm_sensor_desc_t mic_desc = {
    TM_SENSOR_MICROPHONE, TM_DTYPE_INT16, 1, TM_MIC_SCALE, 4000u, 16000u, 16000u,
    "mic", mic_channels, mic_units, mic_scenarios, MIC_COUNT, 1};

/* Rates: industrial MEMS vibration sensors run binary ladders of output rates (400 Hz x 2^k);
 * 6400 Hz is the lowest that shows the 2.2 kHz structural mode, where bearing faults ring. */
static const tm_sensor_desc_t vib_desc = {
    TM_SENSOR_VIBRATION, TM_DTYPE_INT16, 3, TM_VIB_SCALE, 400u, 12800u, 6400u,
    "vib", vib_channels, accel_units, vib_scenarios, VIB_COUNT, 1};

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

/* ---- vibration: a rotating machine ------------------------------------------------ */

/* Constants of the simulated machine (tm_sensor.h states them for users). */
#define VIB_F_NOMINAL 25.0f      /* Hz: a 4-pole motor on 50 Hz mains, 1500 rpm */
#define VIB_SLIP_RANGE 0.04f     /* speed drop from no load to full load */
#define VIB_MODE_HZ 2200.0f      /* structural mode of the housing */
#define VIB_MODE_ZETA 0.03f      /* light damping: rings ~2.4 ms, well under BPFO's period */
#define VIB_MODE_RMS 0.08f       /* m/s^2: the mode excited by flow and friction noise */
#define VIB_NOISE_RMS 0.04f      /* m/s^2: broadband floor at mean load */
/* SKF 6205 deep-groove ball bearing (the bearing of the CWRU bearing data): n = 9 balls,
 * d = 7.94 mm, pitch D = 39.04 mm, contact angle 0: BPFO = n/2 (1 - d/D cos 0) f_r. */
#define VIB_BPFO_ORDER (4.5f * (1.0f - 7.94f / 39.04f))
/* Fault amplitudes at severity 1, m/s^2 (imbalance: ISO 10816-3 zone D at 25 Hz is above
 * 11 mm/s RMS, i.e. 1.7 m/s^2 RMS or 2.4 peak; 3 puts "high" well inside it). */
#define VIB_IMBALANCE_AMP 3.0f
#define VIB_MISALIGN_AMP 2.0f
#define VIB_LOOSENESS_AMP 1.2f
#define VIB_BEARING_PEAK 5.0f

/* "low", "medium", "high" or a decimal in [0, 1] of at most 8 decimals ("0.4", "1", ".25").
 * Returns 0 for anything else. No strtof: no locale, no reading past len. */
static int parse_severity(const char *v, size_t len, float *out)
{
    if (len == 3 && memcmp(v, "low", 3) == 0) {
        *out = 0.25f;
        return 1;
    }
    if (len == 6 && memcmp(v, "medium", 6) == 0) {
        *out = 0.5f;
        return 1;
    }
    if (len == 4 && memcmp(v, "high", 4) == 0) {
        *out = 1.0f;
        return 1;
    }
    uint32_t whole = 0, frac = 0, scale = 1;
    int digits = 0, point = 0;
    for (size_t i = 0; i < len; ++i) {
        if (v[i] == '.' && !point) {
            point = 1;
        } else if (v[i] >= '0' && v[i] <= '9') {
            digits++;
            if (point) {
                if (scale == 100000000u)
                    return 0;
                frac = frac * 10u + (uint32_t)(v[i] - '0');
                scale *= 10u;
            } else {
                whole = whole * 10u + (uint32_t)(v[i] - '0');
                if (whole > 1u)
                    return 0;
            }
        } else {
            return 0;
        }
    }
    if (!digits || (whole == 1u && frac != 0u))
        return 0;
    *out = (float)whole + (float)frac / (float)scale;
    return 1;
}

static tm_error_t vib_set_scenario(tm_sensor_t *s, const char *name, size_t len)
{
    tm_sim_sensor_t *sim = (tm_sim_sensor_t *)s;
    size_t n = 0;
    while (n < len && name[n] != ':')
        n++;
    uint8_t which = VIB_COUNT;
    for (uint8_t i = 0; i < VIB_COUNT; ++i)
        if (strlen(vib_scenarios[i]) == n && memcmp(vib_scenarios[i], name, n) == 0)
            which = i;
    if (which == VIB_COUNT)
        return TM_ERR_NO_SCENARIO;
    float severity = 0.5f;
    if (n < len && (which == VIB_NORMAL || !parse_severity(name + n + 1, len - n - 1, &severity)))
        return TM_ERR_BAD_ARGUMENT;
    sim->scenario = which;
    sim->severity = which == VIB_NORMAL ? 0.0f : severity;
    return TM_OK;
}

static tm_error_t vib_start(tm_sensor_t *s, uint32_t rate_hz)
{
    tm_sim_sensor_t *sim = (tm_sim_sensor_t *)s;
    tm_error_t e = sim_start(s, rate_hz);
    if (e)
        return e;
    const float rate = (float)rate_hz;
    /* the machine of this recording: speed set-point +-7.5 %, mode +-3 % */
    sim->vib.f_set = VIB_F_NOMINAL * (1.0f + 0.75f * (sim->freq_jitter - 1.0f));
    const float f_mode = VIB_MODE_HZ * (0.97f + 0.06f * uniform(&sim->rng));
    sim->vib.residual = 0.1f + 0.3f * uniform(&sim->rng);
    sim->vib.proc_rng = mix32(tm_xorshift32(&sim->rng));
    sim->vib.load = uniform(&sim->vib.proc_rng);
    sim->vib.load_target = sim->vib.load;
    sim->vib.next_load_step = (uint32_t)((0.5f + 2.0f * uniform(&sim->vib.proc_rng)) * rate);
    sim->vib.load_alpha = 1.0f - expf(-1.0f / (0.4f * rate));
    sim->vib.shaft = 2.0f * sim->phase[0];
    sim->vib.race = sim->phase[1];

    /* the mode as a two-pole resonator; gains make its level independent of the rate */
    sim->vib.res_y1 = sim->vib.res_y2 = 0.0f;
    sim->vib.res_on = f_mode < 0.42f * rate;
    const float w = TM_TWO_PI * f_mode / rate;
    const float r = expf(-VIB_MODE_ZETA * w);
    const float wd = w * sqrtf(1.0f - VIB_MODE_ZETA * VIB_MODE_ZETA);
    const float a1 = 2.0f * r * cosf(wd), a2 = -r * r;
    sim->vib.res_a1 = a1;
    sim->vib.res_a2 = a2;
    /* stationary variance of an AR(2) process driven by unit white noise */
    const float var = (1.0f - a2) / ((1.0f + a2) * ((1.0f - a2) * (1.0f - a2) - a1 * a1));
    sim->vib.res_noise_gain = VIB_MODE_RMS / sqrtf(var);
    /* the impulse response is r^n sin((n+1) wd) / sin(wd): unit envelope with sin(wd) */
    sim->vib.res_impulse_gain = sinf(wd);
    return TM_OK;
}

static void vib_read(tm_sensor_t *s, int16_t *out, uint32_t n)
{
    tm_sim_sensor_t *sim = (tm_sim_sensor_t *)s;
    const float rate = (float)sim->rate_hz;
    const float inv_rate = 1.0f / rate;
    const float fault = sim->severity * sim->amp_jitter;

    for (uint32_t i = 0; i < n; ++i) {
        /* load steps; speed follows through slip. Drawn whatever the scenario, so a fault
         * changes nothing but its own vibration. */
        if (sim->t == sim->vib.next_load_step) {
            sim->vib.load_target = uniform(&sim->vib.proc_rng);
            sim->vib.next_load_step =
                sim->t + 1u + (uint32_t)((0.5f + 2.0f * uniform(&sim->vib.proc_rng)) * rate);
        }
        sim->vib.load += (sim->vib.load_target - sim->vib.load) * sim->vib.load_alpha;
        const float f_r = sim->vib.f_set * (1.0f + VIB_SLIP_RANGE * (0.5f - sim->vib.load));
        const float speed2 = (f_r / VIB_F_NOMINAL) * (f_r / VIB_F_NOMINAL);

        /* half shaft angle; the orders follow by complex multiplication (one sinf, one cosf) */
        const float psi = 0.5f * TM_TWO_PI * sim->vib.shaft;
        const float ch = cosf(psi), sh = sinf(psi);
        const float c1 = ch * ch - sh * sh, s1 = 2.0f * sh * ch;
        const float c2 = c1 * c1 - s1 * s1, s2 = 2.0f * s1 * c1;

        /* a healthy machine: residual imbalance and misalignment */
        const float r1 = sim->vib.residual * speed2;
        float x = r1 * c1 + 0.05f * c2;
        float y = r1 * s1 + 0.05f * s2;
        float z = 0.25f * r1 * c1 + 0.03f * c2;
        float impact = 0.0f;

        /* outer-race defect: a ball passes it BPFO times a second; slip jitters the spacing */
        sim->vib.race += VIB_BPFO_ORDER * f_r * inv_rate;
        if (sim->vib.race >= 1.0f) {
            sim->vib.race -= 1.0f + 0.02f * (uniform(&sim->vib.proc_rng) - 0.5f);
            impact = 1.0f;
        }

        switch (sim->scenario) {
        case VIB_IMBALANCE: { /* a rotating force: radial, x and y in quadrature, ~ speed^2 */
            const float a = VIB_IMBALANCE_AMP * fault * speed2;
            x += a * c1;
            y += a * s1;
            z += 0.1f * a * c1;
            break;
        }
        case VIB_MISALIGNMENT: { /* the coupling bends twice a turn: 2x, strongest axial */
            const float a = VIB_MISALIGN_AMP * fault;
            z += a * (c2 + 0.4f * c1);
            x += a * (0.35f * c2 + 0.15f * s1);
            y += a * (0.35f * s2 + 0.15f * c1);
            break;
        }
        case VIB_LOOSENESS: { /* a loose foot knocks once a turn, rocking every other turn:
                               * harmonics with aligned phases and 1/2, 3/2, 5/2 orders */
            float h = 0.0f, ck = c1, sk = s1;
            for (int k = 1; k <= 10 && (float)k * f_r < 0.45f * rate; ++k) {
                h += ck / (float)k;
                const float t = ck * c1 - sk * s1;
                sk = sk * c1 + ck * s1;
                ck = t;
            }
            const float c3h = ch * c1 - sh * s1, s3h = sh * c1 + ch * s1; /* 3/2 order */
            const float c5h = c3h * c1 - s3h * s1;                        /* 5/2 order */
            h += 0.5f * ch + 0.3f * c3h + 0.2f * c5h;
            const float a = VIB_LOOSENESS_AMP * fault;
            y += a * h;
            x += 0.4f * a * h;
            z += 0.15f * a * h;
            break;
        }
        default:
            break;
        }

        /* the structural mode: noise always, the defect's impacts in the bearing scenario */
        float input = sim->vib.res_noise_gain * gauss(&sim->rng);
        if (sim->scenario == VIB_BEARING)
            input += VIB_BEARING_PEAK * fault * sim->vib.res_impulse_gain * impact;
        const float m = sim->vib.res_a1 * sim->vib.res_y1 + sim->vib.res_a2 * sim->vib.res_y2 + input;
        sim->vib.res_y2 = sim->vib.res_y1;
        sim->vib.res_y1 = m;
        if (sim->vib.res_on) { /* mode shape: vertical strongest, axial weakest */
            x += 0.6f * m;
            y += m;
            z += 0.35f * m;
        }

        const float noise = VIB_NOISE_RMS * (0.7f + 0.6f * sim->vib.load);
        out[3 * i + 0] = quantize(x + noise * gauss(&sim->rng), TM_VIB_SCALE);
        out[3 * i + 1] = quantize(y + noise * gauss(&sim->rng), TM_VIB_SCALE);
        out[3 * i + 2] = quantize(z + noise * gauss(&sim->rng), TM_VIB_SCALE);

        sim->vib.shaft += f_r * inv_rate;
        if (sim->vib.shaft >= 2.0f)
            sim->vib.shaft -= 2.0f;
        sim->t++;
    }
}

/* ---- construction ----------------------------------------------------------------- */

static void sim_init(tm_sim_sensor_t *sim, uint8_t id, const tm_sensor_desc_t *desc,
                     void (*read)(tm_sensor_t *, int16_t *, uint32_t),
                     tm_error_t (*start)(tm_sensor_t *, uint32_t),
                     tm_error_t (*set_scenario)(tm_sensor_t *, const char *, size_t))
{
    memset(sim, 0, sizeof *sim);
    sim->base.desc = desc;
    sim->base.id = id;
    sim->base.set_scenario = set_scenario;
    sim->base.set_seed = sim_set_seed;
    sim->base.start = start;
    sim->base.read = read;
    sim->seed = 0x5EED0000u + id;
    sim->severity = 0.5f;
    start(&sim->base, desc->default_rate_hz);
    sim->recording = 0;
}

void tm_sim_accel_init(tm_sim_sensor_t *sim, uint8_t id)
{
    sim_init(sim, id, &accel_desc, accel_read, sim_start, sim_set_scenario);
}

void tm_sim_mic_init(tm_sim_sensor_t *sim, uint8_t id)
{
    sim_init(sim, id, &mic_desc, mic_read, sim_start, sim_set_scenario);
}

void tm_sim_vibration_init(tm_sim_sensor_t *sim, uint8_t id)
{
    sim_init(sim, id, &vib_desc, vib_read, vib_start, vib_set_scenario);
}
